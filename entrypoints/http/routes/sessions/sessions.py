"""Routes of sessions: create (admin), list, read, and the seat map."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import (
    DEFAULT_TICKET_TYPES,
    Category,
    Money,
    SessionFilter,
    SessionNotFound,
    SessionStatus,
    ValidationFailed,
)
from cinema_core.rooms.layout import MAX_NAME
from cinema_core.rooms.seats import MAX_ROWS, MAX_SEATS_PER_ROW
from cinema_core.selling import ticket_types as tickets
from cinema_core.selling.ticket_types import MAX_DOCUMENT, MAX_TYPE_NAME, MAX_TYPES
from cinema_core.sessions.session import DEFAULT_DURATION, DEFAULT_RATING, MAX_DURATION
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Param, Reply
from entrypoints.http.framework.responses import accepts_gzip, raw_json_response
from entrypoints.http.framework.shapes import NOT_BLANK, Rules, days_from_now, field

from .seat_maps import Quota, SeatMap, gzip_tag, seat_map_body

# A session's age rating (sessions.session.RATINGS): L (for all) or the least age.
Rating = Literal["L", "10", "12", "14", "16", "18"]

PAGE = (
    Param(
        "limit", "Page size, 1–200 (default 50).", {"type": "integer", "minimum": 1, "maximum": 200}
    ),
    Param("cursor", "The next_cursor of the previous page."),
)


FILTER = (
    Param.of("cinema", "Only this cinema's sessions (exact name).", str, max_length=MAX_NAME),
    Param.of(
        "movie", "Only movies whose title contains this, in any case.", str, max_length=MAX_NAME
    ),
    Param.of("from", "Only sessions starting at or after this instant.", datetime),
    Param.of("to", "Only sessions starting at or before this instant.", datetime),
)


@attrs.frozen
class TicketTypeBody:
    """A ticket type: what share of a seat's price it costs, and its quota if it has one."""

    code: str = field(pattern="^[a-z_]{1,20}$", example="half")
    name: str = field(
        min_length=1, max_length=MAX_TYPE_NAME, pattern=NOT_BLANK, example="Meia-entrada"
    )
    percent: int = field(minimum=1, maximum=100, example=50)
    quota_percent: int | None = field(default=None, minimum=1, maximum=100, example=40)
    quota_group: str | None = field(
        default=None,
        pattern="^[a-z_]{1,20}$",
        example="meia",
        description="Types sharing one quota (same quota_percent); default: the type's code.",
    )
    document: str | None = field(
        default=None,
        min_length=1,
        max_length=MAX_DOCUMENT,
        pattern=NOT_BLANK,
        example="Carteira de Identificação Estudantil (CIE)",
        description="The proof of the right to this type, checked at the door.",
    )


@attrs.frozen
class CreateSession:
    """Body of ``POST /sessions``: a session in a room of the chain (``room_id`` and ``prices``
    or ``price``), or, in the first API's shape, in a private rectangular room of its own
    (``room``, ``rows``, ``seats_per_row`` and ``price``)."""

    movie: str = field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Filme X")
    starts_at: datetime = field(
        example=days_from_now(7), description="With a timezone; not in the past."
    )
    # The example leaves it out, so that "Try it out" works on a fresh box office (the first
    # shape needs no room); a room's id comes from POST /rooms or GET /rooms.
    room_id: UUID | None = field(
        default=None,
        example=None,
        description="A room of the chain (GET /rooms); null or absent for the first shape.",
    )
    prices: dict[Category, Money] | None = field(
        default=None,
        each=Rules(positive=True),
        description="A price per seat of each category the room has.",
        example={"standard": "25.00", "premium": "40.00"},
    )
    price: Money | None = field(
        default=None, positive=True, example="25.00", description="One price for every seat."
    )
    duration_minutes: int = field(
        default=DEFAULT_DURATION, minimum=1, maximum=MAX_DURATION, example=130
    )
    ticket_types: list[TicketTypeBody] | None = field(
        default=None,
        min_items=1,
        max_items=MAX_TYPES,
        description=(
            "Default: full (100 %), half (50 %, quota group meia: at most 40 % of the seats, "
            "student card at the door) and senior (60+, 50 %, no quota, photo ID)."
        ),
        example=[
            {"code": "full", "name": "Inteira", "percent": 100},
            {
                "code": "half",
                "name": "Meia-entrada",
                "percent": 50,
                "quota_percent": 40,
                "quota_group": "meia",
                "document": "Carteira de Identificação Estudantil (CIE)",
            },
        ],
    )
    forbid_single_gaps: bool = field(default=False, example=False)
    rating: Rating = field(
        default=DEFAULT_RATING, example="14", description="The age rating: L, 10, 12, 14, 16, 18."
    )
    room: str | None = field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        pattern=NOT_BLANK,
        example="Sala 1",
        description="First shape: the name of a private room of rows × seats_per_row.",
    )
    rows: int | None = field(default=None, minimum=1, maximum=MAX_ROWS, example=4)
    seats_per_row: int | None = field(default=None, minimum=1, maximum=MAX_SEATS_PER_ROW, example=4)


