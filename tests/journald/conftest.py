"""Fixtures of the journald suites: the lk-bench binary, whose `journal-read` command runs
the journald input and prints what it yields."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def lk_bench() -> str:
    """Path to lk-bench (LK_BENCH_BIN, else the debug build)."""
    path = os.environ.get("LK_BENCH_BIN") or str(ROOT / ".build" / "debug" / "lk-bench")
    if not os.access(path, os.X_OK):
        pytest.fail(f"lk-bench not found at {path}: run `swift build` first")
    return path


@pytest.fixture(scope="session")
def as_root() -> None:
    """The private journald needs root (mount namespaces); CI runs the tests as root."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a private mount namespace")
