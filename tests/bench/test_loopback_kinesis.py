"""`lk-bench loopback-kinesis`, the benchmark's Kinesis endpoint, against real clients:
boto3 (botocore signs and parses as the AWS SDKs do) and the lk-forwarder binary itself."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import pytest


class Loopback:
    """One endpoint process; `stop` sends SIGTERM and returns the counts it prints."""

    def __init__(self, binary: str, *options: str):
        self.proc = subprocess.Popen([binary, "loopback-kinesis", "--port", "0", *options],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:"), first
        self.url = first.removeprefix("listening on ")

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url + "/stats", timeout=5) as answer:
            return json.loads(answer.read())

    def stop(self) -> dict:
        """SIGTERM; returns the counts it prints."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0
        return json.loads(out.strip().splitlines()[-1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def client(self, timeout: float = 10):
        return boto3.client(
            "kinesis", endpoint_url=self.url, region_name="eu-west-1", aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
            config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=timeout,
                                          connect_timeout=timeout))


@pytest.fixture
def loopback(lk_bench):
    servers = []

    def start(*options: str) -> Loopback:
        server = Loopback(lk_bench, *options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


def test_put_records_answers_as_kinesis_and_counts(loopback):
    server = loopback()
    records = [{"Data": b'{"n":%d}' % i, "PartitionKey": f"key-{i % 3}"} for i in range(7)]
    answer = server.client().put_records(StreamName="s", Records=records)
    assert answer["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in answer["Records"]] == ["shardId-000000000000"] * 7
    sequences = [r["SequenceNumber"] for r in answer["Records"]]
    assert all(len(s) == 56 and s.isdigit() for s in sequences)
    assert sequences == sorted(sequences) and len(set(sequences)) == 7
    single = server.client().put_record(StreamName="s", Data=b"abc", PartitionKey="k")
    assert single["ShardId"] == "shardId-000000000000" and single["SequenceNumber"] > sequences[-1]

    stats = server.stats()
    data_bytes = sum(len(r["Data"]) + len(r["PartitionKey"]) for r in records) + len(b"abc") + 1
    assert (stats["records"], stats["bytes"], stats["throttled"]) == (8, data_bytes, 0)
    assert (stats["put_records_requests"], stats["put_record_requests"]) == (1, 1)
    assert 0 < stats["first_arrival"] <= stats["last_arrival"] <= time.time()
    assert server.stop()["records"] == 8


def test_throttles_the_share_asked_for_per_record(loopback):
    server = loopback("--throttle-share", "0.25")
    answer = server.client().put_records(
        StreamName="s", Records=[{"Data": b"x" * 10, "PartitionKey": str(i)} for i in range(100)])
    assert answer["FailedRecordCount"] == 25
    failed = [r for r in answer["Records"] if "ErrorCode" in r]
    assert len(failed) == 25
    assert {r["ErrorCode"] for r in failed} == {"ProvisionedThroughputExceededException"}
    assert all("Rate exceeded for shard" in r["ErrorMessage"] for r in failed)
    stats = server.stats()
    assert (stats["records"], stats["throttled"]) == (75, 25)


def test_refuses_unsigned_and_malformed_requests(loopback):
    server = loopback()
    body = json.dumps({"StreamName": "s", "Records": [{"Data": "eA==", "PartitionKey": "k"}]}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords"}

    def post(extra: dict, payload: bytes = body) -> tuple[int, dict]:
        request = urllib.request.Request(server.url + "/", data=payload, headers={**headers, **extra}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert post({}) == (403, {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    status, answer = post({"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240501/eu-west-1/kinesis/aws4_request, "
                                            "SignedHeaders=host;x-amz-date, Signature=abc"})
    assert (status, answer["__type"]) == (400, "IncompleteSignatureException")
    assert "Signature" in answer["message"]
    good = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240501/eu-west-1/kinesis/aws4_request, "
                             "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64, "X-Amz-Date": "20240501T000000Z"}
    assert post(good)[0] == 200
    status, answer = post(good, b'{"StreamName":"s","Records":[{"Data":"eA==","PartitionKey":"k"}')
    assert (status, answer["__type"]) == (400, "SerializationException")
    status, answer = post(good, b'{"StreamName":"s","Records":[]}')
    assert (status, answer["__type"]) == (400, "ValidationException")
    status, answer = post(good, json.dumps({"StreamName": "s", "Records": [{"Data": "eA==", "PartitionKey": "k" * 257}]}).encode())
    assert (status, answer["__type"]) == (400, "ValidationException")
    assert server.stats()["records"] == 1


def test_stall_holds_requests_without_answer(loopback):
    server = loopback("--stall")
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        server.client(timeout=1).put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}])
    stats = server.stats()
    assert (stats["stalled_requests"], stats["records"]) == (1, 0)


def test_arrivals_hold_the_stamp_of_each_record(loopback, tmp_path):
    arrivals = tmp_path / "arrivals.txt"
    server = loopback("--arrivals", str(arrivals), "--stamp-field", "written")
    stamps = [1_700_000_000_000_000_000 + i for i in range(5)]
    records = [{"Data": json.dumps({"data": {"written": s}}).encode(), "PartitionKey": "k"} for s in stamps]
    records.append({"Data": b'{"no stamp":1}', "PartitionKey": "k"})
    before = time.time_ns()
    server.client().put_records(StreamName="s", Records=records)
    after = time.time_ns()
    server.stop()
    lines = [tuple(map(int, line.split())) for line in arrivals.read_text().splitlines()]
    assert [stamp for _, stamp in lines] == stamps
    assert all(before <= arrival <= after for arrival, _ in lines)


def test_the_agent_delivers_through_it(loopback, lk_binary, tmp_path):
    server = loopback()
    log = tmp_path / "app.ndjson"
    log.write_text("".join(json.dumps({"kind": "a", "n": i}) + "\n" for i in range(1200)))
    config = tmp_path / "config.yaml"
    config.write_text(f"""
state_directory: "{tmp_path / 'state'}"
sink: {{ type: kinesis, stream: s, region: eu-west-1, endpoint: "{server.url}", batch: {{ max_delay: 20ms }} }}
inputs: [ {{ name: app, type: file, paths: ["{log}"], start_at: beginning }} ]
rules: [ {{ name: all, event: {{ type: "t-${{kind}}" }} }} ]
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret", HOME=str(tmp_path))
    agent = subprocess.Popen([lk_binary, "run", "--config", str(config)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while server.stats()["records"] < 1200:
            assert time.monotonic() < deadline, server.stats()
            assert agent.poll() is None
            time.sleep(0.05)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=20)
    assert agent.returncode == 0
    stats = server.stop()
    assert stats["records"] == 1200 and stats["rejected_requests"] == 0
    assert stats["put_records_requests"] >= 3


def test_dispatch_puts_through_it(loopback, lk_binary, tmp_path):
    server = loopback()
    config = tmp_path / "config.yaml"
    config.write_text(f"""
state_directory: "{tmp_path / 'state'}"
producer_id: "test@host"
sink: {{ type: kinesis, stream: s, region: eu-west-1, endpoint: "{server.url}" }}
inputs: []
rules: []
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret", HOME=str(tmp_path))
    dispatched = subprocess.run([lk_binary, "dispatch", "--config", str(config), "ping", "--data", '{"a":1}'],
                                env=env, capture_output=True, text=True, timeout=30)
    assert dispatched.returncode == 0, dispatched.stderr
    event = json.loads(dispatched.stdout)
    stats = server.stop()
    assert stats["records"] == 1
    assert stats["bytes"] == len(dispatched.stdout.strip().encode()) + len(event["source"]["kinesisPartitionKey"])
