"""What each use case tells the world: one envelope, the data fields of the contract."""

from __future__ import annotations

from uuid import UUID

import pytest

from cinema_core import BoxOffice, Event, ManualClock, SeatsUnavailable, SessionView
from cinema_core.events.envelopes import (
    PAYMENT_CONFIRMED,
    RESERVATION_CANCELLED,
    RESERVATION_CREATED,
    RESERVATION_EXPIRED,
    SEAT_RELEASED,
    SESSION_CREATED,
)
from cinema_core.memory import InMemoryReservationRepo


def emitted(repo: InMemoryReservationRepo) -> list[Event]:
    """Every event recorded so far after the sessions were created, oldest first."""
    newest_first = repo.events(type=None, session_id=None, before=None, limit=1000)
    return [event for _, event in reversed(newest_first) if event.type != SESSION_CREATED]


def test_creating_a_session_emits_session_created(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """session.created names the session, its room, movie, start and seats for sale."""
    (_, event), *_ = repo.events(type=SESSION_CREATED, session_id=None, before=None, limit=9)
    assert event.envelope()["data"] == {
        "session_id": str(session.session.id),
        "room_id": str(session.session.room.id),
        "movie": "Filme X",
        "starts_at": "2026-12-01T12:00:00.000Z",
        "seat_count": 16,
    }
    assert event.occurred_at == clock.now()


def test_reserving_emits_reservation_created(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """reservation.created carries who, what and until when."""
    reservation = box.reserve("u1", session.session.id, ["A3", "A1"])
    (event,) = emitted(repo)
    assert event.type == RESERVATION_CREATED
    assert event.occurred_at == clock.now()
    assert event.data == {
        "reservation_id": str(reservation.id),
        "session_id": str(session.session.id),
        "user_id": "u1",
        "seats": ["A1", "A3"],
        "expires_at": "2026-11-01T12:00:30.000Z",
    }


def test_a_refused_reservation_emits_nothing(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """All or none holds for events too: a failed claim leaves no trace in the outbox."""
    box.reserve("u1", session.session.id, ["A1"])
    with pytest.raises(SeatsUnavailable):
        box.reserve("u2", session.session.id, ["A1", "A2"])
    assert [e.type for e in emitted(repo)] == [RESERVATION_CREATED]


def test_paying_emits_payment_confirmed(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """payment.confirmed carries the sale, its amount as a decimal string, the currency and
    the method (instant: paying the hold sold it at once)."""
    reservation = box.reserve("u1", session.session.id, ["A1", "A2"])
    sale, _ = box.pay(reservation.id, "u1")
    box.pay(reservation.id, "u1")  # a repeat makes no new event
    events = emitted(repo)
    assert [e.type for e in events] == [RESERVATION_CREATED, PAYMENT_CONFIRMED]
    assert events[1].data == {
        "sale_id": str(sale.id),
        "reservation_id": str(reservation.id),
        "session_id": str(session.session.id),
        "user_id": "u1",
        "seats": ["A1", "A2"],
        "amount": "50.00",
        "currency": "BRL",
        "method": "instant",
    }


def test_cancelling_emits_cancelled_and_released_once(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """reservation.cancelled then seat.released (reason cancelled); a repeat emits nothing."""
    reservation = box.reserve("u1", session.session.id, ["B2"])
    box.cancel(reservation.id, "u1")
    box.cancel(reservation.id, "u1")
    events = emitted(repo)
    assert [e.type for e in events] == [RESERVATION_CREATED, RESERVATION_CANCELLED, SEAT_RELEASED]
    who = {
        "reservation_id": str(reservation.id),
        "session_id": str(session.session.id),
        "user_id": "u1",
        "seats": ["B2"],
    }
    assert events[1].data == who
    assert events[2].data == {
        "session_id": str(session.session.id),
        "seats": ["B2"],
        "reservation_id": str(reservation.id),
        "reason": "cancelled",
    }


def test_expiry_emits_expired_and_released(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView, clock: ManualClock
) -> None:
    """reservation.expired then seat.released (reason expired), stamped at the sweep."""
    reservation = box.reserve("u1", session.session.id, ["C1", "C2"])
    clock.advance(45)
    box.expire_due()
    events = emitted(repo)
    assert [e.type for e in events] == [RESERVATION_CREATED, RESERVATION_EXPIRED, SEAT_RELEASED]
    assert events[1].data["seats"] == ["C1", "C2"]
    assert events[1].data["user_id"] == "u1"
    assert events[2].data["reason"] == "expired"
    assert events[2].data["reservation_id"] == str(reservation.id)
    assert events[2].occurred_at == clock.now()


def test_every_event_has_its_own_id_and_a_contract_envelope(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """The envelope is id, type, occurred_at (ISO UTC with Z) and data."""
    reservation = box.reserve("u1", session.session.id, ["A1"])
    box.cancel(reservation.id, "u1")
    events = emitted(repo)
    assert len({e.id for e in events}) == len(events)
    envelope = events[0].envelope()
    assert set(envelope) == {"id", "type", "occurred_at", "data"}
    assert UUID(envelope["id"]) == events[0].id
    assert envelope["occurred_at"] == "2026-11-01T12:00:00.000Z"


def test_events_can_be_filtered_by_type_and_session(
    box: BoxOffice, repo: InMemoryReservationRepo, session: SessionView
) -> None:
    """The audit trail answers newest first, by type and by session."""
    other = box.create_session(
        movie="Y",
        room="2",
        starts_at=session.session.starts_at,
        price=session.session.price,
        rows=4,
        seats_per_row=4,
    )
    first = box.reserve("u1", session.session.id, ["A1"])
    box.reserve("u1", other.session.id, ["A1"])
    box.cancel(first.id, "u1")
    in_session = repo.events(type=None, session_id=session.session.id, before=None, limit=10)
    assert [e.type for _, e in in_session] == [
        SEAT_RELEASED,
        RESERVATION_CANCELLED,
        RESERVATION_CREATED,
        SESSION_CREATED,
    ]
    created = repo.events(type=RESERVATION_CREATED, session_id=None, before=None, limit=10)
    assert [e.data["session_id"] for _, e in created] == [
        str(other.session.id),
        str(session.session.id),
    ]
    newest_seq = in_session[0][0]
    older = repo.events(type=None, session_id=None, before=newest_seq, limit=1)
    assert [e.type for _, e in older] == [RESERVATION_CANCELLED]
