"""The journald input against a real systemd-journald.

journald runs in a private mount namespace (tests/harness/journald.py): its socket and
its journal live on a private tmpfs, so nothing is written to the host's journal. The
input runs inside the same namespace as `lk-bench journal-read --follow --print`, which
reads the local system journal with the journald input and prints each entry's JSON line.
"""
import json
import queue
import subprocess
import threading
import time
import uuid

import pytest

from harness.journald import PrivateJournald

WAIT = 15.0


class Follower:
    """`lk-bench journal-read --follow --print` inside the namespace, its lines parsed."""

    def __init__(self, journald: PrivateJournald, lk_bench: str, *args: str):
        self.proc = journald.popen([lk_bench, "journal-read", "--follow", "--print", "--start-at", "end", *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: "queue.Queue[dict]" = queue.Queue()
        self.received: list[dict] = []
        self.stderr: list[str] = []
        self.ready = threading.Event()
        self.threads = [threading.Thread(target=self._read_stdout, daemon=True),
                        threading.Thread(target=self._read_stderr, daemon=True)]
        for thread in self.threads:
            thread.start()
        if not self.ready.wait(WAIT):
            self.stop()
            pytest.fail(f"the input did not become ready: {self.stderr}")

    def _read_stdout(self) -> None:
        for raw in self.proc.stdout:
            self.lines.put(json.loads(raw))

    def _read_stderr(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.stderr.append(line)
            if line == "ready":
                self.ready.set()

    def until(self, predicate, what: str) -> dict:
        """Collects entries until one satisfies `predicate`; returns it."""
        deadline = time.monotonic() + WAIT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"timed out waiting for {what}; received {len(self.received)} entries, stderr {self.stderr}")
            try:
                entry = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.received.append(entry)
            if predicate(entry):
                return entry

    def stop(self) -> list[dict]:
        """Stops the input; returns every entry it printed."""
        self.proc.terminate()
        self.proc.wait(timeout=WAIT)
        for thread in self.threads:
            thread.join(timeout=WAIT)
        while not self.lines.empty():
            self.received.append(self.lines.get())
        return self.received


def cat(journald: PrivateJournald, identifier: str, message: str) -> None:
    journald.run(["systemd-cat", "-t", identifier, "echo", message], check=True)


def logger(journald: PrivateJournald, identifier: str, message: str, **fields: str) -> None:
    lines = [f"MESSAGE={message}", f"SYSLOG_IDENTIFIER={identifier}"] + [f"{k}={v}" for k, v in fields.items()]
    journald.run(["logger", "--journald"], input="\n".join(lines) + "\n", text=True, check=True)


@pytest.fixture
def journald(as_root):
    with PrivateJournald() as daemon:
        yield daemon


def test_lines_from_systemd_cat_and_logger_reach_the_input_live(journald, lk_bench):
    tag = uuid.uuid4().hex[:12]
    follower = Follower(journald, lk_bench)

    cat(journald, f"lk-cat-{tag}", f"from systemd-cat {tag}")
    first = follower.until(lambda e: e.get("MESSAGE") == f"from systemd-cat {tag}", "the systemd-cat line")
    # Written only once the first arrived: the input follows the journal live.
    logger(journald, f"lk-logger-{tag}", f"from logger {tag}", ORDER_ID="7")
    second = follower.until(lambda e: e.get("MESSAGE") == f"from logger {tag}", "the logger line")
    follower.stop()

    assert first["SYSLOG_IDENTIFIER"] == f"lk-cat-{tag}"
    assert first["_TRANSPORT"] == "stdout"
    assert second["SYSLOG_IDENTIFIER"] == f"lk-logger-{tag}"
    assert second["_TRANSPORT"] == "journal"
    assert second["ORDER_ID"] == "7"
    for entry in (first, second):
        for field in ("__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID", "_PID"):
            assert isinstance(entry[field], str) and entry[field]

    # The same objects journalctl prints for these entries of the private journal.
    printed = journald.run(["journalctl", "-o", "json", "--no-pager"], capture_output=True, check=True).stdout
    by_cursor = {e["__CURSOR"]: e for e in map(json.loads, printed.splitlines())}
    assert by_cursor[first["__CURSOR"]] == first
    assert by_cursor[second["__CURSOR"]] == second


def test_a_syslog_identifier_match_keeps_only_its_lines(journald, lk_bench):
    tag = uuid.uuid4().hex[:12]
    keep, other = f"lk-keep-{tag}", f"lk-other-{tag}"
    everything = Follower(journald, lk_bench)
    kept = Follower(journald, lk_bench, "--match", f"SYSLOG_IDENTIFIER={keep}")

    cat(journald, other, "other 1")
    logger(journald, keep, "keep 1")
    logger(journald, other, "other 2")
    cat(journald, keep, "keep 2")
    cat(journald, other, "other 3")
    # Once the unfiltered input has seen every line, they are all in the journal; the
    # last line, written after that, lies beyond all of them.
    expected_all = {"other 1", "keep 1", "other 2", "keep 2", "other 3"}
    seen: set[str] = set()
    everything.until(lambda e: seen.add(e.get("MESSAGE")) or expected_all <= seen, "every line in the unfiltered input")
    logger(journald, keep, "keep last")
    kept.until(lambda e: e.get("MESSAGE") == "keep last", "the last kept line")

    received = kept.stop()
    everything.stop()
    # journald may take the stdout stream's line and the logger datagram in either order.
    assert sorted(e["MESSAGE"] for e in received) == ["keep 1", "keep 2", "keep last"]
    assert received[-1]["MESSAGE"] == "keep last"
    assert {e["SYSLOG_IDENTIFIER"] for e in received} == {keep}
