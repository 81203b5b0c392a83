"""Fixtures for the end-to-end tests of `lk-forwarder run`: moto with signature checking,
a fault-injecting proxy in front of it, and the agent as a real process that reports
READY=1 on a real NOTIFY_SOCKET and is stopped with real signals."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from harness.fault_proxy import FaultProxy
from harness.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto():
    server = MotoServer().start()
    server.enable_auth()
    yield server
    server.stop()


@pytest.fixture
def stream(moto) -> str:
    """A fresh one-shard stream."""
    name = "lk-" + uuid.uuid4().hex[:10]
    moto.client("kinesis").create_stream(StreamName=name, ShardCount=1)
    return name


@pytest.fixture
def proxy(moto):
    key = moto.forwarder
    fault_proxy = FaultProxy(moto.url, credentials=(key.access_key_id, key.secret_access_key)).start()
    yield fault_proxy
    fault_proxy.stop()


def read_stream(moto, stream: str) -> list[dict]:
    """Every record on the stream, in shard order: partition key, and the data as JSON."""
    client = moto.client("kinesis")
    records = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            answer = client.get_records(ShardIterator=iterator, Limit=10000)
            for record in answer["Records"]:
                records.append({"key": record["PartitionKey"], "event": json.loads(record["Data"])})
            if not answer["Records"]:
                break
            iterator = answer.get("NextShardIterator")
    return records


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


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="lk-agent-") as directory:
        yield pathlib.Path(directory)


@pytest.fixture
def make_agent(lk_binary, moto, workdir):
    """Builds agents on a config text; credentials are the forwarder user's key."""
    agents: list[Agent] = []

    def make(config_text: str, name: str = "config.yaml") -> Agent:
        config = workdir / name
        config.write_text(config_text)
        key = moto.forwarder
        env = {
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
            "AWS_REGION": moto.region,
        }
        agent = Agent(lk_binary, config, env, workdir)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.close()
