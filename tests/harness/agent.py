"""`lk-forwarder run` as a real process for the end-to-end tests: it reports READY=1 on a
real NOTIFY_SOCKET and is stopped with real signals; and the helpers those tests share
(a numbered-lines workload, reading what reached the stream, waiting on a condition)."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
import uuid

from .kinesis import read_records


def read_stream(moto, stream: str) -> list[dict]:
    """Every record on the stream, in shard order: its partition key and its data as JSON.
    Read once the writers are done (moto may fail a GetRecords during writes)."""
    return [{"key": r.partition_key, "event": json.loads(r.data)} for r in read_records(moto, stream)]


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Agent:
    """`lk-forwarder run` as a child process, with a NOTIFY_SOCKET of the test's own."""

    def __init__(self, binary: str, config: pathlib.Path, env: dict[str, str], workdir: pathlib.Path):
        self.binary = binary
        self.config = config
        self.env = env
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.notifications: list[str] = []
        self.stderr_path = workdir / "agent.stderr"
        self._socket_path = str(workdir / f"notify-{uuid.uuid4().hex[:6]}.sock")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self._socket_path)
        self._socket.settimeout(0.1)
        self._lock = threading.Lock()
        self._listener = threading.Thread(target=self._listen, daemon=True)
        self._closed = False
        self._listener.start()

    def _listen(self):
        while not self._closed:
            try:
                data = self._socket.recv(4096)
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.notifications.extend(data.decode().splitlines())

    def start(self, wait_ready: bool = True) -> "Agent":
        env = {**os.environ, **self.env, "NOTIFY_SOCKET": self._socket_path}
        with self._lock:
            self.notifications.clear()
        self.stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "run", "--config", str(self.config)],
            env=env, stdout=subprocess.DEVNULL, stderr=self.stderr,
        )
        if wait_ready:
            self.wait_notification("READY=1", timeout=30)
        return self

    def seen(self, text: str) -> bool:
        with self._lock:
            return text in self.notifications

    def wait_notification(self, text: str, timeout: float):
        def ready():
            if self.process and self.process.poll() is not None:
                raise AssertionError(f"agent exited with {self.process.returncode}:\n{self.log()}")
            return self.seen(text)

        wait_for(ready, timeout, f"{text} from the agent")

    def signal(self, sig: int):
        assert self.process
        self.process.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        assert self.process
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.stderr.close()
        return code

    def kill(self):
        assert self.process
        self.process.kill()
        self.process.wait(10)
        self.stderr.close()

    def rss_kib(self) -> int:
        assert self.process
        for line in pathlib.Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def close(self):
        # Shown by pytest only when the test failed.
        print(f"--- agent log ({self.config.name}) ---\n{self.log()}")
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._closed = True
        self._socket.close()


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


def accepted_numbers(fault_proxy) -> list[tuple[str, int]]:
    """(partition key, n) of every record moto accepted, in the order it accepted them."""
    return [(key, json.loads(data)["data"]["n"]) for key, data in fault_proxy.accepted_records()]


def assert_all_delivered_in_key_order(accepted: list[tuple[str, int]], total: int):
    numbers = {n for _, n in accepted}
    assert numbers == set(range(total)), f"missing: {sorted(set(range(total)) - numbers)[:20]}"
    by_key: dict[str, list[int]] = {}
    for key, n in accepted:
        by_key.setdefault(key, []).append(n)
    for key, ns in by_key.items():
        firsts = [n for i, n in enumerate(ns) if n not in ns[:i]]
        assert firsts == sorted(firsts), f"key {key} out of order: {firsts[:30]}"
