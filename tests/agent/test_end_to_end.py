"""`lk-forwarder run` end to end: what reaches the stream is exactly what
`lk-forwarder test` prints for the same lines (apart from ids and read-time timestamps),
for a file input and a journald input, through moto with signature checking on."""
from __future__ import annotations

import json
import subprocess

from harness.agent import read_stream, wait_for

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"


def write_journal(directory, entries: list[dict[str, str]]):
    """A journal file made by systemd-journal-remote from the export format."""
    export = b""
    for i, fields in enumerate(entries):
        base = {"__REALTIME_TIMESTAMP": str(1_700_000_000_000_000 + i * 1000), "__MONOTONIC_TIMESTAMP": str(1000 + i)}
        for key, value in {**base, **fields}.items():
            export += f"{key}={value}\n".encode()
        export += b"\n"
    subprocess.run(
        [JOURNAL_REMOTE, f"--output={directory}/remote.journal", "--split-mode=none", "-"],
        input=export, check=True, capture_output=True,
    )


def config_text(state, logs, journal, stream, endpoint) -> str:
    return f"""
producer_id: "e2e@test-host"
state_directory: {state}
sink:
  type: kinesis
  stream: {stream}
  region: us-east-1
  endpoint: "{endpoint}"
  max_in_flight: 4
  batch: {{ max_records: 50, max_delay: 50ms }}
inputs:
  - name: orders
    type: file
    paths: ["{logs}/*.ndjson"]
    start_at: beginning
  - name: legacy
    type: journald
    directory: {journal}
    start_at: beginning
    parse_message: json
rules:
  - name: order
    input: orders
    match: {{ action: ["create", "cancel"] }}
    event:
      type: "order-${{action}}"
      data: "${{order}}"
      user_id: "${{user.id}}"
      partition_key: "${{order.id}}"
    continue: true
  - name: audit
    input: orders
    match: {{ action: ["cancel"] }}
    event:
      type: order-audit
  - name: payment
    input: legacy
    match: {{ message: {{ kind: ["payment"] }} }}
    event:
      type: payment-received
      data: "${{message}}"
      partition_key: "${{message.account}}"
"""


RANDOM_KEY_TYPES = {"order-audit"}  # rules without partition_key: a fresh UUID v4 each time


def without_read_time(event: dict, keep_timestamp: bool) -> dict:
    """The event without what differs between two runs: its id, a read-time timestamp,
    and a random partition key."""
    copy = dict(event)
    copy.pop("id")
    if not keep_timestamp:
        copy.pop("timestamp")
    if copy["type"] in RANDOM_KEY_TYPES:
        copy["source"] = {**copy["source"], "kinesisPartitionKey": "<random>"}
    return copy


def test_stream_receives_exactly_what_test_prints(lk_binary, make_agent, moto_server, kinesis_stream, fault_proxy, workdir):
    logs, state, journal = workdir / "logs", workdir / "state", workdir / "journal"
    for d in (logs, state, journal):
        d.mkdir()
    lines = [
        '{"action":"create","order":{"id":1,"total":"19.90","note":"caf\\u00e9 ☕"},"user":{"id":"u1"}}',
        '{"action":"view","order":{"id":2}}',
        'not json at all',
        '{"action":"cancel","order":{"id":3,"big":12345678901234567890},"user":{}}',
        '{"action":"create","order":{"id":1,"total":"5.00"},"user":{"id":"u2"}}',
    ]
    (logs / "app.ndjson").write_text("\n".join(lines) + "\n")
    write_journal(journal, [
        {"_SYSTEMD_UNIT": "legacy.service", "SYSLOG_IDENTIFIER": "legacy",
         "MESSAGE": '{"kind":"payment","account":"a-1","amount":5}'},
        {"_SYSTEMD_UNIT": "legacy.service", "SYSLOG_IDENTIFIER": "legacy", "MESSAGE": "plain text"},
        {"_SYSTEMD_UNIT": "legacy.service", "SYSLOG_IDENTIFIER": "legacy",
         "MESSAGE": '{"kind":"payment","account":"a-2","amount":7.50}'},
    ])
    agent = make_agent(config_text(state, logs, journal, kinesis_stream, fault_proxy.url)).start()
    expected_count = 3 + 1 + 2  # create, create, cancel + audit, two payments
    try:
        wait_for(lambda: len(fault_proxy.accepted_records()) >= expected_count, 60, "every event accepted")
    finally:
        print("proxy:", fault_proxy.stats())
    assert agent.stop() == 0
    records = read_stream(moto_server, kinesis_stream)
    assert len(records) == expected_count

    config = str(agent.config)
    printed_files = subprocess.run([lk_binary, "test", "--config", config, "--input", "orders", str(logs / "app.ndjson")],
                                   capture_output=True, text=True, check=True)
    assert "line 2: no rule matched" in printed_files.stderr
    assert "line 3: invalid JSON" in printed_files.stderr
    journal_json = subprocess.run(["journalctl", "-o", "json", "--directory", str(journal)],
                                  capture_output=True, check=True).stdout
    printed_journal = subprocess.run([lk_binary, "test", "--config", config, "--input", "legacy"],
                                     input=journal_json, capture_output=True, check=True)

    from_test = [json.loads(l) for l in printed_files.stdout.splitlines()]
    from_journal_test = [json.loads(l) for l in printed_journal.stdout.decode().splitlines()]
    on_stream = [r["event"] for r in records]
    for record in records:
        assert record["key"] == record["event"]["source"]["kinesisPartitionKey"]

    assert sorted(json.dumps(without_read_time(e, False), sort_keys=True) for e in on_stream if e["type"] != "payment-received") \
        == sorted(json.dumps(without_read_time(e, False), sort_keys=True) for e in from_test)
    # journald events keep the entry's own time, so the timestamps match too.
    assert [without_read_time(e, True) for e in on_stream if e["type"] == "payment-received"] \
        == [without_read_time(e, True) for e in from_journal_test]
    assert from_journal_test[0]["timestamp"] == "2023-11-14T22:13:20.000Z"
    # Data is carried byte for byte.
    raw = [r for r in records if r["event"]["type"] == "order-cancel"][0]
    assert raw["event"]["data"]["big"] == 12345678901234567890
