"""The events the box office publishes: one envelope, a type per fact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs

from cinema_core.after_sale.admissions import Ticket
from cinema_core.after_sale.refunds import Refund
from cinema_core.kernel.times import iso
from cinema_core.payments.payment import Payment
from cinema_core.rooms.seats import SeatLabel
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.sessions.session import Session

SESSION_CREATED: Final = "session.created"
SESSION_CHANGED: Final = "session.changed"
SESSION_CANCELLED: Final = "session.cancelled"
RESERVATION_CREATED: Final = "reservation.created"
RESERVATION_CHANGED: Final = "reservation.changed"
RESERVATION_EXPIRED: Final = "reservation.expired"
RESERVATION_CANCELLED: Final = "reservation.cancelled"
SEAT_RELEASED: Final = "seat.released"
PAYMENT_CONFIRMED: Final = "payment.confirmed"
SALE_REFUNDED: Final = "sale.refunded"
TICKET_CHECKED_IN: Final = "ticket.checked_in"
PAYMENT_STARTED: Final = "payment.started"
PAYMENT_APPROVED: Final = "payment.approved"
PAYMENT_DECLINED: Final = "payment.declined"
PAYMENT_EXPIRED: Final = "payment.expired"
PAYMENT_REFUNDED: Final = "payment.refunded"
EVENT_TYPES: Final = (
    SESSION_CREATED,
    SESSION_CHANGED,
    SESSION_CANCELLED,
    RESERVATION_CREATED,
    RESERVATION_CHANGED,
    RESERVATION_EXPIRED,
    RESERVATION_CANCELLED,
    SEAT_RELEASED,
    PAYMENT_CONFIRMED,
    SALE_REFUNDED,
    TICKET_CHECKED_IN,
    PAYMENT_STARTED,
    PAYMENT_APPROVED,
    PAYMENT_DECLINED,
    PAYMENT_EXPIRED,
    PAYMENT_REFUNDED,
)


@attrs.frozen
class Event:
    """One published fact. ``id`` is stable across redeliveries; ``data`` is plain JSON."""

    id: UUID
    type: str
    occurred_at: datetime
    data: Mapping[str, Any]
    # The W3C traceparent of the request that emitted it, when tracing is on: carried beside
    # the event (outbox row, message header), never in its envelope. Opaque to the core.
    traceparent: str | None = attrs.field(default=None, kw_only=True, eq=False)

    @property
    def session_id(self) -> str | None:
        value = self.data.get("session_id")
        return str(value) if value is not None else None

    def envelope(self) -> dict[str, Any]:
        """The JSON envelope of the contract."""
        return {
            "id": str(self.id),
            "type": self.type,
            "occurred_at": iso(self.occurred_at),
            "data": dict(self.data),
        }


def _who(reservation: Reservation) -> dict[str, Any]:
    return {
        "reservation_id": str(reservation.id),
        "session_id": str(reservation.session_id),
        "user_id": reservation.user_id,
        "seats": [str(label) for label in reservation.seats],
    }


def session_created(id: UUID, session: Session, at: datetime) -> Event:
    return Event(
        id,
        SESSION_CREATED,
        at,
        {
            "session_id": str(session.id),
            "room_id": str(session.room.id),
            "movie": session.movie,
            "starts_at": iso(session.starts_at),
            "seat_count": session.seat_count,
        },
    )


def session_changed(id: UUID, session: Session, changed: Sequence[str], at: datetime) -> Event:
    """The session's movie or times changed; ``changed`` names the fields that did."""
    return Event(
        id,
        SESSION_CHANGED,
        at,
        {
            "session_id": str(session.id),
            "movie": session.movie,
            "starts_at": iso(session.starts_at),
            "ends_at": iso(session.ends_at),
            "rating": session.rating,
            "changed": list(changed),
        },
    )


def session_cancelled(
    id: UUID, session: Session, reservations: int, sales: int, at: datetime
) -> Event:
    """The session will not be screened: ``reservations`` holds released, ``sales`` refunded."""
    return Event(
        id,
        SESSION_CANCELLED,
        at,
        {
            "session_id": str(session.id),
            "movie": session.movie,
            "starts_at": iso(session.starts_at),
            "reservations_released": reservations,
            "sales_refunded": sales,
        },
    )


def reservation_created(id: UUID, reservation: Reservation, at: datetime) -> Event:
    return Event(
        id,
        RESERVATION_CREATED,
        at,
        {**_who(reservation), "expires_at": iso(reservation.expires_at), **_goods(reservation)},
    )


