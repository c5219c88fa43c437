"""Optional backends down: the box office carries on, and says so once per outage."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import pytest

from cinema_core import (
    BackendUnavailable,
    BoxOffice,
    ManualClock,
    Outages,
    SeatLabel,
    SeatsUnavailable,
)
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from cinema_core.resilience.fallbacks import ForgivingSeatLock
from tests.conftest import new_session


class FlakySeatLock:
    """The in-memory seat lock behind a switch that makes it unreachable."""

    def __init__(self, clock: ManualClock) -> None:
        self.inner = InMemorySeatLock(clock)
        self.down = False

    def acquire(
        self, session_id: UUID, labels: Sequence[SeatLabel], owner: str, ttl: float
    ) -> None:
        if self.down:
            raise BackendUnavailable("redis unreachable")
        self.inner.acquire(session_id, labels, owner, ttl)

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        if self.down:
            raise BackendUnavailable("redis unreachable")
        self.inner.release(session_id, labels, owner)


def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    """Many failures of one backend make one warning; recovery makes one more."""
    outages = Outages()
    with caplog.at_level(logging.WARNING, logger="cinema.backends"):
        for _ in range(3):
            outages.failed("redis", ConnectionError("refused"))
        outages.failed("broker", TimeoutError())
        assert outages.down() == {"redis": "refused", "broker": "TimeoutError"}
        outages.recovered("redis")
        outages.recovered("redis")
        outages.failed("redis", ConnectionError("again"))
    assert [r.getMessage() for r in caplog.records] == [
        "redis unreachable; carrying on without it",
        "broker unreachable; carrying on without it",
        "redis reachable again",
        "redis unreachable; carrying on without it",
    ]


def test_selling_goes_on_with_the_seat_lock_down(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the lock service the store alone refuses double holds; one warning per outage.

    The lock is composed as the composition root composes it: forgiving its outages."""
    lock = FlakySeatLock(clock)
    outages = Outages()
    forgiving = ForgivingSeatLock(lock, outages)
    box = BoxOffice(InMemoryReservationRepo(), forgiving, clock, timedelta(seconds=30), outages)
    session = new_session(box, price="1.00", days=1)
    lock.down = True
    with caplog.at_level(logging.WARNING, logger="cinema.backends"):
        first = box.reserve("u1", session.session.id, ["A1"])
        with pytest.raises(SeatsUnavailable):
            box.reserve("u2", session.session.id, ["A1", "A2"])
        box.cancel(first.id, "u1")
        second = box.reserve("u2", session.session.id, ["A1"])
        assert box.outages.down() == {"redis": "redis unreachable"}
        lock.down = False
        third = box.reserve("u3", session.session.id, ["A2"])
        box.pay(second.id, "u2")
        box.pay(third.id, "u3")
    assert [r.getMessage() for r in caplog.records] == [
        "redis unreachable; carrying on without it",
        "redis reachable again",
    ]
