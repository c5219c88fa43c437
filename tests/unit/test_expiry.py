"""The sweeper: each lapsed hold is recorded as expired exactly once, and no one else's seat
is touched."""

from __future__ import annotations

from datetime import timedelta

from cinema_core import BoxOffice, ManualClock, ReservationStatus, SessionView
from cinema_core.events.envelopes import RESERVATION_EXPIRED, SEAT_RELEASED
from cinema_core.memory import InMemoryReservationRepo
from tests.concurrency import run_together


def event_types(repo: InMemoryReservationRepo) -> list[str]:
    """Every recorded event's type, oldest first."""
    return [
        event.type
        for _, event in reversed(repo.events(type=None, session_id=None, before=None, limit=1000))
    ]


def test_nothing_is_due_before_the_hold_lapses(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """A hold still running is not swept."""
    reservation = box.reserve("u1", session.session.id, ["A1"])
    clock.set(reservation.expires_at - timedelta(microseconds=1))
    assert box.expire_due() == 0
    assert box.reservation(reservation.id, "u1").status is ReservationStatus.PENDING


def test_each_lapsed_reservation_is_expired_once_with_its_events(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """One reservation.expired and one seat.released per lapsed reservation, never again."""
    first = box.reserve("u1", session.session.id, ["A1", "A2"])
    second = box.reserve("u2", session.session.id, ["B1"])
    clock.set(second.expires_at)
    assert box.expire_due() == 2
    assert box.expire_due() == 0
    clock.advance(60)
    assert box.expire_due() == 0
    types = event_types(repo)
    assert types.count(RESERVATION_EXPIRED) == 2
    assert types.count(SEAT_RELEASED) == 2
    for reservation in (first, second):
        stored = repo.get_reservation(reservation.id)
        assert stored is not None
        assert stored.status is ReservationStatus.EXPIRED


def test_expiry_goes_in_batches_up_to_the_limit(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """expire_due(limit) expires at most limit reservations; the rest wait for the next call."""
    for label in ["A1", "A2", "A3"]:
        box.reserve("u1", session.session.id, [label])
    clock.advance(30)
    assert box.expire_due(limit=2) == 2
    assert box.expire_due(limit=2) == 1


def test_expiry_never_touches_a_seat_reheld_by_someone_else(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """A seat taken by a new hold after the lapse stays held by the newcomer when the old
    reservation is swept, and the release event does not announce it as free."""
    old = box.reserve("u1", session.session.id, ["A1", "A2"])
    clock.set(old.expires_at)
    new = box.reserve("u2", session.session.id, ["A2"])
    assert box.expire_due() == 1
    seats = {
        seat.label.number: seat for seat in repo.seats(session.session.id) if seat.label.row == "A"
    }
    assert seats[2].held_by == new.id
    assert seats[1].held_by is None
    ((_, released),) = repo.events(type=SEAT_RELEASED, session_id=None, before=None, limit=10)
    assert released.data["seats"] == ["A1"]
    assert released.data["reason"] == "expired"
    assert box.pay(new.id, "u2")[1]


def test_cancelled_and_paid_reservations_are_never_swept(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """Only pending reservations lapse."""
    paid = box.reserve("u1", session.session.id, ["A1"])
    cancelled = box.reserve("u1", session.session.id, ["A2"])
    box.pay(paid.id, "u1")
    box.cancel(cancelled.id, "u1")
    clock.advance(3600)
    assert box.expire_due() == 0
    assert RESERVATION_EXPIRED not in event_types(repo)


def test_concurrent_sweepers_expire_each_reservation_once(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """Any number of sweepers side by side record each lapse exactly once."""
    for label in ["A1", "A2", "A3", "A4", "B1", "B2"]:
        box.reserve("u1", session.session.id, [label])
    clock.advance(30)
    swept = run_together(4, lambda _: box.expire_due())
    assert sum(swept) == 6
    assert event_types(repo).count(RESERVATION_EXPIRED) == 6
    assert event_types(repo).count(SEAT_RELEASED) == 6