def _goods(claim: Reservation | Sale) -> dict[str, Any]:
    """The counter's goods on a claim, only when it carries some (the fields are additive:
    a claim of seats alone is announced as before)."""
    found: dict[str, Any] = {}
    if claim.products:
        found["products"] = [
            {
                "code": line.code,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "amount": str(line.amount),
            }
            for line in claim.products
        ]
    discount = claim.discount_line
    if discount is not None:
        found["discount"] = {"code": discount.code, "amount": str(discount.amount)}
    return found


def reservation_changed(
    id: UUID,
    reservation: Reservation,
    added: Sequence[SeatLabel],
    removed: Sequence[SeatLabel],
    at: datetime,
) -> Event:
    """The hold now covers ``reservation.seats``: ``added`` were taken, ``removed`` given back."""
    return Event(
        id,
        RESERVATION_CHANGED,
        at,
        {
            **_who(reservation),
            "added": [str(label) for label in added],
            "removed": [str(label) for label in removed],
        },
    )


def reservation_ended(id: UUID, type: str, reservation: Reservation, at: datetime) -> Event:
    """``reservation.expired`` or ``reservation.cancelled``."""
    return Event(id, type, at, _who(reservation))


def seat_released(
    id: UUID,
    reservation: Reservation,
    reason: str,
    at: datetime,
    seats: Sequence[SeatLabel] | None = None,
) -> Event:
    """The reservation's seats freed; ``seats`` narrows them to those really released (a
    lapsed hold's seat may already be held by someone else, and must not be announced free;
    a changed hold releases only the seats it dropped, with ``reason`` ``changed``)."""
    return Event(
        id,
        SEAT_RELEASED,
        at,
        {
            "session_id": str(reservation.session_id),
            "seats": [str(label) for label in (reservation.seats if seats is None else seats)],
            "reservation_id": str(reservation.id),
            "reason": reason,
        },
    )


def payment_confirmed(id: UUID, sale: Sale, at: datetime, method: str = "instant") -> Event:
    """A sale made; ``method`` is who took the money online (``instant``, a provider's name);
    a counter sale names its own (``cash``, ``card``, ``pix``)."""
    if sale.counter is not None:
        method = sale.counter.method.value
    return Event(
        id,
        PAYMENT_CONFIRMED,
        at,
        {
            "sale_id": str(sale.id),
            "reservation_id": str(sale.reservation_id),
            "session_id": str(sale.session_id),
            "user_id": sale.user_id,
            "seats": [str(label) for label in sale.seats],
            "amount": str(sale.amount),
            "currency": sale.amount.currency,
            **_goods(sale),
            "method": method,
        },
    )


def sale_refunded(id: UUID, refund: Refund) -> Event:
    return Event(
        id,
        SALE_REFUNDED,
        refund.refunded_at,
        {
            "refund_id": str(refund.id),
            "sale_id": str(refund.sale_id),
            "session_id": str(refund.session_id),
            "user_id": refund.user_id,
            "seats": [str(label) for label in refund.seats],
            "amount": str(refund.amount),
            "currency": refund.amount.currency,
        },
    )


def seats_refunded(id: UUID, refund: Refund, reservation_id: UUID) -> Event:
    """``seat.released`` for the seats a refund put back on sale."""
    return Event(
        id,
        SEAT_RELEASED,
        refund.refunded_at,
        {
            "session_id": str(refund.session_id),
            "seats": [str(label) for label in refund.seats],
            "reservation_id": str(reservation_id),
            "reason": "refunded",
            "sale_id": str(refund.sale_id),
        },
    )


def ticket_checked_in(id: UUID, ticket: Ticket) -> Event:
    assert ticket.checked_in_at is not None
    return Event(
        id,
        TICKET_CHECKED_IN,
        ticket.checked_in_at,
        {
            "ticket_id": str(ticket.id),
            "sale_id": str(ticket.sale_id),
            "session_id": str(ticket.session_id),
            "seat": str(ticket.seat),
            "checked_in_at": iso(ticket.checked_in_at),
        },
    )


def payment_event(id: UUID, type: str, payment: Payment, at: datetime) -> Event:
    """One step of a payment through a provider (``payment.started`` … ``payment.refunded``)."""
    return Event(
        id,
        type,
        at,
        {
            "payment_id": str(payment.id),
            "reservation_id": str(payment.reservation_id),
            "session_id": str(payment.session_id),
            "user_id": payment.user_id,
            "amount": str(payment.amount),
            "currency": payment.amount.currency,
            "late": payment.late,
        },
    )
