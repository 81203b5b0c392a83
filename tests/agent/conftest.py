"""Fixtures for the end-to-end tests of `lk-forwarder run`, in front of the harness's moto
(signature checking on) and fault-injecting proxy (`harness.fixtures`)."""
from __future__ import annotations

import pathlib
import tempfile

import pytest

from harness.agent import Agent


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="lk-agent-") as directory:
        yield pathlib.Path(directory)


@pytest.fixture
def make_agent(lk_binary, moto_server, workdir):
    """Builds agents on a config text; credentials are the forwarder user's key."""
    agents: list[Agent] = []

    def make(config_text: str, name: str = "config.yaml") -> Agent:
        config = workdir / name
        config.write_text(config_text)
        key = moto_server.forwarder
        env = {
            "AWS_ACCESS_KEY_ID": key.access_key_id,
            "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
            "AWS_REGION": moto_server.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        agent = Agent(lk_binary, config, env, workdir)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.close()
