"""`lk-forwarder test`: the events a file's lines would become, one JSON line each on
stdout, one diagnostic per skipped line on stderr; no network, no checkpoint."""
import json
import re
import subprocess

from rules_support import EXAMPLES, run_test, write_config

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def run_example(lk_binary, input_name, sample):
    proc = subprocess.run(
        [lk_binary, "test", "--config", str(EXAMPLES / "config.yaml"), "--input", input_name, str(EXAMPLES / sample)],
        capture_output=True, timeout=60,
    )
    return proc


def assert_lk_event(raw: str):
    """The lk-event contract: field order as lk-dispatch writes it, a UUID v4 id, the
    canonical timestamp, and a source with userId (possibly null), producerId and key."""
    event = json.loads(raw)
    assert list(event) == ["id", "type", "data", "timestamp", "source"]
    assert list(event["source"]) == ["userId", "producerId", "kinesisPartitionKey"]
    assert UUID_V4.match(event["id"])
    assert STAMP.match(event["timestamp"])
    assert event["type"]
    assert 1 <= len(event["source"]["kinesisPartitionKey"]) <= 256
    return event


def test_the_example_orders(lk_binary):
    proc = run_example(lk_binary, "orders", "orders.ndjson")
    assert proc.returncode == 0, proc.stderr
    raw = proc.stdout.decode().splitlines()
    events = [assert_lk_event(line) for line in raw]
    lines = (EXAMPLES / "orders.ndjson").read_text().splitlines()

    def data(line_number, key=None):
        """The original bytes of a line (or of one of its members), as the event must carry them."""
        line = lines[line_number - 1]
        if key is None:
            return line
        start = line.index(f'"{key}":') + len(key) + 3
        depth = 0
        for end in range(start, len(line)):
            depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(line[end], 0)
            if depth == 0:
                return line[start:end + 1]

    # Line 1: created with a positive total; the order object is carried byte for byte (19.90 stays 19.90).
    assert events[0]["type"] == "order-created"
    assert f',"data":{data(1, "order")},' in raw[0]
    assert '"total":19.90' in raw[0]
    assert events[0]["timestamp"] == "2024-05-01T12:00:00.120Z"
    assert events[0]["source"] == {"userId": "u-17", "producerId": "shop@example-host", "kinesisPartitionKey": "order-1001"}
    # Line 4: a cancellation, with the hand-made data object.
    assert events[1]["type"] == "order-canceled"
    assert f',"data":{{"orderId":1001,"reason":"changed mind","by":"u-17"}},' in raw[1]
    assert events[1]["source"]["kinesisPartitionKey"] == "order-1001"
    # Line 5: a server error (whole line as data, a random key), then, thanks to
    # `continue: true`, the order it created.
    assert events[2]["type"] == "shop-error"
    assert f',"data":{data(5)},' in raw[2]
    assert UUID_V4.match(events[2]["source"]["kinesisPartitionKey"])
    assert events[2]["source"]["kinesisPartitionKey"] != events[2]["id"]
    assert events[2]["source"]["userId"] is None
    assert events[2]["timestamp"] == "2024-05-01T12:00:04.250Z"
    assert events[3]["type"] == "order-created"
    assert f',"data":{data(5, "order")},' in raw[3]
    assert events[3]["source"]["userId"] == "u-19"
    # Line 9.
    assert events[4]["source"]["kinesisPartitionKey"] == "order-1005"
    assert len(events) == 5
    assert len({e["id"] for e in events}) == 5

    assert proc.stderr.decode().splitlines() == [
        "line 2: no rule matched",
        "line 3: no rule matched",
        "line 6: rule order-closed: partition_key: ${order.id} is absent or null in this line",
        f"line 7: invalid JSON at byte {len(lines[6].encode())} (unterminated object)",
        "line 8: invalid JSON at byte 1 (invalid literal)",
        "9 lines: 5 events, 2 unmatched, 2 invalid, 1 mapping error",
    ]


def test_the_example_journal(lk_binary):
    proc = run_example(lk_binary, "legacy", "journal.json")
    assert proc.returncode == 0, proc.stderr
    raw = proc.stdout.decode().splitlines()
    assert len(raw) == 1
    event = assert_lk_event(raw[0])
    assert event["type"] == "invoice-issued"
    # Journald field names as they are; MESSAGE parsed as `message`; 120.00 kept as written.
    assert ',"data":{"invoice":"INV-2024-0001","amount":120.00,"unit":"legacy-billing.service"},' in raw[0]
    assert event["source"]["kinesisPartitionKey"] == "customer-c-9"
    # The entry's own time (__REALTIME_TIMESTAMP 1714564800123456 µs), not the read time.
    assert event["timestamp"] == "2024-05-01T12:00:00.123Z"
    assert proc.stderr.decode().splitlines() == [
        "line 2: no rule matched",
        "line 3: rule legacy-invoice: partition_key: ${message.customer} is absent or null in this line",
        "3 lines: 1 event, 1 unmatched, 0 invalid, 1 mapping error",
    ]


