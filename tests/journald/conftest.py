"""Fixtures of the journald suites (the lk-bench binary, whose `journal-read` command runs
the journald input and prints what it yields, comes from tests/conftest.py)."""
import os

import pytest


@pytest.fixture(scope="session")
def as_root() -> None:
    """The private journald needs root (mount namespaces); CI runs the tests as root."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a private mount namespace")
