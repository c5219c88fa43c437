"""A buyer's side of a waiting room: join the queue, see where one stands, leave it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import SessionNotFound
from cinema_core.waiting.room import PlaceStatus
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import days_from_now

_TICKET = "a3f0c2…"


@attrs.frozen
class QueuePlace(Answer):
    """A place in a session's queue: waiting (position, estimate) or admitted (the token)."""

    ticket: str = out("place.ticket", example=_TICKET, description="Names this place.")
    session_id: UUID = out("place.session_id")
    status: PlaceStatus = out("place.status")
    position: int = out(
        "place.position", minimum=0, description="1 for the next admitted; 0 once admitted."
    )
    estimated_wait_seconds: int = out(minimum=0, description="At the set rate; 0 once admitted.")
    admission: str | None = out(
        example=None, description="While admitted: the X-Admission token for POST /reservations."
    )
    expires_at: datetime | None = out(
        "place.expires_at",
        example=days_from_now(0, hour=18),
        description="While admitted: when the admission lapses.",
    )


@attrs.frozen
class LeftQueue(Answer):
    """A place given up: the next in the queue may take it."""

    ticket: str = out(example=_TICKET)
    session_id: UUID = out()
    status: Literal["left"] = out(lambda place: "left")


def join(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    standing = call.services.box.join_queue(session_id, call.user.user_id)
    return QueuePlace.response(standing, 201 if standing.place.new else 200)


def standing(call: Call) -> Response:
    ticket = call.request.path_params["ticket"]
    return QueuePlace.response(call.services.box.queue_standing(ticket, call.user.user_id))


def leave(call: Call) -> Response:
    ticket = call.request.path_params["ticket"]
    return LeftQueue.response(call.services.box.leave_queue(ticket, call.user.user_id))


_NOT_FOUND = "queue_ticket_not_found: no such place, another user's, or given up"
_DOWN = "waiting_room_unavailable: the queue's store cannot be reached; nobody is admitted"

OPERATIONS = (
    Operation(
        "POST",
        "/sessions/{session_id}/queue",
        join,
        "Join a session's waiting-room queue",
        {
            201: Reply("A new place at the back of the queue.", QueuePlace),
            200: Reply("The place this user already had (waiting or admitted).", QueuePlace),
            404: Reply("session_not_found", "Error"),
            409: Reply("waiting_room_off: the session has no waiting room on", "Error"),
            503: Reply(_DOWN, "Error"),
        },
        tag="waiting room",
        access="user",
        description=(
            "Places are kept in arrival order across every API process. Joining again while "
            "waiting or admitted gives the same place (200); after leaving or a lapsed "
            "admission, a new place at the back (201). The first in line may be admitted at "
            "once (status admitted, with its token)."
        ),
    ),
    Operation(
        "GET",
        "/queue/{ticket}",
        standing,
        "Where a place in the queue stands: waiting, admitted (with its token) or lapsed",
        {
            200: Reply("The place now.", QueuePlace),
            404: Reply(_NOT_FOUND, "Error"),
            503: Reply(_DOWN, "Error"),
        },
        tag="waiting room",
        access="user",
        description=(
            "Poll it every few seconds: admission is worked out as buyers ask, at the set rate "
            "and within the cap of active buyers. The admission token serves this user for "
            "this session, for any number of reservations, until expires_at or until the "
            "place is given up."
        ),
    ),
    Operation(
        "DELETE",
        "/queue/{ticket}",
        leave,
        "Leave the queue, or give up an admission: the place goes to the next",
        {
            200: Reply("The place is given up; its token no longer serves.", LeftQueue),
            404: Reply(_NOT_FOUND, "Error"),
            503: Reply(_DOWN, "Error"),
        },
        tag="waiting room",
        access="user",
    ),
)
