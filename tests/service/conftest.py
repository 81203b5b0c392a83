"""Fixtures for the service-level tests: a real NOTIFY_SOCKET, free ports, and a harness
that runs `lk-forwarder run` the way systemd does (NOTIFY_SOCKET, WATCHDOG_USEC) and scrapes
its /metrics endpoint."""
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families


# SO_TIMESTAMPNS / SCM_TIMESTAMPNS (asm-generic and x86), which Python's socket module does not name.
SO_TIMESTAMPNS = 35


class NotifySocket:
    """A Unix datagram socket standing in for systemd's notification socket. A thread
    records every datagram with the time the kernel queued it (SO_TIMESTAMPNS, on the
    `time.time()` clock), so a busy machine delaying this reader does not move the times
    a test compares."""

    def __init__(self, path: pathlib.Path):
        self.path = str(path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._sock.settimeout(0.05)
        self._lock = threading.Lock()
        self._messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self):
        while not self._stop.is_set():
            try:
                data, ancillary, _, _ = self._sock.recvmsg(65536, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            at = time.time()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    at = seconds + nanoseconds / 1e9
            with self._lock:
                self._messages.append((at, data.decode()))

    @property
    def messages(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._messages)

    def assignments(self, key: str) -> list[tuple[float, str]]:
        """(arrival time, value) of every `KEY=value` line received."""
        found = []
        for at, text in self.messages:
            for line in text.split("\n"):
                if line.startswith(key + "="):
                    found.append((at, line[len(key) + 1:]))
        return found

    def wait_for(self, key: str, value: str | None = None, timeout: float = 15.0, after: float = 0.0) -> float:
        """Waits (bounded) for `KEY=value` (any value when None); returns its arrival time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, found in self.assignments(key):
                if at > after and (value is None or found == value):
                    return at
            time.sleep(0.01)
        raise AssertionError(f"no {key}={value or '*'} within {timeout}s; received {self.messages!r}")

    def close(self):
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def notify_socket():
    # A short directory of its own: a Unix socket path must stay under 108 bytes.
    directory = pathlib.Path(tempfile.mkdtemp(prefix="lk-notify-"))
    sock = NotifySocket(directory / "notify.sock")
    yield sock
    sock.close()
    shutil.rmtree(directory)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """`lk-forwarder run --config CONFIG` as systemd runs it: NOTIFY_SOCKET points at a
    test socket, WATCHDOG_USEC is set when asked, logs go to a file."""

    def __init__(self, binary: str, config: pathlib.Path, notify: NotifySocket, metrics_port: int | None,
                 log: pathlib.Path, watchdog_usec: int | None = None, extra_env: dict | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_", "LISTEN_"))}
        env["NOTIFY_SOCKET"] = notify.path
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        env.update(extra_env or {})
        self.notify = notify
        self.metrics_port = metrics_port
        self.log_path = log
        self._log = open(log, "wb")
        self.process = subprocess.Popen([binary, "run", "--config", str(config)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=self._log)

    def wait_ready(self, timeout: float = 30.0) -> float:
        try:
            return self.notify.wait_for("READY", "1", timeout=timeout)
        except AssertionError:
            raise AssertionError(f"agent not ready (exit {self.process.poll()}); log:\n{self.log()}")

    def get(self, path: str) -> tuple[int, str, str]:
        """(status, content type, body) of GET http://127.0.0.1:PORT/path."""
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type", ""), error.read().decode()

    def scrape(self) -> dict[tuple[str, tuple], float]:
        """Every sample of /metrics, parsed with prometheus_client's text parser, by
        (sample name, sorted labels)."""
        status, content_type, body = self.get("/metrics")
        assert status == 200, body
        assert content_type.startswith("text/plain; version=0.0.4"), content_type
        samples = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit status (bounded wait)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def start_agent(lk_binary, notify_socket, tmp_path):
    """Starts `lk-forwarder run` with a config text; `{metrics_port}` in it is replaced by a
    free port. The agent is killed at the end of the test if it still runs."""
    agents = []

    def start(config_text: str, watchdog_usec: int | None = None, extra_env: dict | None = None) -> Agent:
        port = free_port()
        config = tmp_path / "config.yaml"
        config.write_text(config_text.replace("{metrics_port}", str(port)))
        agent = Agent(lk_binary, config, notify_socket, port, tmp_path / f"agent-{len(agents)}.log",
                      watchdog_usec=watchdog_usec, extra_env=extra_env)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        agent.kill()
