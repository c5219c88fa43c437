"""Explicit conversions between database rows and the domain's model objects."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cinema_core.events import Event
from cinema_core.money import Money
from cinema_core.reservations import Reservation, ReservationStatus, Sale
from cinema_core.seats import Seat, SeatLabel
from cinema_core.sessions import Session

# A row by column name: SQLAlchemy's RowMapping or a psycopg dict_row.
Row = Mapping[Any, Any]


def session_from_row(row: Row) -> Session:
    return Session(
        id=row["id"],
        movie=row["movie"],
        room=row["room"],
        starts_at=row["starts_at"],
        price=Money(row["price_cents"], row["currency"]),
        rows=row["rows"],
        seats_per_row=row["seats_per_row"],
    )


def session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "movie": session.movie,
        "room": session.room,
        "starts_at": session.starts_at,
        "price_cents": session.price.cents,
        "currency": session.price.currency,
        "rows": session.rows,
        "seats_per_row": session.seats_per_row,
    }


def seat_from_row(row: Row) -> Seat:
    return Seat(
        SeatLabel(row["row"], row["number"]),
        held_by=row["held_by"],
        hold_expires_at=row["hold_expires_at"],
        sale_id=row["sale_id"],
    )


def labels_to_text(labels: Iterable[SeatLabel]) -> list[str]:
    return [str(label) for label in labels]


def labels_from_text(texts: Iterable[str]) -> tuple[SeatLabel, ...]:
    return tuple(SeatLabel.parse(text) for text in texts)


def reservation_from_row(row: Row) -> Reservation:
    return Reservation(
        id=row["id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        seats=labels_from_text(row["seats"]),
        amount=Money(row["amount_cents"], row["currency"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        status=ReservationStatus(row["status"]),
        sale_id=row["sale_id"],
    )


def reservation_values(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "session_id": reservation.session_id,
        "user_id": reservation.user_id,
        "seats": array(labels_to_text(reservation.seats)),
        "amount_cents": reservation.amount.cents,
        "currency": reservation.amount.currency,
        "status": reservation.status.value,
        "created_at": reservation.created_at,
        "expires_at": reservation.expires_at,
        "sale_id": reservation.sale_id,
    }


def sale_from_row(row: Row) -> Sale:
    return Sale(
        id=row["id"],
        reservation_id=row["reservation_id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        seats=labels_from_text(row["seats"]),
        amount=Money(row["amount_cents"], row["currency"]),
        paid_at=row["paid_at"],
    )


def sale_values(sale: Sale) -> dict[str, Any]:
    return {
        "id": sale.id,
        "reservation_id": sale.reservation_id,
        "session_id": sale.session_id,
        "user_id": sale.user_id,
        "seats": array(labels_to_text(sale.seats)),
        "amount_cents": sale.amount.cents,
        "currency": sale.amount.currency,
        "paid_at": sale.paid_at,
    }


def event_from_row(row: Row) -> Event:
    return Event(row["id"], row["type"], row["occurred_at"], row["data"])


def events_json(events: Sequence[Event]) -> str:
    """The events as the JSON array ``statements.ADD_EVENTS`` turns into outbox rows."""
    return json.dumps(
        [
            {
                "id": str(event.id),
                "type": event.type,
                "occurred_at": event.occurred_at.isoformat(),
                "session_id": event.session_id,
                "data": dict(event.data),
            }
            for event in events
        ]
    )


def array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal (``{A,B}``) of strings, numbers, UUIDs, instants or ``None``.

    Sent as one text parameter and cast by the statement: psycopg's adaptation of Python lists
    inspects every element and costs more than the rest of a hot statement's execution.
    Strings are quoted and escaped; the other types' text never needs it.
    """
    return (
        "{"
        + ",".join(
            [
                "NULL"
                if value is None
                else _quoted(value)
                if isinstance(value, str)
                else value.isoformat()
                if isinstance(value, datetime)
                else str(value)
                for value in values
            ]
        )
        + "}"
    )


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def event_values(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "session_id": event.session_id,
        "data": dict(event.data),
    }