@attrs.frozen
class ChangeSession:
    """Body of ``PATCH /sessions/{id}``: the fields to change, at least one, checked as for
    ``POST /sessions``; any other field is refused (422 naming it)."""

    CLOSED: ClassVar[bool] = True

    movie: str | None = field(
        default=None, min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Filme Y"
    )
    starts_at: datetime | None = field(
        default=None, example=days_from_now(8), description="With a timezone; not in the past."
    )
    duration_minutes: int | None = field(default=None, minimum=1, maximum=MAX_DURATION, example=130)
    rating: Rating | None = field(default=None, example="16")


@attrs.frozen
class TicketType(Answer):
    """A ticket type of a session: its share of a seat's price, and its quota if it has one."""

    code: str = out(example="half")
    name: str = out(example="Meia-entrada")
    percent: int = out(example=50)
    quota_percent: int | None = out(omit_none=True, example=40)
    quota_group: str | None = out("group", omit_none=True, example="meia")
    document: str | None = out(omit_none=True, example="Carteira de Identificação Estudantil (CIE)")


@attrs.frozen
class Session(Answer):
    """A session with its live availability (encoded from a SessionView)."""

    id: UUID = out("session.id")
    movie: str = out("session.movie", example="Filme X")
    room: str = out("session.room.name", description="The room's name.", example="Sala 1")
    room_id: UUID = out("session.room.id")
    cinema: str = out("session.room.cinema", description="Empty for a private room.")
    starts_at: datetime = out("session.starts_at", example=days_from_now(7))
    ends_at: datetime = out("session.ends_at", example=days_from_now(7, hour=21))
    duration_minutes: int = out("session.duration_minutes", example=120)
    price: Money = out("session.price", description="The lowest of prices.", example="25.00")
    prices: dict[Category, Money] = out("session.prices", example={"standard": "25.00"})
    currency: str = out("session.price.currency", example="BRL")
    seat_count: int = out("session.seat_count", description="Seats for sale.")
    available: int = out(description="Seats neither sold nor held now.")
    ticket_types: list[TicketType] = out("session.ticket_types")
    forbid_single_gaps: bool = out("session.forbid_single_gaps")
    rating: str = out("session.rating", example="14", description="L, 10, 12, 14, 16 or 18.")
    quotas: dict[str, Quota] = out(
        description="Each quota group (e.g. meia) with its limit, use and what is left, now."
    )
    status: SessionStatus = out(
        description="on_sale until sales_close_at, then sales_closed; or cancelled."
    )
    sales_close_at: datetime = out(
        description="starts_at + CINEMA_SALES_CLOSE_MINUTES, never after ends_at.",
        example=days_from_now(7, hour=18),
    )


@attrs.frozen
class SessionPage(Answer):
    """A page of sessions; next_cursor asks for the next one (null on the last)."""

    items: list[Session] = out()
    next_cursor: str | None = out()


def _legacy_fields(body: CreateSession) -> dict[str, str]:
    """What the first shape (a private room) lacks, when no room_id is given."""
    missing = {
        name: "is required (or room_id, to use a room of the chain)"
        for name in ("room", "rows", "seats_per_row")
        if getattr(body, name) is None
    }
    if body.price is None and body.prices is None:
        missing["price"] = "is required"
    return missing


def create_session(call: Call) -> Response:
    body: CreateSession = call.body
    if body.room_id is None and _legacy_fields(body):
        raise ValidationFailed(_legacy_fields(body))
    if body.room_id is not None and body.price is None and body.prices is None:
        raise ValidationFailed({"prices": "is required (or one price for every seat)"})
    types = (
        DEFAULT_TICKET_TYPES
        if body.ticket_types is None
        else tuple(
            tickets.TicketType(
                t.code, t.name, t.percent, t.quota_percent, t.quota_group, t.document
            )
            for t in body.ticket_types
        )
    )
    view = call.services.box.create_session(
        movie=body.movie,
        starts_at=body.starts_at,
        room_id=body.room_id,
        prices=body.prices,
        price=body.price,
        duration_minutes=body.duration_minutes,
        ticket_types=types,
        forbid_single_gaps=body.forbid_single_gaps,
        rating=body.rating,
        room=body.room,
        rows=body.rows,
        seats_per_row=body.seats_per_row,
    )
    location = f"/sessions/{view.session.id}"
    return Session.response(view, 201, {"Location": location})


def list_sessions(call: Call) -> Response:
    past = _past(call)
    page = call.services.box.sessions(call.limit(), call.cursor(), _filter(call), past=past)
    return SessionPage.response(page)


