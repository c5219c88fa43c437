"""Routes of a sale after payment: read it, refund seats of it, its tickets and their QR codes
(each only by the sale's buyer or an admin)."""

from __future__ import annotations

import io
from typing import Any

import attrs
import segno
from starlette.responses import Response

from cinema_core import SaleNotFound, TicketNotFound
from cinema_core.reservations import MAX_SEATS_PER_RESERVATION

from . import views
from .idempotency import fingerprint
from .operations import Call, Operation, Reply
from .reservations import SCHEMAS as RESERVATION_SCHEMAS
from .reservations import SEAT_LABEL
from .responses import json_response
from .shapes import Rules, field


@attrs.frozen
class RefundSeats:
    """Body of ``POST /sales/{id}/refunds``: the seats to give back; without it (or without
    ``seats``), every seat of the sale not yet refunded."""

    seats: list[str] | None = field(
        default=None,
        min_items=1,
        max_items=MAX_SEATS_PER_RESERVATION,
        unique=True,
        each=Rules(pattern=SEAT_LABEL),
        example=["A1"],
    )


_ID = {"type": "string", "format": "uuid"}
_SALE = RESERVATION_SCHEMAS["Sale"]["properties"]
_TICKET_STATUS = {"type": "string", "enum": ["valid", "used", "refunded"]}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Refund": {
        "type": "object",
        "required": [
            "id",
            "sale_id",
            "session_id",
            "user_id",
            "seats",
            "amount",
            "currency",
            "refunded_at",
        ],
        "properties": {
            "id": _ID,
            "sale_id": _ID,
            "session_id": _ID,
            "user_id": {"type": "string", "description": "The sale's buyer."},
            "seats": _SALE["seats"],
            "amount": _SALE["amount"],
            "currency": {"type": "string"},
            "refunded_at": _SALE["paid_at"],
        },
    },
    "Ticket": {
        "type": "object",
        "required": [
            "id",
            "sale_id",
            "session_id",
            "seat",
            "ticket",
            "code",
            "status",
            "checked_in_at",
        ],
        "properties": {
            "id": _ID,
            "sale_id": _ID,
            "session_id": _ID,
            "seat": {"type": "string", "example": "A1"},
            "ticket": {"type": "string", "description": "The ticket type.", "example": "full"},
            "code": {
                "type": "string",
                "maxLength": 200,
                "description": "What the door scans (POST /checkins); keep it private.",
            },
            "status": _TICKET_STATUS,
            "checked_in_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    },
    "TicketList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}}
        },
    },
}


def _sale_id(call: Call) -> Any:
    return call.path_uuid("sale_id", SaleNotFound)


def get_sale(call: Call) -> Response:
    user = call.user
    sale = call.services.box.owned_sale(_sale_id(call), user.user_id, admin=user.is_admin)
    return json_response(views.sale(sale))


def _refund_identity(call: Call) -> str:
    """The sale and the seats given back in any order (``*``: every seat left)."""
    body: RefundSeats | None = call.body
    seats = None if body is None else body.seats
    return fingerprint(
        str(_sale_id(call)), *(["*"] if seats is None else sorted(s.strip().upper() for s in seats))
    )


def refund(call: Call) -> Response:
    body: RefundSeats | None = call.body
    seats = None if body is None else body.seats
    user = call.user
    made = call.services.box.refund(_sale_id(call), user.user_id, seats, admin=user.is_admin)
    return json_response(views.refund(made), 201)


def tickets(call: Call) -> Response:
    user = call.user
    found = call.services.box.tickets(_sale_id(call), user.user_id, admin=user.is_admin)
    return json_response({"items": [views.ticket(t) for t in found]})


def ticket_qr(call: Call) -> Response:
    ticket_id = call.path_uuid("ticket_id", TicketNotFound)
    user = call.user
    ticket = call.services.box.ticket(ticket_id, user.user_id, admin=user.is_admin)
    svg = io.BytesIO()
    # Medium error correction: a printed or on-screen code still scans a little smudged.
    segno.make(ticket.code, error="m", micro=False).save(svg, kind="svg", scale=4, border=4)
    # The code admits someone: no shared cache may keep it.
    return Response(svg.getvalue(), 200, {"Cache-Control": "private, no-store"}, "image/svg+xml")


_OWN = "Only the sale's buyer or an admin; another user's sale is 404 sale_not_found."

OPERATIONS = (
    Operation(
        "GET",
        "/sales/{sale_id}",
        get_sale,
        "Read a sale with what was refunded of it (its buyer, or an admin)",
        {200: Reply("The sale.", "Sale"), 404: Reply("sale_not_found", "Error")},
        tag="sales",
        access="user",
        description=_OWN,
    ),
    Operation(
        "POST",
        "/sales/{sale_id}/refunds",
        refund,
        "Give seats of a sale back; they are for sale again at once",
        {
            201: Reply("The refund.", "Refund"),
            404: Reply("sale_not_found", "Error"),
            409: Reply(
                "refund_window_closed (details.closed_at), already_refunded or ticket_used "
                "(details.seats), idempotency_in_progress",
                "Error",
            ),
            422: Reply(
                "unknown_seat (a seat not in the sale), couple_seat_split (half a couple seat "
                "whose other half stays sold), validation_error",
                "Error",
            ),
        },
        tag="sales",
        access="user",
        body=RefundSeats,
        body_required=False,
        idempotent=_refund_identity,
        description=(
            "All the seats named, or none. Without a body (or without seats), every seat of "
            "the sale not yet refunded. The buyer may refund until CINEMA_REFUND_CUTOFF_MINUTES "
            "(default 60) before the session starts, an admin until it ends. With "
            "Idempotency-Key, a retry gets the first answer again. " + _OWN
        ),
    ),
    Operation(
        "GET",
        "/sales/{sale_id}/tickets",
        tickets,
        "The tickets of a sale, one per seat, with the codes the door scans",
        {200: Reply("The tickets.", "TicketList"), 404: Reply("sale_not_found", "Error")},
        tag="sales",
        access="user",
        description=_OWN,
    ),
    Operation(
        "GET",
        "/tickets/{ticket_id}/qr.svg",
        ticket_qr,
        "A ticket's code as a QR code (SVG)",
        {
            200: Reply("The QR code of the ticket's code.", media="image/svg+xml"),
            404: Reply("ticket_not_found", "Error"),
        },
        tag="sales",
        access="user",
        description="Only the buyer of the ticket's sale or an admin; others get 404.",
    ),
)
