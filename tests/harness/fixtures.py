"""pytest fixtures over the harness. Registered for every suite by tests/conftest.py:

    pytest_plugins = ["harness.fixtures"]

moto_server      (session) moto on 127.0.0.1 with signature checking on; .url, .region,
                 .admin and .forwarder keys, .client(service, key=None), .create_role(...)
kinesis_stream   a fresh one-shard stream on moto (its name)
fault_proxy      a FaultProxy in front of moto, in this process, knowing the forwarder key
metadata_server  the IMDSv2 + ECS credentials server, in this process
aws_env          an environment for the binary: the forwarder key, AWS_REGION, a private
                 HOME, no instance metadata probing, nothing inherited from AWS_* variables
"""
from __future__ import annotations

import os

import pytest

from .fault_proxy import FaultProxy
from .kinesis import create_stream
from .metadata_server import MetadataServer
from .moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer().start()
    try:
        server.enable_auth()
        yield server
    finally:
        server.stop()


@pytest.fixture
def kinesis_stream(moto_server) -> str:
    return create_stream(moto_server)


@pytest.fixture
def fault_proxy(moto_server):
    key = moto_server.forwarder
    proxy = FaultProxy(moto_server.url, credentials=(key.access_key_id, key.secret_access_key)).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def metadata_server():
    server = MetadataServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(moto_server, tmp_path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        {
            "HOME": str(home),
            "AWS_REGION": moto_server.region,
            "AWS_ACCESS_KEY_ID": moto_server.forwarder.access_key_id,
            "AWS_SECRET_ACCESS_KEY": moto_server.forwarder.secret_access_key,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    env.pop("LK_FORWARDER_CONFIG", None)
    return env
