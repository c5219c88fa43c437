"""Routes of reservations: hold seats, read, cancel, pay (each only by its owner)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import ReservationNotFound
from cinema_core.reservations import MAX_SEATS_PER_RESERVATION, MIN_SEATS_PER_RESERVATION

from . import views
from .idempotency import answer_once, fingerprint
from .operations import Call, Operation, Reply
from .responses import json_response
from .sessions import SCHEMAS as SESSION_SCHEMAS
from .shapes import Rules, field

# A seat label as a client may write it: case does not matter (the box office reads "a1" as A1).
SEAT_LABEL = r"^[A-Za-z][1-9][0-9]{0,2}$"


@attrs.frozen
class CreateReservation:
    """Body of ``POST /reservations``: 1–10 distinct seat labels of one session."""

    session_id: UUID = field(
        example="3fa85f64-5717-4562-b3fc-2c963f66afa6",
        description="A session's id, from GET /sessions.",
    )
    seats: list[str] = field(
        min_items=MIN_SEATS_PER_RESERVATION,
        max_items=MAX_SEATS_PER_RESERVATION,
        unique=True,
        each=Rules(pattern=SEAT_LABEL),
        example=["A1", "A2"],
    )
    tickets: dict[str, int] | None = field(
        default=None,
        each=Rules(minimum=0, maximum=MAX_SEATS_PER_RESERVATION),
        description=(
            "Seats by ticket type code, given to the seats in label order; the rest are the "
            "session's first type."
        ),
        example={"half": 1},
    )


_ID = {"type": "string", "format": "uuid"}
_MONEY = SESSION_SCHEMAS["Session"]["properties"]["price"]
_INSTANT = {"type": "string", "format": "date-time"}
_SEATS = {"type": "array", "items": {"type": "string", "example": "A1"}}
_LINES = {"type": "array", "items": {"$ref": "#/components/schemas/Line"}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Line": {
        "type": "object",
        "required": ["seat", "category", "ticket", "price"],
        "properties": {
            "seat": {"type": "string", "example": "A1"},
            "category": SESSION_SCHEMAS["Seat"]["properties"]["category"],
            "ticket": {"type": "string", "example": "half"},
            "price": _MONEY,
        },
    },
    "Reservation": {
        "type": "object",
        "required": [
            "id",
            "session_id",
            "user_id",
            "seats",
            "status",
            "amount",
            "currency",
            "created_at",
            "expires_at",
            "sale_id",
            "lines",
        ],
        "properties": {
            "id": _ID,
            "session_id": _ID,
            "user_id": {"type": "string"},
            "seats": _SEATS,
            "status": {"type": "string", "enum": ["pending", "confirmed", "expired", "cancelled"]},
            "amount": _MONEY,
            "currency": {"type": "string"},
            "created_at": _INSTANT,
            "expires_at": _INSTANT,
            "sale_id": {"type": "string", "format": "uuid", "nullable": True},
            "lines": _LINES,
        },
    },
    "Sale": {
        "type": "object",
        "required": [
            "id",
            "reservation_id",
            "session_id",
            "user_id",
            "seats",
            "amount",
            "currency",
            "paid_at",
            "lines",
            "status",
            "refunded_seats",
            "refunded_amount",
        ],
        "properties": {
            "id": _ID,
            "reservation_id": _ID,
            "session_id": _ID,
            "user_id": {"type": "string"},
            "seats": _SEATS,
            "amount": _MONEY,
            "currency": {"type": "string"},
            "paid_at": _INSTANT,
            "lines": _LINES,
            "status": {"type": "string", "enum": ["paid", "partially_refunded", "refunded"]},
            "refunded_seats": _SEATS,
            "refunded_amount": _MONEY,
        },
    },
}


def reserve(call: Call) -> Response:
    body: CreateReservation = call.body
    tickets = {code: count for code, count in (body.tickets or {}).items() if count}
    canonical = fingerprint(
        str(body.session_id),
        *sorted(s.strip().upper() for s in body.seats),
        *(f"{code}={count}" for code, count in sorted(tickets.items())),
    )

    def produce() -> Response:
        box = call.services.box
        made = box.reserve(call.user.user_id, body.session_id, body.seats, tickets)
        return json_response(views.reservation(made), 201)

    return answer_once(call, "POST /reservations", canonical, produce)


def get_reservation(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    user = call.user
    found = call.services.box.reservation(reservation_id, user.user_id, admin=user.is_admin)
    return json_response(views.reservation(found))


def cancel(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)
    cancelled = call.services.box.cancel(reservation_id, call.user.user_id)
    return json_response(views.reservation(cancelled))


def pay(call: Call) -> Response:
    reservation_id = call.path_uuid("reservation_id", ReservationNotFound)

    def produce() -> Response:
        sale, new = call.services.box.pay(reservation_id, call.user.user_id)
        return json_response(views.sale(sale), 201 if new else 200)

    return answer_once(call, "POST /reservations/{id}/payment", str(reservation_id), produce)


_PENDING_ONLY = "409 reservation_confirmed if paid; 410 reservation_expired if lapsed."

OPERATIONS = (
    Operation(
        "POST",
        "/reservations",
        reserve,
        "Hold seats for a while (all or none)",
        {
            201: Reply("The pending reservation.", "Reservation"),
            404: Reply("session_not_found", "Error"),
            409: Reply(
                "seats_unavailable (details.seats: held, sold or blocked), "
                "ticket_quota_exhausted (details.ticket, details.remaining) or "
                "idempotency_in_progress",
                "Error",
            ),
        },
        tag="reservations",
        access="user",
        body=CreateReservation,
        idempotent=True,
        description=(
            "Holds every seat or none. Seat order does not matter. unknown_seat (422) names "
            "labels the session does not have; couple_seat_split (422) names the missing half "
            "of a couple seat; unknown_ticket_type (422) a ticket type the session lacks. With "
            "Idempotency-Key, a retry with the same body gets the first answer again; another "
            "body with that key is 422 idempotency_key_reused."
        ),
    ),
    Operation(
        "GET",
        "/reservations/{reservation_id}",
        get_reservation,
        "Read a reservation (its owner, or an admin)",
        {200: Reply("The reservation; a lapsed pending one reads expired.", "Reservation")},
        tag="reservations",
        access="user",
    ),
    Operation(
        "DELETE",
        "/reservations/{reservation_id}",
        cancel,
        "Cancel a pending reservation, freeing its seats at once",
        {
            200: Reply("The cancelled reservation (again on a cancelled one).", "Reservation"),
            409: Reply("reservation_confirmed", "Error"),
            410: Reply("reservation_expired", "Error"),
        },
        tag="reservations",
        access="user",
        description=_PENDING_ONLY,
    ),
    Operation(
        "POST",
        "/reservations/{reservation_id}/payment",
        pay,
        "Pay a pending reservation: its seats are sold",
        {
            201: Reply("The new sale.", "Sale"),
            200: Reply("The reservation was already paid: the same sale.", "Sale"),
            409: Reply("reservation_cancelled or idempotency_in_progress", "Error"),
            410: Reply("reservation_expired: the hold lapsed, nothing was sold", "Error"),
        },
        tag="reservations",
        access="user",
        idempotent=True,
    ),
)
