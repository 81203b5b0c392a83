"""Fixtures every integration test shares: the built binary and scratch directories.

The suites below this folder drive the real `lk-forwarder` binary against real peers
(moto's Kinesis server, journal files, a private journald, real files under inotify).
"""
import os
import pathlib

import pytest

pytest_plugins = ["harness.fixtures"]

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def lk_binary() -> str:
    """Path to the lk-forwarder binary under test (LK_FORWARDER_BIN, else the debug build)."""
    path = os.environ.get("LK_FORWARDER_BIN") or str(ROOT / ".build" / "debug" / "lk-forwarder")
    if not os.access(path, os.X_OK):
        pytest.fail(f"lk-forwarder binary not found at {path}: run `swift build` first")
    return path
