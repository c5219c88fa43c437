"""Unit fixtures: a whole box office in memory on a clock that moves only when told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema_core import BoxOffice, ManualClock, SessionView
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from tests.conftest import new_session

HOLD = timedelta(seconds=30)


@pytest.fixture
def repo() -> InMemoryReservationRepo:
    return InMemoryReservationRepo()


@pytest.fixture
def seat_lock(clock: ManualClock) -> InMemorySeatLock:
    return InMemorySeatLock(clock)


@pytest.fixture
def box(
    repo: InMemoryReservationRepo, seat_lock: InMemorySeatLock, clock: ManualClock
) -> BoxOffice:
    return BoxOffice(repo, seat_lock, clock, HOLD)


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    """A 4 × 4 session at 25.00 a seat."""
    return new_session(box)
