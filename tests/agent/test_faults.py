"""Delivery under faults injected for real by a fault_proxy in front of moto: partial
failures, whole-request 500/503 and throttling, dropped connections, and an outage.
Every event arrives, only failed records are sent again, order per key holds, and memory
stays bounded while the sink is down."""
from __future__ import annotations

import time

from harness.agent import accepted_numbers, assert_all_delivered_in_key_order, config_text, wait_for, write_numbers

def test_only_failed_records_are_sent_again_and_order_per_key_holds(make_agent, kinesis_stream, fault_proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    total = 3000
    # A third of the records of the first 15 requests throttled, then InternalFailure on a
    # quarter of the next 5, whole-request 500, 503 and 400-throttling answers, and
    # dropped connections (not forwarded, so nothing of them is accepted).
    fault_proxy.fail_records(share=0.33, requests=15, seed=1)
    fault_proxy.fail_records(share=0.25, code="InternalFailure", requests=5, seed=2)
    fault_proxy.fail_requests(status=500, count=2)
    fault_proxy.fail_requests(status=503, code="ServiceUnavailable", count=2, body="html")
    fault_proxy.throttle_requests(count=2)
    fault_proxy.drop_connections(count=2)
    fault_proxy.drop_connections(count=1, reset=True)
    write_numbers(logs / "a.ndjson", 0, total)
    agent = make_agent(config_text(state, logs, kinesis_stream, fault_proxy.url)).start()
    wait_for(lambda: len({n for _, n in accepted_numbers(fault_proxy)}) >= total, 120, "every number accepted")
    assert agent.stop() == 0

    stats = fault_proxy.stats()
    accepted = accepted_numbers(fault_proxy)
    assert_all_delivered_in_key_order(accepted, total)
    # Nothing was accepted twice: no fault here loses an answer after moto accepted.
    assert len(accepted) == total
    # Only what failed was sent again: every record received beyond the first copy of
    # each is accounted for by an injected per-record failure or a failed request.
    failed_in_requests = sum(len(entry.records) for entry in fault_proxy.request_log() if entry.fault is not None)
    assert stats["records_received"] == total + stats["records_failed_injected"] + failed_in_requests
    assert stats["records_failed_injected"] > 0 and failed_in_requests > 0


def test_outage_of_a_minute_loses_nothing_and_memory_stays_bounded(make_agent, kinesis_stream, fault_proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    agent = make_agent(config_text(state, logs, kinesis_stream, fault_proxy.url,
                                   "  max_buffered_events: 1000\n  max_buffered_bytes: 4MiB")).start()
    write_numbers(logs / "a.ndjson", 0, 200)
    wait_for(lambda: len(accepted_numbers(fault_proxy)) >= 200, 60, "the first numbers")
    fault_proxy.outage(60, mode="refuse")
    started = time.monotonic()
    # A backlog much larger than the buffer arrives while Kinesis is unreachable.
    write_numbers(logs / "a.ndjson", 200, 10_000)
    rss_during = []
    while time.monotonic() - started < 55:
        rss_during.append(agent.rss_kib())
        time.sleep(5)
    wait_for(lambda: len({n for _, n in accepted_numbers(fault_proxy)}) >= 10_200, 240, "the backlog after the outage")
    assert agent.stop() == 0
    assert_all_delivered_in_key_order(accepted_numbers(fault_proxy), 10_200)
    # The buffer holds at most 1,000 events: the agent stopped reading instead of growing.
    assert max(rss_during) < 64 * 1024, f"peak RSS {max(rss_during)} KiB"
    assert rss_during[-1] - rss_during[1] < 8 * 1024, f"RSS grew during the outage: {rss_during}"
