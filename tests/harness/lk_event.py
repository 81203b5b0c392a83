"""The rules of lk-event.md, checked on a record as a consumer reads it."""
from __future__ import annotations

import datetime
import json
import re

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def check_lk_event(data: bytes, partition_key: str) -> dict:
    """Asserts that `data` (one Kinesis record) is an lk event put with `partition_key`,
    field order included (lk-dispatch writes JSON.stringify's order); returns it parsed."""
    text = data.decode("utf-8")
    event = json.loads(text)
    assert isinstance(event, dict), "an lk event is a JSON object"
    assert list(event) == ["id", "type", "data", "timestamp", "source"], f"fields {list(event)}"
    assert isinstance(event["id"], str) and UUID_V4.match(event["id"]), f"id {event['id']!r} is not a lower-case UUID v4"
    assert isinstance(event["type"], str) and event["type"], "type is a non-empty string"
    assert isinstance(event["timestamp"], str) and TIMESTAMP.match(event["timestamp"]), f"timestamp {event['timestamp']!r}"
    datetime.datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    source = event["source"]
    assert isinstance(source, dict) and list(source) == ["userId", "producerId", "kinesisPartitionKey"], f"source {source}"
    assert source["userId"] is None or isinstance(source["userId"], str), "userId is a string or null"
    assert isinstance(source["producerId"], str) and source["producerId"], "producerId is a non-empty string"
    assert source["kinesisPartitionKey"] == partition_key, "kinesisPartitionKey is the record's PartitionKey"
    assert 1 <= len(partition_key) <= 256, "a partition key has 1 to 256 characters"
    return event


def raw_data(data: bytes) -> bytes:
    """The bytes of the event's `data` member exactly as written in the record."""
    start = data.index(b',"data":') + len(b',"data":')
    end = data.rindex(b',"timestamp":"')
    return data[start:end]
