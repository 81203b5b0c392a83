"""Delivery under faults injected for real by a proxy in front of moto: partial
failures, whole-request 500/503 and throttling, dropped connections, and an outage.
Every event arrives, only failed records are sent again, order per key holds, and memory
stays bounded while the sink is down."""
from __future__ import annotations

import json
import time

from conftest import wait_for

KEYS = 8


def config_text(state, logs, stream, endpoint, extra_sink: str = "") -> str:
    return f"""
producer_id: "faults@test"
state_directory: {state}
sink:
  type: kinesis
  stream: {stream}
  region: us-east-1
  endpoint: "{endpoint}"
  max_in_flight: 4
  batch: {{ max_records: 100, max_delay: 20ms }}
{extra_sink}
inputs:
  - name: numbers
    type: file
    paths: ["{logs}/*.ndjson"]
rules:
  - name: numbered
    event:
      type: numbered
      partition_key: "k${{key}}"
"""


def write_numbers(path, start: int, count: int):
    with open(path, "a") as f:
        for n in range(start, start + count):
            f.write(json.dumps({"n": n, "key": n % KEYS, "pad": "x" * 100}) + "\n")


def accepted_numbers(proxy) -> list[tuple[str, int]]:
    """(partition key, n) of every record moto accepted, in the order it accepted them."""
    return [(key, json.loads(data)["data"]["n"]) for key, data in proxy.accepted_records()]


def assert_all_delivered_in_key_order(accepted: list[tuple[str, int]], total: int):
    numbers = {n for _, n in accepted}
    assert numbers == set(range(total)), f"missing: {sorted(set(range(total)) - numbers)[:20]}"
    by_key: dict[str, list[int]] = {}
    for key, n in accepted:
        by_key.setdefault(key, []).append(n)
    for key, ns in by_key.items():
        firsts = [n for i, n in enumerate(ns) if n not in ns[:i]]
        assert firsts == sorted(firsts), f"key {key} out of order: {firsts[:30]}"


def test_only_failed_records_are_sent_again_and_order_per_key_holds(make_agent, stream, proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    total = 3000
    # A third of the records of the first 15 requests throttled, then InternalFailure on a
    # quarter of the next 5, whole-request 500, 503 and 400-throttling answers, and
    # dropped connections (not forwarded, so nothing of them is accepted).
    proxy.fail_records(share=0.33, requests=15, seed=1)
    proxy.fail_records(share=0.25, code="InternalFailure", requests=5, seed=2)
    proxy.fail_requests(status=500, count=2)
    proxy.fail_requests(status=503, code="ServiceUnavailable", count=2, body="html")
    proxy.throttle_requests(count=2)
    proxy.drop_connections(count=2)
    proxy.drop_connections(count=1, reset=True)
    write_numbers(logs / "a.ndjson", 0, total)
    agent = make_agent(config_text(state, logs, stream, proxy.url)).start()
    wait_for(lambda: len({n for _, n in accepted_numbers(proxy)}) >= total, 120, "every number accepted")
    assert agent.stop() == 0

    stats = proxy.stats()
    accepted = accepted_numbers(proxy)
    assert_all_delivered_in_key_order(accepted, total)
    # Nothing was accepted twice: no fault here loses an answer after moto accepted.
    assert len(accepted) == total
    # Only what failed was sent again: every record received beyond the first copy of
    # each is accounted for by an injected per-record failure or a failed request.
    failed_in_requests = sum(len(entry.records) for entry in proxy.request_log() if entry.fault is not None)
    assert stats["records_received"] == total + stats["records_failed_injected"] + failed_in_requests
    assert stats["records_failed_injected"] > 0 and failed_in_requests > 0


def test_outage_of_a_minute_loses_nothing_and_memory_stays_bounded(make_agent, stream, proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    agent = make_agent(config_text(state, logs, stream, proxy.url,
                                   "  max_buffered_events: 1000\n  max_buffered_bytes: 4MiB")).start()
    write_numbers(logs / "a.ndjson", 0, 200)
    wait_for(lambda: len(accepted_numbers(proxy)) >= 200, 60, "the first numbers")
    proxy.outage(60, mode="refuse")
    started = time.monotonic()
    # A backlog much larger than the buffer arrives while Kinesis is unreachable.
    write_numbers(logs / "a.ndjson", 200, 10_000)
    rss_during = []
    while time.monotonic() - started < 55:
        rss_during.append(agent.rss_kib())
        time.sleep(5)
    wait_for(lambda: len({n for _, n in accepted_numbers(proxy)}) >= 10_200, 240, "the backlog after the outage")
    assert agent.stop() == 0
    assert_all_delivered_in_key_order(accepted_numbers(proxy), 10_200)
    # The buffer holds at most 1,000 events: the agent stopped reading instead of growing.
    assert max(rss_during) < 64 * 1024, f"peak RSS {max(rss_during)} KiB"
    assert rss_during[-1] - rss_during[1] < 8 * 1024, f"RSS grew during the outage: {rss_during}"
