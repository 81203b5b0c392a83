"""Streams on moto for tests: create one, and read back everything on it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from .moto_server import MotoServer


@dataclass(frozen=True)
class StoredRecord:
    """One record as a consumer reads it back with GetRecords."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes


def create_stream(moto: MotoServer, shards: int = 1, prefix: str = "lk") -> str:
    """Creates a stream with a fresh name (signed with the admin key); returns the name."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    moto.client("kinesis").create_stream(StreamName=name, ShardCount=shards)
    return name


def read_records(moto: MotoServer, stream: str) -> list[StoredRecord]:
    """Every record of every shard, shard by shard in sequence order, from TRIM_HORIZON
    until a GetRecords answers nothing more. Read only once writers are done: moto can
    answer 500 to a GetRecords during concurrent writes."""
    client = moto.client("kinesis")
    records: list[StoredRecord] = []
    shards = client.list_shards(StreamName=stream)["Shards"]
    for shard in shards:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            answer = client.get_records(ShardIterator=iterator, Limit=10000)
            for record in answer["Records"]:
                records.append(
                    StoredRecord(shard["ShardId"], record["SequenceNumber"], record["PartitionKey"], bytes(record["Data"]))
                )
            if not answer["Records"]:
                break
            iterator = answer.get("NextShardIterator")
    return records
