"""Fixtures for the file input's process-level tests: the lk-bench binary's harness."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="session")
def lk_bench() -> str:
    """Path to lk-bench (LK_BENCH_BIN, else the debug build): its `file-follow` command."""
    path = os.environ.get("LK_BENCH_BIN") or str(ROOT / ".build" / "debug" / "lk-bench")
    if not os.access(path, os.X_OK):
        pytest.fail(f"lk-bench not found at {path}: run `swift build --product lk-bench` first")
    return path
