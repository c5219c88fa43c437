"""Reserving seats: 1–10 distinct seats of the session, all of them or none, for the hold."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    ReservationNotFound,
    ReservationStatus,
    SeatsUnavailable,
    SessionNotFound,
    SessionView,
    UnknownSeat,
    ValidationFailed,
)
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from tests.conftest import new_session


def statuses(box: BoxOffice, session: SessionView) -> dict[str, str]:
    return {str(label): str(status) for label, status in box.seat_map(session.session.id).seats}


def test_a_reservation_holds_its_seats_until_it_lapses(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """A new reservation is pending, priced seats × price, and expires after the hold."""
    reservation = box.reserve("u1", session.session.id, ["A1", "A3"])
    assert reservation.status is ReservationStatus.PENDING
    assert reservation.amount == Money(5000)
    assert reservation.user_id == "u1"
    assert reservation.created_at == clock.now()
    assert reservation.expires_at == clock.now() + timedelta(seconds=30)
    assert reservation.sale_id is None
    seats = statuses(box, session)
    assert seats["A1"] == seats["A3"] == "held"
    assert seats["A2"] == "available"


@pytest.mark.parametrize("count", [0, 11])
def test_a_reservation_takes_one_to_ten_seats(
    box: BoxOffice, session: SessionView, count: int
) -> None:
    """Zero seats or more than ten is a validation error on field seats."""
    labels = [f"{row}{n}" for row in "ABCD" for n in range(1, 5)][:count]
    with pytest.raises(ValidationFailed) as caught:
        box.reserve("u1", session.session.id, labels)
    assert set(caught.value.fields) == {"seats"}


def test_ten_seats_is_allowed(box: BoxOffice, session: SessionView) -> None:
    """Ten is the most seats one reservation may hold."""
    labels = [f"{row}{n}" for row in "ABC" for n in range(1, 5)][:10]
    assert len(box.reserve("u1", session.session.id, labels).seats) == 10


@pytest.mark.parametrize("seats", [["A1", "A1"], ["A1", "a1"], ["B2", " b2 "]])
def test_seats_must_be_distinct(box: BoxOffice, session: SessionView, seats: list[str]) -> None:
    """Naming one seat twice (in any spelling) is a validation error."""
    with pytest.raises(ValidationFailed, match="invalid fields") as caught:
        box.reserve("u1", session.session.id, seats)
    assert "repeat" in caught.value.fields["seats"]


def test_malformed_labels_are_a_validation_error(box: BoxOffice, session: SessionView) -> None:
    """A string that is not a label is a validation error on seats."""
    with pytest.raises(ValidationFailed) as caught:
        box.reserve("u1", session.session.id, ["A1", "seat 7"])
    assert "seat 7" in caught.value.fields["seats"]


def test_unknown_seats_are_named(box: BoxOffice, session: SessionView) -> None:
    """Labels beyond the room are unknown_seat with details.seats, and nothing is held."""
    with pytest.raises(UnknownSeat) as caught:
        box.reserve("u1", session.session.id, ["A1", "E1", "A5"])
    assert caught.value.seats == ["A5", "E1"]
    assert caught.value.details == {"seats": ["A5", "E1"]}
    assert caught.value.status == 422
    assert statuses(box, session)["A1"] == "available"


def test_unknown_session_is_not_found(box: BoxOffice) -> None:
    """Reserving in a session that does not exist is session_not_found."""
    with pytest.raises(SessionNotFound):
        box.reserve("u1", uuid4(), ["A1"])


def test_all_or_none_when_one_seat_is_taken(box: BoxOffice, session: SessionView) -> None:
    """If any seat is held, the request fails naming it, and none of the others is held."""
    box.reserve("u1", session.session.id, ["A2"])
    with pytest.raises(SeatsUnavailable) as caught:
        box.reserve("u2", session.session.id, ["A1", "A2", "A3"])
    assert caught.value.seats == ["A2"]
    assert caught.value.status == 409
    seats = statuses(box, session)
    assert (seats["A1"], seats["A2"], seats["A3"]) == ("available", "held", "available")


def test_all_or_none_when_the_store_refuses(
    repo: InMemoryReservationRepo, clock: ManualClock, session: SessionView, box: BoxOffice
) -> None:
    """Without the lock service's help (another process's lock lapsed early), the store still
    refuses a held seat and the new claim's locks are given back."""
    box.reserve("u1", session.session.id, ["A2"])
    lock = InMemorySeatLock(clock)  # knows nothing of u1's hold
    other = BoxOffice(repo, lock, clock, timedelta(seconds=30))
    with pytest.raises(SeatsUnavailable) as caught:
        other.reserve("u2", session.session.id, ["A1", "A2"])
    assert caught.value.seats == ["A2"]
    # Its own locks were dropped, so a third buyer can take A1 through the same lock.
    other.reserve("u3", session.session.id, ["A1"])


