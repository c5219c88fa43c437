"""Unit fixtures: a whole box office in memory on a clock that moves only when told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema_core import BoxOffice, Category, ManualClock, Money, SessionView
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from tests.conftest import new_session

HOLD = timedelta(seconds=30)

# A price per category, for sessions in rooms of every kind of seat.
PRICES = {
    Category.STANDARD: Money.parse("25.00"),
    Category.PREMIUM: Money.parse("40.00"),
    Category.COUPLE: Money.parse("30.00"),
    Category.ACCESSIBLE: Money.parse("25.00"),
}


def session_in(box: BoxOffice, layout: list[str], **options: object) -> SessionView:
    """A session tomorrow in a new room of Centro laid out as ``layout``, each category at its
    price in ``PRICES``."""
    room = box.create_room(cinema="Centro", name=f"Sala {len(box.rooms())}", layout=layout)
    return box.create_session(
        movie="Filme X",
        room_id=room.id,
        starts_at=box.clock.now() + timedelta(days=1),
        prices={c: p for c, p in PRICES.items() if c in room.categories},
        **options,  # type: ignore[arg-type]
    )


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
