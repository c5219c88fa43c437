"""Paying and cancelling: only a pending, unlapsed reservation can change, and only once."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    Reservation,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationNotFound,
    ReservationStatus,
    SeatLabel,
    SessionView,
)
from cinema_core.ports import Transaction


@pytest.fixture
def reservation(box: BoxOffice, session: SessionView) -> Reservation:
    return box.reserve("u1", session.session.id, ["A1", "A3"])


def statuses(box: BoxOffice, session: SessionView) -> dict[str, str]:
    return {str(label): str(status) for label, status in box.seat_map(session.session.id).seats}


def test_paying_a_pending_reservation_sells_its_seats(
    box: BoxOffice, session: SessionView, reservation: Reservation, clock: ManualClock
) -> None:
    """Payment makes a sale of the reservation's seats and amount, and confirms it."""
    sale, created = box.pay(reservation.id, "u1")
    assert created
    assert sale.reservation_id == reservation.id
    assert sale.seats == (SeatLabel("A", 1), SeatLabel("A", 3))
    assert sale.amount == Money(5000)
    assert sale.user_id == "u1"
    assert sale.session_id == session.session.id
    assert sale.paid_at == clock.now()
    assert box.sale(sale.id) == sale
    read = box.reservation(reservation.id, "u1")
    assert read.status is ReservationStatus.CONFIRMED
    assert read.sale_id == sale.id
    seats = statuses(box, session)
    assert seats["A1"] == seats["A3"] == "sold"


def test_sold_seats_stay_sold_after_the_hold_would_have_lapsed(
    box: BoxOffice, session: SessionView, reservation: Reservation, clock: ManualClock
) -> None:
    """A sale is permanent: neither the clock nor the sweeper frees its seats."""
    box.pay(reservation.id, "u1")
    clock.advance(3600)
    assert box.expire_due() == 0
    assert statuses(box, session)["A1"] == "sold"
    assert box.reservation(reservation.id, "u1").status is ReservationStatus.CONFIRMED


def test_paying_twice_returns_the_first_sale(
    box: BoxOffice, reservation: Reservation, clock: ManualClock
) -> None:
    """A second payment, even after the hold would have lapsed, answers the same sale."""
    first, _ = box.pay(reservation.id, "u1")
    clock.advance(60)
    again, created = box.pay(reservation.id, "u1")
    assert (again, created) == (first, False)
    assert box.purchases("u1").items == [first]


def test_paying_at_expires_at_is_too_late(
    box: BoxOffice, session: SessionView, reservation: Reservation, clock: ManualClock
) -> None:
    """At the very instant of expires_at the hold has lapsed: reservation_expired, nothing sold."""
    clock.set(reservation.expires_at)
    with pytest.raises(ReservationExpired) as caught:
        box.pay(reservation.id, "u1")
    assert caught.value.status == 410
    assert statuses(box, session)["A1"] == "available"
    assert box.purchases("u1").items == []


def test_paying_just_before_expires_at_succeeds(
    box: BoxOffice, reservation: Reservation, clock: ManualClock
) -> None:
    """One microsecond before the lapse the reservation is still payable."""
    clock.set(reservation.expires_at - timedelta(microseconds=1))
    assert box.pay(reservation.id, "u1")[1]


def test_paying_a_cancelled_reservation_is_refused(
    box: BoxOffice, reservation: Reservation
) -> None:
    """Cancelled is final: paying it is reservation_cancelled (409)."""
    box.cancel(reservation.id, "u1")
    with pytest.raises(ReservationCancelled) as caught:
        box.pay(reservation.id, "u1")
    assert caught.value.status == 409


def test_paying_a_swept_expired_reservation_is_refused(
    box: BoxOffice, reservation: Reservation, clock: ManualClock
) -> None:
    """Once the sweeper recorded the lapse, payment is still reservation_expired."""
    clock.set(reservation.expires_at)
    assert box.expire_due() == 1
    with pytest.raises(ReservationExpired):
        box.pay(reservation.id, "u1")


def test_paying_is_refused_when_a_seat_was_taken_by_another_process(
    box: BoxOffice, session: SessionView, reservation: Reservation, clock: ManualClock
) -> None:
    """If a seat no longer carries this reservation's hold, the sale cannot be honoured."""

    def steal(tx: Transaction) -> None:
        seats = tx.lock_seats(session.session.id, [SeatLabel("A", 3)])
        seats[0].hold(uuid4(), clock.now() + timedelta(minutes=5), "full")
        tx.save_seats(session.session.id, seats)

    box.repo.atomic(steal)
    with pytest.raises(ReservationExpired) as caught:
        box.pay(reservation.id, "u1")
    assert caught.value.details == {"seats": ["A3"]}
    assert statuses(box, session)["A1"] == "held"


def test_only_the_owner_can_pay_or_cancel(box: BoxOffice, reservation: Reservation) -> None:
    """Another user's reservation does not exist for them."""
    with pytest.raises(ReservationNotFound):
        box.pay(reservation.id, "u2")
    with pytest.raises(ReservationNotFound):
        box.cancel(reservation.id, "u2")
    with pytest.raises(ReservationNotFound):
        box.pay(uuid4(), "u1")
    assert box.reservation(reservation.id, "u1").status is ReservationStatus.PENDING


def test_cancelling_frees_the_seats_at_once(
    box: BoxOffice, session: SessionView, reservation: Reservation
) -> None:
    """Cancelled seats are available immediately, to anyone."""
    cancelled = box.cancel(reservation.id, "u1")
    assert cancelled.status is ReservationStatus.CANCELLED
    assert statuses(box, session)["A1"] == "available"
    assert box.reserve("u2", session.session.id, ["A1", "A3"]).user_id == "u2"


def test_cancelling_twice_answers_the_same(box: BoxOffice, reservation: Reservation) -> None:
    """Cancel is idempotent: the second answer equals the first."""
    first = box.cancel(reservation.id, "u1")
    assert box.cancel(reservation.id, "u1") == first


def test_cancelling_again_never_frees_seats_someone_else_holds_now(
    box: BoxOffice, session: SessionView, reservation: Reservation
) -> None:
    """A repeated cancel is a no-op, even after the seats were reserved by someone else."""
    box.cancel(reservation.id, "u1")
    box.reserve("u2", session.session.id, ["A1"])
    box.cancel(reservation.id, "u1")
    assert statuses(box, session)["A1"] == "held"


def test_cancelling_a_paid_reservation_is_refused(
    box: BoxOffice, session: SessionView, reservation: Reservation
) -> None:
    """Paid is final: cancel is reservation_confirmed and the seats stay sold."""
    box.pay(reservation.id, "u1")
    with pytest.raises(ReservationConfirmed) as caught:
        box.cancel(reservation.id, "u1")
    assert caught.value.status == 409
    assert statuses(box, session)["A1"] == "sold"


def test_cancelling_a_lapsed_reservation_is_refused(
    box: BoxOffice, reservation: Reservation, clock: ManualClock
) -> None:
    """At or after expires_at, cancel is reservation_expired, sweeper or not."""
    clock.set(reservation.expires_at)
    with pytest.raises(ReservationExpired):
        box.cancel(reservation.id, "u1")
    box.expire_due()
    with pytest.raises(ReservationExpired):
        box.cancel(reservation.id, "u1")


def test_the_model_refuses_to_expire_what_has_not_lapsed(
    reservation: Reservation, clock: ManualClock
) -> None:
    """Expiring a reservation before its time is a programming error, not a state change."""
    with pytest.raises(ValueError, match="lapsed"):
        reservation.expire([], clock.now())
    assert reservation.status is ReservationStatus.PENDING
