"""Unit fixtures: a whole box office in memory on a clock that moves only when told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema_core import BoxOffice, ManualClock, Money, SessionView
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock

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


def new_session(
    box: BoxOffice, *, rows: int = 4, seats_per_row: int = 4, price: str = "25.00", days: float = 30
) -> SessionView:
    """A session in the future with the given room size."""
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=days),
        price=Money.parse(price),
        rows=rows,
        seats_per_row=seats_per_row,
    )


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    """A 4 × 4 session at 25.00 a seat."""
    return new_session(box)
