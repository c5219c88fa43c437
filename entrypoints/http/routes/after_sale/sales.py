"""Routes of a sale after payment: read it, refund seats of it, its tickets and their QR codes
(each only by the sale's buyer or an admin)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
import segno
from starlette.responses import Response

from cinema_core import Money, SaleNotFound, TicketNotFound
from cinema_core.after_sale.admissions import TicketStatus
from cinema_core.selling.reservations import MAX_SEATS_PER_RESERVATION
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.idempotency import fingerprint
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import Rules, days_from_now, field
from entrypoints.http.routes.selling.reservations import SEAT_LABEL, Sale


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


@attrs.frozen
class Refund(Answer):
    """Seats of a sale given back, and the money returned for them."""

    id: UUID = out()
    sale_id: UUID = out()
    session_id: UUID = out()
    user_id: str = out(description="The sale's buyer.", example="alice")
    seats: list[str] = out(example=["A1"])
    amount: Money = out(example="25.00")
    currency: str = out("amount.currency", example="BRL")
    refunded_at: datetime = out(example=days_from_now(0, hour=18))


@attrs.frozen
class Ticket(Answer):
    """One seat of a sale as the door knows it."""

    id: UUID = out()
    sale_id: UUID = out()
    session_id: UUID = out()
    seat: str = out(example="A1")
    ticket: str = out(description="The ticket type.", example="full")
    code: str = out(
        description="What the door scans (POST /checkins); keep it private.",
        example="kq3Xb9…",
        maxLength=200,
    )
    status: TicketStatus = out()
    checked_in_at: datetime | None = out()


@attrs.frozen
class TicketList(Answer):
    """The tickets of a sale, one per seat."""

    items: list[Ticket] = out(lambda found: found)


def _sale_id(call: Call) -> Any:
    return call.path_uuid("sale_id", SaleNotFound)


def get_sale(call: Call) -> Response:
    user = call.user
    sale = call.services.box.owned_sale(_sale_id(call), user.user_id, admin=user.is_admin)
    return Sale.response(sale)


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
    return Refund.response(made, 201)


def tickets(call: Call) -> Response:
    user = call.user
    found = call.services.box.tickets(_sale_id(call), user.user_id, admin=user.is_admin)
    return TicketList.response(found)


def ticket_qr_code(code: str) -> segno.QRCode:
    """A ticket's code as the QR code shown on screen and printed at the counter."""
    # Medium error correction: a printed or on-screen code still scans a little smudged.
    return segno.make(code, error="m", micro=False)


def ticket_qr(call: Call) -> Response:
    ticket_id = call.path_uuid("ticket_id", TicketNotFound)
    user = call.user
    ticket = call.services.box.ticket(ticket_id, user.user_id, admin=user.is_admin)
    svg = io.BytesIO()
    ticket_qr_code(ticket.code).save(svg, kind="svg", scale=4, border=4)
    # The code admits someone: no shared cache may keep it.
    return Response(svg.getvalue(), 200, {"Cache-Control": "private, no-store"}, "image/svg+xml")


_OWN = "Only the sale's buyer or an admin; another user's sale is 404 sale_not_found."

OPERATIONS = (
    Operation(
        "GET",
        "/sales/{sale_id}",
        get_sale,
        "Read a sale with what was refunded of it (its buyer, or an admin)",
        {200: Reply("The sale.", Sale), 404: Reply("sale_not_found", "Error")},
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
            201: Reply("The refund.", Refund),
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
        {200: Reply("The tickets.", TicketList), 404: Reply("sale_not_found", "Error")},
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
