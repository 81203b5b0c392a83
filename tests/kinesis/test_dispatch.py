"""`lk-forwarder dispatch` end to end: the real binary, moto's Kinesis with signature
checking on, and the records read back with GetRecords."""
from __future__ import annotations

import datetime
import json
import subprocess

import pytest

from harness.kinesis import read_records
from harness.lk_event import check_lk_event, raw_data


def write_config(tmp_path, sink: dict, producer_id: str = "billing@host-12") -> str:
    """A config file with `producer_id` and `sink` (written as JSON, which is YAML)."""
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"producer_id": producer_id, "sink": sink}))
    return str(path)


def kinesis_sink(moto_server, stream: str, **extra) -> dict:
    return {"type": "kinesis", "stream": stream, "region": moto_server.region, "endpoint": moto_server.url, **extra}


def dispatch(lk_binary, config: str, *args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [lk_binary, "dispatch", "--config", config, *args], env=env, capture_output=True, timeout=timeout
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, code: int, *phrases: str) -> str:
    """The command failed with `code`, printed nothing on stdout and one line on stderr."""
    stderr = result.stderr.decode()
    assert result.returncode == code, stderr
    assert result.stdout == b""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    for banned in ("Fatal error", "Backtrace", "Stack dump", "Program crashed", "Thread 0"):
        assert banned not in stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def test_dispatch_prints_the_event_and_the_record_read_back_is_that_event(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path):
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    before = datetime.datetime.now(datetime.timezone.utc)
    result = dispatch(
        lk_binary, config, "order-created", "--data", '{"id":1}', "--user-id", "u1", "--partition-key", "k1", env=aws_env
    )
    after = datetime.datetime.now(datetime.timezone.utc)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    assert result.stdout.endswith(b"\n") and result.stdout.count(b"\n") == 1
    printed = result.stdout[:-1]

    records = read_records(moto_server, kinesis_stream)
    assert len(records) == 1
    record = records[0]
    assert record.partition_key == "k1"
    assert record.data == printed, "the record on the stream is byte for byte the event printed"
    event = check_lk_event(record.data, "k1")
    assert event["type"] == "order-created"
    assert event["data"] == {"id": 1}
    assert raw_data(record.data) == b'{"id":1}'
    assert event["source"] == {"userId": "u1", "producerId": "billing@host-12", "kinesisPartitionKey": "k1"}
    stamp = datetime.datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    assert before - datetime.timedelta(milliseconds=1) <= stamp <= after


def test_defaults_null_user_empty_data_and_a_fresh_uuid_key(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path):
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    outputs = [dispatch(lk_binary, config, "ping", env=aws_env) for _ in range(2)]
    for result in outputs:
        assert result.returncode == 0, result.stderr.decode()
    records = read_records(moto_server, kinesis_stream)
    assert [r.data + b"\n" for r in records] == [o.stdout for o in outputs]
    events = [check_lk_event(r.data, r.partition_key) for r in records]
    for event, record in zip(events, records):
        assert raw_data(record.data) == b"{}"
        assert event["source"]["userId"] is None
        assert record.partition_key != event["id"], "the default key is its own UUID v4, not the event id"
    assert len({r.partition_key for r in records}) == 2
    assert len({e["id"] for e in events}) == 2


@pytest.mark.parametrize(
    "data",
    [
        '{"name":"Zoë","city":"Zürich","emoji":"🚀","cjk":"漢字","escaped":"\\u00e9\\ud83d\\ude80","quote":"\\"q\\""}',
        "{}",
        "[]",
        '"just a string"',
        "null",
        '{"n":1.0,"big":123456789012345678901234567890,"exp":1E+2,"neg":-0,"nested":{"a":[1,{"b":[]}]}}',
        '{ "spaced" : [ 1 , 2 ] }',
    ],
)
def test_data_is_carried_verbatim(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path, data):
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    result = dispatch(lk_binary, config, "t", "--data", data, "--partition-key", "κλειδί", env=aws_env)
    assert result.returncode == 0, result.stderr.decode()
    (record,) = read_records(moto_server, kinesis_stream)
    check_lk_event(record.data, "κλειδί")
    assert raw_data(record.data) == data.encode()
    assert json.loads(raw_data(record.data)) == json.loads(data)


def test_large_data_round_trips(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path):
    """The largest --data one argument can carry on Linux (128 KiB); the 1 MiB case is in
    the Swift tests (SinkTests.dataCloseToOneMiBRoundTrips)."""
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    data = json.dumps({"blob": "é☃" * 24_000 + "x" * 1_000}, ensure_ascii=False)
    assert 120_000 < len(data.encode()) < 131_072
    result = dispatch(lk_binary, config, "big", "--data", data, env=aws_env)
    assert result.returncode == 0, result.stderr.decode()
    (record,) = read_records(moto_server, kinesis_stream)
    assert raw_data(record.data) == data.encode()


def test_keys_of_256_characters_are_accepted(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path):
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    for key in ("k" * 256, "é" * 256):
        result = dispatch(lk_binary, config, "t", "--partition-key", key, env=aws_env)
        assert result.returncode == 0, result.stderr.decode()
    assert [r.partition_key for r in read_records(moto_server, kinesis_stream)] == ["k" * 256, "é" * 256]