def test_a_sold_seat_cannot_be_reserved(box: BoxOffice, session: SessionView) -> None:
    """A sold seat is unavailable for good."""
    reservation = box.reserve("u1", session.session.id, ["A1"])
    box.pay(reservation.id, "u1")
    with pytest.raises(SeatsUnavailable):
        box.reserve("u2", session.session.id, ["A1"])


def test_seat_order_does_not_matter(box: BoxOffice, session: SessionView) -> None:
    """["A3","A1"] is the same claim as ["A1","A3"]: stored in label order, and it conflicts."""
    reservation = box.reserve("u1", session.session.id, ["A3", "A1"])
    assert [str(label) for label in reservation.seats] == ["A1", "A3"]
    with pytest.raises(SeatsUnavailable) as caught:
        box.reserve("u2", session.session.id, ["A1", "A3"])
    assert caught.value.seats == ["A1", "A3"]


@pytest.mark.parametrize("seconds", [0.5, 1.25, 30, 120])
def test_hold_length_comes_from_configuration(
    repo: InMemoryReservationRepo,
    seat_lock: InMemorySeatLock,
    clock: ManualClock,
    seconds: float,
) -> None:
    """expires_at is created_at plus the configured hold, fractional seconds included."""
    box = BoxOffice(repo, seat_lock, clock, timedelta(seconds=seconds))
    session = new_session(box, price="1.00", days=1)
    reservation = box.reserve("u1", session.session.id, ["A1"])
    assert reservation.expires_at - reservation.created_at == timedelta(seconds=seconds)
    clock.advance(seconds - 0.001)
    assert box.seat_map(session.session.id).count("held") == 1
    clock.advance(0.001)
    assert box.seat_map(session.session.id).count("held") == 0


def test_lapsed_hold_reads_as_available(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """At expires_at the seats read available at once, with no job having run."""
    reservation = box.reserve("u1", session.session.id, ["A1", "A2"])
    clock.set(reservation.expires_at)
    assert statuses(box, session)["A1"] == "available"
    assert box.session(session.session.id).available == 16
    assert box.reservation(reservation.id, "u1").status is ReservationStatus.EXPIRED


def test_lapsed_seats_can_be_reserved_again_at_once(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """Another buyer can take a lapsed hold's seats before any sweeper has run."""
    first = box.reserve("u1", session.session.id, ["A1", "A2"])
    clock.set(first.expires_at)
    second = box.reserve("u2", session.session.id, ["A2", "A3"])
    assert second.status is ReservationStatus.PENDING


def test_a_reservation_is_read_by_its_owner_or_an_admin(
    box: BoxOffice, session: SessionView
) -> None:
    """Another user's reservation is not found for them; admins may read it."""
    reservation = box.reserve("u1", session.session.id, ["A1"])
    assert box.reservation(reservation.id, "u1") == reservation
    assert box.reservation(reservation.id, "admin-1", admin=True) == reservation
    with pytest.raises(ReservationNotFound):
        box.reservation(reservation.id, "u2")
    with pytest.raises(ReservationNotFound):
        box.reservation(uuid4(), "u1")
