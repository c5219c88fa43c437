"""Routes of sessions: create (admin), list, read, and the seat map."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from starlette.responses import Response

from cinema_core import Money, SessionNotFound
from cinema_core.seats import MAX_ROWS, MAX_SEATS_PER_ROW
from cinema_core.sessions import MAX_NAME

from . import views
from .operations import Call, Operation, Param, Reply
from .responses import json_response, raw_json_response
from .shapes import NOT_BLANK, days_from_now, field

PAGE = (
    Param(
        "limit", "Page size, 1–200 (default 50).", {"type": "integer", "minimum": 1, "maximum": 200}
    ),
    Param("cursor", "The next_cursor of the previous page."),
)


@attrs.frozen
class CreateSession:
    """Body of ``POST /sessions``: a movie in a room of rows × seats_per_row seats."""

    movie: str = field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Filme X")
    room: str = field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Sala 1")
    starts_at: datetime = field(
        example=days_from_now(7), description="With a timezone; not in the past."
    )
    price: Money = field(positive=True, example="25.00")
    rows: int = field(minimum=1, maximum=MAX_ROWS, example=4)
    seats_per_row: int = field(minimum=1, maximum=MAX_SEATS_PER_ROW, example=4)


_ID = {"type": "string", "format": "uuid"}
_MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "25.00"}
_INSTANT = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Session": {
        "type": "object",
        "required": [
            "id",
            "movie",
            "room",
            "starts_at",
            "price",
            "currency",
            "seat_count",
            "available",
        ],
        "properties": {
            "id": _ID,
            "movie": {"type": "string"},
            "room": {"type": "string"},
            "starts_at": _INSTANT,
            "price": _MONEY,
            "currency": {"type": "string", "example": "BRL"},
            "seat_count": {"type": "integer"},
            "available": {"type": "integer", "description": "Seats neither sold nor held now."},
        },
    },
    "SessionPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}},
            "next_cursor": {"type": "string", "nullable": True},
        },
    },
    "Seat": {
        "type": "object",
        "required": ["label", "row", "number", "status"],
        "properties": {
            "label": {"type": "string", "example": "A1"},
            "row": {"type": "string", "example": "A"},
            "number": {"type": "integer", "example": 1},
            "status": {"type": "string", "enum": ["available", "held", "sold"]},
        },
    },
    "SeatMap": {
        "type": "object",
        "required": ["session_id", "available", "held", "sold", "seats"],
        "properties": {
            "session_id": _ID,
            "available": {"type": "integer"},
            "held": {"type": "integer"},
            "sold": {"type": "integer"},
            "seats": {"type": "array", "items": {"$ref": "#/components/schemas/Seat"}},
        },
    },
}


def create_session(call: Call) -> Response:
    body: CreateSession = call.body
    view = call.services.box.create_session(
        movie=body.movie,
        room=body.room,
        starts_at=body.starts_at,
        price=body.price,
        rows=body.rows,
        seats_per_row=body.seats_per_row,
    )
    location = f"/sessions/{view.session.id}"
    return json_response(views.session(view), 201, {"Location": location})


def list_sessions(call: Call) -> Response:
    page = call.services.box.sessions(call.limit(), call.cursor())
    return json_response(
        {"items": [views.session(view) for view in page.items], "next_cursor": page.next_cursor}
    )


def get_session(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    return json_response(views.session(call.services.box.session(session_id)))


def get_seats(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    return raw_json_response(views.seat_map_json(call.services.box.seat_map(session_id)))


OPERATIONS = (
    Operation(
        "POST",
        "/sessions",
        create_session,
        "Create a session (admin)",
        {201: Reply("The new session.", "Session", headers=("Location",))},
        tag="sessions",
        access="admin",
        body=CreateSession,
        description="At least 16 seats in all (else 422 too_few_seats).",
    ),
    Operation(
        "GET",
        "/sessions",
        list_sessions,
        "List sessions by start time",
        {200: Reply("A page of sessions.", "SessionPage")},
        tag="sessions",
        query=PAGE,
    ),
    Operation(
        "GET",
        "/sessions/{session_id}",
        get_session,
        "Read a session with its live availability",
        {200: Reply("The session.", "Session")},
        tag="sessions",
    ),
    Operation(
        "GET",
        "/sessions/{session_id}/seats",
        get_seats,
        "The seat map, as it is now",
        {200: Reply("Every seat with its status.", "SeatMap")},
        tag="sessions",
        description="A hold whose expires_at has passed reads as available at once.",
    ),
)
