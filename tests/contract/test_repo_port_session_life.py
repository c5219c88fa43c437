"""A session's life over every store: the unit suite of tests/unit/test_session_life.py, run
against the in-memory store and PostgreSQL (the rules judged by the store itself)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cinema_core import BoxOffice, ManualClock
from tests.contract.test_repo_port import NoSeatLock
from tests.unit.test_session_life import *  # noqa: F403 (the same tests, on every store)


@pytest.fixture
def box(repo: Any, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, timedelta(seconds=30))