def get_session(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    return Session.response(call.services.box.session(session_id))


def change_session(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    body: ChangeSession = call.body
    changed = call.services.box.change_session(
        session_id,
        movie=body.movie,
        starts_at=body.starts_at,
        duration_minutes=body.duration_minutes,
        rating=body.rating,
    )
    return Session.response(changed)


def cancel_session(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    cancelled = call.services.box.cancel_session(session_id, call.user.user_id)
    return Session.response(cancelled)


def _past(call: Call) -> bool:
    raw = call.query.get("past")
    if raw is None or raw == "" or raw == "false":
        return False
    if raw != "true":
        raise ValidationFailed({"past": "must be true or false"})
    call.require_admin("past sessions")
    return True


def _filter(call: Call) -> SessionFilter:
    given = call.params(*FILTER)
    return SessionFilter(given["cinema"], given["movie"], given["from"], given["to"])


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def get_seats(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    made = seat_map_body(call.services.box.seat_map(session_id))
    tag = made.tag
    coded = accepts_gzip(call.request.headers.get("accept-encoding"))
    # Either form's tag names the same seats: a client that switched encodings is as current.
    coded_tag = gzip_tag(tag)
    headers = {
        "ETag": coded_tag if coded else tag,
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
    }
    wanted = call.request.headers.get("if-none-match")
    if wanted is not None and (wanted.strip() == "*" or {tag, coded_tag} & _tags(wanted)):
        return Response(status_code=304, headers=headers)
    if coded:
        headers["Content-Encoding"] = "gzip"
    return raw_json_response(made.gzipped if coded else made.plain, headers=headers)


OPERATIONS = (
    Operation(
        "POST",
        "/sessions",
        create_session,
        "Create a session (admin)",
        {
            201: Reply("The new session.", Session, headers=("Location",)),
            404: Reply("room_not_found", "Error"),
            409: Reply(
                "room_busy: the room has an overlapping session (details.session_id)", "Error"
            ),
        },
        tag="sessions",
        access="admin",
        body=CreateSession,
        description=(
            "In a room of the chain: room_id with prices (one per category the room has) or "
            "one price. Or the first shape: room, rows, seats_per_row and price make a private "
            "rectangular room of standard seats (at least 16, else 422 too_few_seats). Two "
            "sessions of one room never overlap in [starts_at, starts_at + duration)."
        ),
    ),
    Operation(
        "GET",
        "/sessions",
        list_sessions,
        "List sessions by start time",
        {
            200: Reply("A page of sessions.", SessionPage),
            401: Reply("past=true without a valid token", "Error"),
            403: Reply("past=true asked by someone who is not an admin", "Error"),
        },
        tag="sessions",
        query=(
            *PAGE,
            *FILTER,
            Param(
                "past",
                "true (admin only; anyone else 403): also sessions whose sales closed and "
                "cancelled ones. Default false: only sessions still on sale.",
                {"type": "boolean", "default": False},
            ),
        ),
        description=(
            "Only sessions still on sale (not cancelled, sales not closed) unless past=true."
        ),
    ),
    Operation(
        "GET",
        "/sessions/{session_id}",
        get_session,
        "Read a session with its live availability",
        {200: Reply("The session.", Session)},
        tag="sessions",
    ),
    Operation(
        "PATCH",
        "/sessions/{session_id}",
        change_session,
        "Change a session's movie or times (admin)",
        {
            200: Reply("The session as changed.", Session),
            409: Reply(
                "room_busy: the room has an overlapping session (details.session_id); "
                "session_cancelled",
                "Error",
            ),
        },
        tag="sessions",
        access="admin",
        body=ChangeSession,
        description=(
            "At least one of movie, starts_at, duration_minutes, checked as for POST /sessions "
            "(422 otherwise). The room's sessions still never overlap. Holds and sales stay; "
            "session.changed is published with the fields that changed."
        ),
    ),
    Operation(
        "DELETE",
        "/sessions/{session_id}",
        cancel_session,
        "Cancel a session, releasing its holds and refunding its sales (admin)",
        {200: Reply("The session, status cancelled (again on a cancelled one).", Session)},
        tag="sessions",
        access="admin",
        description=(
            "Every pending hold is released and every sale refunded in full, whatever the "
            "refund window, checked-in seats included; the tickets read refunded. "
            "session.cancelled, one sale.refunded per sale and seat.released are published. "
            "A purchase racing it never survives; later holds and payments are 409 "
            "session_cancelled. The room is free again for that time."
        ),
    ),
    Operation(
        "GET",
        "/sessions/{session_id}/seats",
        get_seats,
        "The seat map, as it is now",
        {
            200: Reply(
                "Every seat with its status; gzip-coded when Accept-Encoding allows it.",
                SeatMap,
                headers=("ETag", "Vary", "Content-Encoding"),
            ),
            304: Reply(
                "Not modified: If-None-Match named the current ETag (of either coding).",
                headers=("ETag", "Vary"),
            ),
        },
        tag="sessions",
        description=(
            "A hold whose expires_at has passed reads as available at once. Blocked seats are "
            "listed with status blocked; couple seats carry pair."
        ),
    ),
)
