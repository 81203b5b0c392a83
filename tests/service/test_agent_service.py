"""`lk-forwarder run` as a service: READY/STATUS/STOPPING/RELOADING on a real
NOTIFY_SOCKET, watchdog pings that stop while the agent is frozen, /health, and /metrics
scraped while it runs and parsed with prometheus_client, counters matching what was sent."""
import json
import pathlib
import re
import signal
import time

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "operations.md"

CONFIG = """
producer_id: "test@host"
state_directory: "{tmp}/state"
metrics_listen: "127.0.0.1:{{metrics_port}}"
log_level: debug
sink:
  type: file
  path: "{tmp}/events.ndjson"
inputs:
  - name: app
    type: file
    paths: ["{tmp}/logs/*.ndjson"]
    start_at: beginning
rules:
  - name: order-created
    match: {{ action: ["create"] }}
    event: {{ type: order-created, partition_key: "${{order.id}}" }}
  - name: order-cancelled
    match: {{ action: ["cancel"] }}
    event: {{ type: order-cancelled }}
"""


def lines(action: str, count: int, start: int = 0) -> list[str]:
    return [json.dumps({"action": action, "order": {"id": f"o-{start + i}", "total": 3}}) for i in range(count)]


def wait_until(condition, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "logs").mkdir()
    return tmp_path


def config(workspace) -> str:
    return CONFIG.format(tmp=workspace)


def documented_metrics() -> set[str]:
    """The metric names in the table of docs/operations.md."""
    return set(re.findall(r"^\| `(lk_[a-z_]+)`", DOCS.read_text(), re.M))


