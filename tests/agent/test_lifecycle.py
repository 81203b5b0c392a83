"""The agent's life as a process: kill -9 at random moments during rotations, a clean
SIGTERM under load, and SIGHUP reloads (good and broken configurations)."""
from __future__ import annotations

import json
import os
import random
import signal
import threading
import time

from harness.agent import read_stream, wait_for
from harness.agent import accepted_numbers, assert_all_delivered_in_key_order, config_text, write_numbers


class RotatingWriter(threading.Thread):
    """Appends numbered lines to app.ndjson and rotates it (rename to app.ndjson.N,
    create anew) every `rotate_every` lines, as logrotate's default does."""

    def __init__(self, directory, rate: int, rotate_every: int, seed: int):
        super().__init__(daemon=True)
        self.directory = directory
        self.rate = rate
        self.rotate_every = rotate_every
        self.random = random.Random(seed)
        self.written = 0
        self.rotations = 0
        self.stopping = threading.Event()

    def run(self):
        path = self.directory / "app.ndjson"
        f = open(path, "a")
        while not self.stopping.is_set():
            for _ in range(max(1, self.rate // 20)):
                f.write(json.dumps({"n": self.written, "key": self.written % 8, "pad": "y" * 80}) + "\n")
                self.written += 1
                if self.written % self.rotate_every == 0:
                    f.close()
                    self.rotations += 1
                    os.rename(path, self.directory / f"app.ndjson.{self.rotations}")
                    f = open(path, "a")
            f.flush()
            time.sleep(0.05)
        f.close()


def test_kill_9_at_random_moments_during_rotations_loses_nothing(make_agent, kinesis_stream, fault_proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    window = 300
    config = config_text(state, logs, kinesis_stream, fault_proxy.url, f"  max_buffered_events: {window}").replace(
        '"{}/*.ndjson"'.format(logs), '"{}/app.ndjson*"'.format(logs))
    agent = make_agent(config)
    writer = RotatingWriter(logs, rate=400, rotate_every=350, seed=7)
    writer.start()
    rng = random.Random(11)
    kills = 10
    try:
        for _ in range(kills):
            agent.start()
            time.sleep(rng.uniform(0.2, 1.5))
            agent.kill()
    finally:
        writer.stopping.set()
        writer.join()
    agent.start()
    total = writer.written
    wait_for(lambda: len({n for _, n in accepted_numbers(fault_proxy)}) >= total, 120, "every number after the kills")
    assert agent.stop() == 0
    accepted = accepted_numbers(fault_proxy)
    assert_every_number_delivered(accepted, total)
    repeats = len(accepted) - total
    assert writer.rotations >= 5
    # Only events read and not yet committed can come again: at most the window per kill.
    assert repeats <= kills * window, f"{repeats} repeats for {kills} kills"


def assert_every_number_delivered(accepted, total):
    numbers = {n for _, n in accepted}
    assert numbers == set(range(total)), f"missing: {sorted(set(range(total)) - numbers)[:20]}"


def test_sigterm_under_load_drains_commits_and_a_restart_sends_nothing_again(make_agent, kinesis_stream, fault_proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    total = 5000
    write_numbers(logs / "a.ndjson", 0, total)
    # Slow Kinesis down so that the stop comes while requests are in flight; the buffer
    # (what is read and not committed) is small enough to drain within drain_timeout.
    fault_proxy.stall(0.05, count=None)
    agent = make_agent(config_text(state, logs, kinesis_stream, fault_proxy.url, "  max_buffered_events: 2000"))
    agent.start()
    wait_for(lambda: len(accepted_numbers(fault_proxy)) >= 300, 60, "delivery under way")
    started = time.monotonic()
    code = agent.stop(timeout=20)
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 12, f"stopped in {elapsed:.1f}s (drain_timeout is 10s)"
    assert agent.seen("STOPPING=1")
    fault_proxy.clear_faults()
    delivered_before = accepted_numbers(fault_proxy)
    assert len(delivered_before) == len({n for _, n in delivered_before}), "no repeats before the restart"

    agent.start()
    wait_for(lambda: len({n for _, n in accepted_numbers(fault_proxy)}) >= total, 120, "the rest after the restart")
    assert agent.stop() == 0
    accepted = accepted_numbers(fault_proxy)
    assert_all_delivered_in_key_order(accepted, total)
    assert len(accepted) == total, f"{len(accepted) - total} events sent again after a clean stop"


def test_sighup_applies_a_new_rule_without_loss_and_refuses_a_broken_config(make_agent, moto_server, kinesis_stream, fault_proxy, workdir):
    logs, state = workdir / "logs", workdir / "state"
    logs.mkdir()
    agent = make_agent(config_text(state, logs, kinesis_stream, fault_proxy.url))
    agent.start()
    write_numbers(logs / "a.ndjson", 0, 100)
    wait_for(lambda: len(accepted_numbers(fault_proxy)) >= 100, 60, "the first hundred")

    agent.config.write_text(agent.config.read_text().replace("type: numbered", "type: renumbered"))
    agent.signal(signal.SIGHUP)
    wait_for(lambda: "new rules in force" in agent.log(), 20, "the reload")
    write_numbers(logs / "a.ndjson", 100, 100)
    wait_for(lambda: len(accepted_numbers(fault_proxy)) >= 200, 60, "the second hundred")

    good = agent.config.read_text()
    agent.config.write_text(good + "\nnot_a_key: 1\n")
    agent.signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in agent.log(), 20, "the refusal")
    assert "not_a_key" in agent.log()
    write_numbers(logs / "a.ndjson", 200, 100)
    wait_for(lambda: len(accepted_numbers(fault_proxy)) >= 300, 60, "the third hundred, with the old config")
    assert agent.process.poll() is None
    assert agent.stop() == 0

    events = [r["event"] for r in read_stream(moto_server, kinesis_stream)]
    types = {e["data"]["n"]: e["type"] for e in events}
    assert sorted(types) == list(range(300))
    assert all(types[n] == "numbered" for n in range(100))
    assert all(types[n] == "renumbered" for n in range(100, 300))