def test_a_wrong_secret_is_a_clear_authentication_error(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path):
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    env = {**aws_env, "AWS_SECRET_ACCESS_KEY": "definitely-not-the-secret"}
    line = assert_one_clear_line(
        dispatch(lk_binary, config, "t", env=env), 2, "authentication failed", "SignatureDoesNotMatch"
    )
    assert "definitely-not-the-secret" not in line
    assert read_records(moto_server, kinesis_stream) == []


@pytest.mark.parametrize(
    "case, args, sink_change, code, phrase",
    [
        ("invalid --data", ["--data", '{"id":'], {}, 1, "--data is not valid JSON"),
        ("empty key", ["--partition-key", ""], {}, 1, "partition key is empty"),
        ("257-character key", ["--partition-key", "k" * 257], {}, 1, "257 characters"),
        ("empty type", [], {}, 1, "type is empty"),
        ("no stream", [], {"stream": None}, 1, "stream"),
        ("unknown region", [], {"region": "eu-wst-1", "endpoint": None}, 1, "unknown AWS region 'eu-wst-1'"),
        ("malformed region", [], {"region": "EU WEST"}, 1, "not an AWS region name"),
        ("bad endpoint", [], {"endpoint": "127.0.0.1:4566"}, 1, "http:// or https:// URL"),
        ("unreachable endpoint", [], {"endpoint": "http://127.0.0.1:1"}, 2, "ConnectionRefused"),
        ("unknown stream", [], {"stream": "no-such-stream"}, 2, "ResourceNotFoundException"),
    ],
)
def test_bad_input_gives_one_clear_line(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path, case, args, sink_change, code, phrase):
    sink = kinesis_sink(moto_server, kinesis_stream)
    for key, value in sink_change.items():
        if value is None:
            sink.pop(key)
        else:
            sink[key] = value
    config = write_config(tmp_path, sink)
    event_type = "" if case == "empty type" else "order-created"
    assert_one_clear_line(dispatch(lk_binary, config, event_type, *args, env=aws_env), code, phrase)
    assert read_records(moto_server, kinesis_stream) == []


def test_a_missing_config_file_is_invalid_input(lk_binary, aws_env, tmp_path):
    result = subprocess.run(
        [lk_binary, "dispatch", "--config", str(tmp_path / "absent.yaml"), "t"], env=aws_env, capture_output=True, timeout=30
    )
    assert_one_clear_line(result, 1, "absent.yaml")


def test_dispatch_rides_out_throttling_and_faults(lk_binary, moto_server, kinesis_stream, aws_env, fault_proxy, tmp_path):
    config = write_config(tmp_path, {**kinesis_sink(moto_server, kinesis_stream), "endpoint": fault_proxy.url})
    fault_proxy.fail_records(share=1.0, requests=1)
    fault_proxy.fail_requests(503, "ServiceUnavailable", count=1, body="html")
    fault_proxy.drop_connections(1)
    result = dispatch(lk_binary, config, "order-created", "--partition-key", "k1", env=aws_env)
    assert result.returncode == 0, result.stderr.decode()
    stats = fault_proxy.stats()
    assert stats["records_received"] == 4
    assert stats["records_accepted"] == 1
    (record,) = read_records(moto_server, kinesis_stream)
    assert record.data + b"\n" == result.stdout


def test_credentials_from_a_role_and_from_web_identity(lk_binary, moto_server, kinesis_stream, aws_env, tmp_path):
    """The sink's role_arn assumed through moto's STS, and AWS_WEB_IDENTITY_TOKEN_FILE +
    AWS_ROLE_ARN: both end in temporary credentials that moto accepts."""
    role = moto_server.create_role("dispatch-" + kinesis_stream, ["kinesis:*"])
    sts = {"AWS_ENDPOINT_URL_STS": moto_server.url}
    admin = {"AWS_ACCESS_KEY_ID": moto_server.admin.access_key_id, "AWS_SECRET_ACCESS_KEY": moto_server.admin.secret_access_key}
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream, role_arn=role))
    result = dispatch(lk_binary, config, "via-role", env={**aws_env, **admin, **sts})
    assert result.returncode == 0, result.stderr.decode()

    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.payload.signature\n")
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update({**sts, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": role})
    config = write_config(tmp_path, kinesis_sink(moto_server, kinesis_stream))
    result = dispatch(lk_binary, config, "via-web-identity", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert [json.loads(r.data)["type"] for r in read_records(moto_server, kinesis_stream)] == ["via-role", "via-web-identity"]


def test_the_file_sink_appends_and_the_stdout_sink_prints_once(lk_binary, aws_env, tmp_path):
    events = tmp_path / "events.ndjson"
    config = write_config(tmp_path, {"type": "file", "path": str(events)})
    printed = [dispatch(lk_binary, config, "t", "--data", str(n), env=aws_env) for n in range(3)]
    assert all(p.returncode == 0 for p in printed)
    assert events.read_bytes() == b"".join(p.stdout for p in printed)
    for line in events.read_bytes().splitlines():
        check_lk_event(line, json.loads(line)["source"]["kinesisPartitionKey"])

    config = write_config(tmp_path, {"type": "stdout"})
    result = dispatch(lk_binary, config, "t", "--partition-key", "p", env=aws_env)
    assert result.returncode == 0
    assert result.stdout.count(b"\n") == 1
    check_lk_event(result.stdout.rstrip(b"\n"), "p")