def sample(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_scrape_while_running_counts_what_was_sent(start_agent, workspace):
    log = workspace / "logs" / "orders.ndjson"
    first = lines("create", 7) + lines("cancel", 4) + lines("view", 3) + ["{not json", '{"action": "create"']
    log.write_text("\n".join(first) + "\n")
    agent = start_agent(config(workspace))
    agent.wait_ready()
    events = workspace / "events.ndjson"

    def delivered(count):
        return events.exists() and len(events.read_text().splitlines()) >= count

    wait_until(lambda: delivered(11), what="11 events in the file sink")
    app = dict(input="app")
    file = dict(input="app", path=str(log))

    def settled(expected_lines):
        samples = agent.scrape()
        return samples if sample(samples, "lk_lines_read_total", **app) == expected_lines else None

    samples = wait_until(lambda: settled(16), what="16 lines counted")
    assert sample(samples, "lk_bytes_read_total", **app) == log.stat().st_size - 16  # without the newlines
    assert sample(samples, "lk_events_total", rule="order-created") == 7
    assert sample(samples, "lk_events_total", rule="order-cancelled") == 4
    assert sample(samples, "lk_lines_unmatched_total", **app) == 3
    assert sample(samples, "lk_lines_invalid_total", input="app", reason="invalid") == 2
    wait_until(lambda: sample(agent.scrape(), "lk_records_put_total") == 11, what="11 records put")

    # Counters move while the agent runs: what a scrape sees is live.
    with log.open("a") as f:
        f.write("\n".join(lines("create", 5, start=100)) + "\n")
    wait_until(lambda: delivered(16), what="16 events in the file sink")
    samples = wait_until(lambda: settled(21), what="21 lines counted")
    assert sample(samples, "lk_events_total", rule="order-created") == 12
    wait_until(lambda: sample(agent.scrape(), "lk_records_put_total") == 16, what="16 records put")
    # The per-file gauges are published every few seconds.
    samples = wait_until(lambda: (lambda s: s if sample(s, "lk_file_size_bytes", **file) == log.stat().st_size
                                  else None)(agent.scrape()), what="the file's size published")
    assert sample(samples, "lk_file_offset_bytes", **file) == log.stat().st_size
    assert sample(samples, "lk_file_bytes_behind", **file) == 0
    assert sample(samples, "lk_input_bytes_behind", **app) == 0
    wait_until(lambda: (sample(agent.scrape(), "lk_checkpoint_commits_total", **app) or 0) >= 1,
               what="a checkpoint commit")

    # Every metric the agent exposes is in the operator documentation.
    exposed = {re.sub(r"_(bucket|sum|count)$", "", name) for name, _ in agent.scrape()}
    assert exposed - documented_metrics() == set()

    assert agent.stop() == 0
    agent.notify.wait_for("STOPPING", "1")


def test_ready_status_health_and_reload(start_agent, workspace):
    agent = start_agent(config(workspace))
    ready_at = agent.wait_ready()
    assert any(value for _, value in agent.notify.assignments("STATUS"))
    status, _, body = agent.get("/health")
    assert (status, body) == (200, "ok\n")

    agent.process.send_signal(signal.SIGHUP)
    reloading_at = agent.notify.wait_for("RELOADING", "1", after=ready_at)
    agent.notify.wait_for("READY", "1", after=reloading_at)
    assert agent.process.poll() is None

    assert agent.stop() == 0
    agent.notify.wait_for("STOPPING", "1")


def test_watchdog_pings_stop_while_the_agent_is_frozen(start_agent, workspace):
    agent = start_agent(config(workspace), watchdog_usec=1_000_000)
    agent.wait_ready()
    first = agent.notify.wait_for("WATCHDOG", "1")
    agent.notify.wait_for("WATCHDOG", "1", after=first)

    # Times on the clock of the kernel's datagram stamps.
    frozen_at = time.time()
    agent.process.send_signal(signal.SIGSTOP)
    time.sleep(2.5)
    thawed_at = time.time()
    agent.process.send_signal(signal.SIGCONT)
    agent.notify.wait_for("WATCHDOG", "1", after=thawed_at)

    pings = [at for at, value in agent.notify.assignments("WATCHDOG") if value == "1"]
    # Half the interval between pings while alive; nothing while frozen.
    # A SIGSTOP takes effect at once; the margin only covers a ping being sent as it lands.
    assert not [at for at in pings if frozen_at + 0.05 < at < thawed_at]
    assert agent.stop() == 0


def test_metrics_address_in_use_fails_with_a_clear_message(start_agent, workspace, tmp_path):
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        agent = start_agent(config(workspace).replace("{metrics_port}", str(port)))
        code = agent.process.wait(timeout=30)
        assert code == 2
        assert f"metrics_listen 127.0.0.1:{port}" in agent.log()


def test_a_slow_sink_shows_as_time_the_input_waits_for_budget(start_agent, workspace, fault_proxy, kinesis_stream,
                                                               aws_env):
    """Backpressure is visible: while Kinesis holds every request and the buffer budget is
    full, the input stops reading and lk_input_blocked_seconds_total grows; once Kinesis
    answers at once again, everything is delivered."""
    log = workspace / "logs" / "orders.ndjson"
    log.touch()
    fault_proxy.stall(1.5, count=None)
    agent = start_agent(f"""
producer_id: "test@host"
state_directory: "{workspace}/state"
metrics_listen: "127.0.0.1:{{metrics_port}}"
sink:
  type: kinesis
  stream: {kinesis_stream}
  endpoint: "{fault_proxy.url}"
  max_in_flight: 2
  batch: {{ max_records: 10, max_delay: 10ms }}
  max_buffered_events: 40
inputs:
  - {{ name: app, type: file, paths: ["{log}"], start_at: beginning }}
rules:
  - {{ name: order-created, event: {{ type: order-created, partition_key: "${{order.id}}" }} }}
""", extra_env=aws_env)
    agent.wait_ready()
    app = dict(input="app")
    # Ten appends of 30 lines: the first fills most of the budget of 40 events, the second
    # waits for it (every request is held 1.5 s), and the input reads no further meanwhile.
    for start in range(0, 300, 30):
        with log.open("a") as f:
            f.write("\n".join(lines("create", 30, start=start)) + "\n")
        time.sleep(0.05)
    time.sleep(2.5)
    samples = agent.scrape()
    assert sample(samples, "lk_input_blocked_seconds_total", **app) > 1.0, "counted while the wait goes on"
    assert sample(samples, "lk_lines_read_total", **app) < 300, "the input stopped reading at the budget"

    fault_proxy.clear_faults()
    wait_until(lambda: sample(agent.scrape(), "lk_records_put_total") == 300, timeout=30, what="300 records put")
    blocked = sample(agent.scrape(), "lk_input_blocked_seconds_total", **app)
    assert agent.stop() == 0
    assert len(fault_proxy.accepted_records()) == 300
    assert blocked > 1.0
