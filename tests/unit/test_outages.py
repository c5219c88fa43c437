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
from cinema_core.errors import AdmissionRequired, WaitingRoomUnavailable
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from cinema_core.memory.waiting import InMemoryWaitingLines
from cinema_core.resilience.fallbacks import ForgivingSeatLock, WaitingLinesFailingClosed
from cinema_core.rooms.seats import SeatStatus
from cinema_core.waiting.room import RoomSettings
from tests.conftest import new_session


class FlakySeatLock:
    """The in-memory seat lock behind a switch that makes it unreachable."""

    def __init__(self, clock: ManualClock) -> None:
        self.inner = InMemorySeatLock(clock)
        self.down = False

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        if self.down:
            raise BackendUnavailable("redis unreachable")
        self.inner.acquire(session_id, labels, owner, ttl, unless_waiting=unless_waiting)

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


class FlakyWaitingLines(InMemoryWaitingLines):
    """The in-memory queues behind a switch that makes their settings unreachable."""

    down = False

    def settings(self, session_id: UUID) -> RoomSettings | None:
        if self.down:
            raise BackendUnavailable("redis unreachable")
        return super().settings(session_id)


def test_a_buyer_with_no_admission_during_an_outage_meets_the_room_failing_closed(
    clock: ManualClock,
) -> None:
    """The seat lock cannot say whether a room is on while Redis is down: the box office asks
    the waiting room, which turns the buyer away for a room this process last saw on and lets
    the store alone sell one it last saw off."""
    lock, outages, lines = FlakySeatLock(clock), Outages(), FlakyWaitingLines()
    box = BoxOffice(
        InMemoryReservationRepo(),
        ForgivingSeatLock(lock, outages),
        clock,
        timedelta(seconds=30),
        outages,
        waiting_lines=WaitingLinesFailingClosed(lines, outages, clock=clock),
    )
    queued, open_ = new_session(box, days=1).session.id, new_session(box, days=1).session.id
    box.set_waiting_room(queued, RoomSettings(True, 60, 10))
    with pytest.raises(AdmissionRequired):
        box.reserve_unadmitted("u1", queued, ["A1"])
    assert box.reserve_unadmitted("u1", open_, ["A1"]).seats
    lock.down = lines.down = True
    with pytest.raises(WaitingRoomUnavailable):
        box.reserve_unadmitted("u2", queued, ["A2"])
    assert box.reserve_unadmitted("u2", open_, ["A2"]).seats
    assert {status for _, status in box.seat_map(queued).seats} == {SeatStatus.AVAILABLE}