def test_stdin_and_file_give_the_same_events(lk_binary, tmp_path):
    from_file = run_example(lk_binary, "orders", "orders.ndjson")
    events, diagnostics, rc, _ = run_test(lk_binary, EXAMPLES / "config.yaml", "orders", (EXAMPLES / "orders.ndjson").read_bytes())
    assert rc == 0
    def strip(e):
        """Without what is fresh on each run: the id, and a default (random) partition key."""
        out = {k: v for k, v in e.items() if k != "id"}
        if UUID_V4.match(e["source"]["kinesisPartitionKey"]):
            out["source"] = {k: v for k, v in e["source"].items() if k != "kinesisPartitionKey"}
        return out

    assert [strip(e) for e in events] == [strip(json.loads(l)) for l in from_file.stdout.decode().splitlines()]
    assert diagnostics == from_file.stderr.decode().splitlines()


def test_every_kind_of_skipped_line(lk_binary, tmp_path):
    inputs = '  - { name: app, type: file, paths: ["/var/log/app.ndjson"], max_line_bytes: 300 }\n'
    config = write_config(tmp_path, "  - { name: all, event: { type: t } }\n", inputs)
    long_line = json.dumps({"text": "x" * 380})
    lines = b"\n".join([
        b'{"ok":1}',
        b"",
        b'{"a":1,}',
        b'{"a":"\xc3\x28"}',
        b"[" * 129 + b"]" * 129,
        b"[1,2]",
        long_line.encode(),
        b'{"crlf":true}\r',
        b'{"last":"no newline"}',
    ])
    events, diagnostics, rc, _ = run_test(lk_binary, config, "app", lines)
    assert rc == 0
    assert [e["data"] for e in events] == [{"ok": 1}, {"crlf": True}, {"last": "no newline"}]
    assert diagnostics == [
        "line 2: empty line",
        "line 3: invalid JSON at byte 7 (expected a member name but found '}')",
        "line 4: invalid UTF-8 at byte 6",
        "line 5: JSON nested deeper than 128 levels at byte 128",
        "line 6: not a JSON object (found an array)",
        f"line 7: longer than max_line_bytes ({len(long_line)} > 300 bytes)",
        "9 lines: 3 events, 0 unmatched, 6 invalid, 0 mapping errors",
    ]


def test_touches_no_network_and_no_checkpoint(lk_binary, tmp_path):
    # A Kinesis sink on a port nothing listens on, and a state directory that does not exist.
    state = tmp_path / "state"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"state_directory: {state}\n"
        "sink: { type: kinesis, stream: s, region: eu-west-1, endpoint: 'http://127.0.0.1:9' }\n"
        "inputs: [ { name: app, type: file, paths: ['/var/log/app.ndjson'] } ]\n"
        "rules: [ { name: r, event: { type: t, partition_key: '${k}' } } ]\n")
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    proc = subprocess.run([lk_binary, "test", "--config", str(config), "--input", "app"],
                          input=b'{"k":"a"}\n{"k":"b"}\n', capture_output=True, timeout=30, env=env)
    assert proc.returncode == 0, proc.stderr
    keys = [json.loads(l)["source"]["kinesisPartitionKey"] for l in proc.stdout.decode().splitlines()]
    assert keys == ["a", "b"]
    assert not state.exists()


def test_input_errors(lk_binary, tmp_path):
    config = write_config(tmp_path, "  - { name: r, event: { type: t } }\n")
    proc = subprocess.run([lk_binary, "test", "--config", str(config), "--input", "nope"],
                          input=b"{}\n", capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"lk-forwarder: no input named 'nope' in {config} (inputs: app, journal)\n"
    proc = subprocess.run([lk_binary, "test", "--config", str(config), "--input", "app", str(tmp_path / "absent")],
                          capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert "cannot open" in proc.stderr.decode() and "No such file or directory" in proc.stderr.decode()
    broken = tmp_path / "broken.yaml"
    rule_line = "rules: [ { name: r, match: { a: x }, event: { type: t } } ]"
    broken.write_text(f"sink: {{ type: stdout }}\n{rule_line}\n")
    proc = subprocess.run([lk_binary, "test", "--config", str(broken), "--input", "app"],
                          input=b"{}\n", capture_output=True, timeout=30)
    assert proc.returncode == 1
    column = rule_line.index("x }") + 1
    assert f"{broken}:2:{column}: rules.0.match.a: a pattern value must be a list" in proc.stderr.decode()


def test_a_large_file_streams(lk_binary, tmp_path):
    config = write_config(tmp_path, '  - { name: r, match: { n: [ { numeric: [">=", 0] } ] }, event: { type: "t-${n}" } }\n')
    count = 50_000
    lines = "".join(json.dumps({"n": i, "pad": "p" * 100}) + "\n" for i in range(count))
    events, diagnostics, rc, _ = run_test(lk_binary, config, "app", lines)
    assert rc == 0
    assert len(events) == count
    assert [e["type"] for e in events[:3]] == ["t-0", "t-1", "t-2"]
    assert events[-1]["data"]["n"] == count - 1
    assert diagnostics == [f"{count} lines: {count} events, 0 unmatched, 0 invalid, 0 mapping errors"]
