"""Fixtures every integration test shares: the built binary and scratch directories.

The suites below this folder drive the real `lk-forwarder` binary against real peers
(moto's Kinesis server, journal files, a private journald, real files under inotify).
"""
import os
import pathlib

import pytest

pytest_plugins = ["harness.fixtures"]

ROOT = pathlib.Path(__file__).resolve().parent.parent


def built_binary(name: str, variable: str) -> str:
    """Path to a built executable: $variable, else the debug build."""
    path = os.environ.get(variable) or str(ROOT / ".build" / "debug" / name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} not found at {path}: run `swift build` first")
    return path


@pytest.fixture(scope="session")
def lk_binary() -> str:
    """The lk-forwarder binary under test (LK_FORWARDER_BIN, else the debug build)."""
    return built_binary("lk-forwarder", "LK_FORWARDER_BIN")


@pytest.fixture(scope="session")
def lk_bench() -> str:
    """lk-bench (LK_BENCH_BIN, else the debug build): its `file-follow` and `journal-read`
    commands run one input alone as a process."""
    return built_binary("lk-bench", "LK_BENCH_BIN")
