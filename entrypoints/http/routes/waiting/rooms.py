"""An admin's side of a waiting room: turn it on or off, at a rate and a cap; watch it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import SessionNotFound
from cinema_core.waiting.room import MAX_ACTIVE, MAX_ADMIT_PER_MINUTE, RoomSettings
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import field


@attrs.frozen
class SetWaitingRoom:
    """Body of ``PUT /sessions/{id}/waiting-room``."""

    enabled: bool = field(example=True, description="While true, reserving needs an admission.")
    admit_per_minute: int = field(
        minimum=1,
        maximum=MAX_ADMIT_PER_MINUTE,
        example=600,
        description="Buyers admitted a minute, in arrival order.",
    )
    max_active: int = field(
        minimum=1,
        maximum=MAX_ACTIVE,
        example=200,
        description="Most buyers admitted at once; the queue waits while this many are in.",
    )


def _setting(name: str) -> Callable[[Any], Any]:
    return lambda figures: None if figures.settings is None else getattr(figures.settings, name)


@attrs.frozen
class WaitingRoom(Answer):
    """A session's waiting room now: its settings, who waits and who is in."""

    session_id: UUID = out()
    enabled: bool = out(lambda figures: figures.settings is not None and figures.settings.enabled)
    admit_per_minute: int | None = out(
        _setting("admit_per_minute"), example=600, description="Null: never set."
    )
    max_active: int | None = out(_setting("max_active"), example=200)
    waiting: int = out(minimum=0, description="Buyers in the queue.")
    active: int = out(minimum=0, description="Buyers admitted whose admission has not lapsed.")


def set_room(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    body: SetWaitingRoom = call.body
    settings = RoomSettings.checked(body.enabled, body.admit_per_minute, body.max_active)
    return WaitingRoom.response(call.services.box.set_waiting_room(session_id, settings))


def read_room(call: Call) -> Response:
    session_id = call.path_uuid("session_id", SessionNotFound)
    return WaitingRoom.response(call.services.box.waiting_room(session_id))


_PATH = "/sessions/{session_id}/waiting-room"

OPERATIONS = (
    Operation(
        "PUT",
        _PATH,
        set_room,
        "Turn a session's waiting room on or off (admin)",
        {
            200: Reply("The waiting room as set.", WaitingRoom),
            404: Reply("session_not_found", "Error"),
            503: Reply("waiting_room_unavailable: the queue's store cannot be reached", "Error"),
        },
        tag="waiting room",
        access="admin",
        body=SetWaitingRoom,
        description=(
            "While enabled, POST /reservations on this session by a customer needs an "
            "X-Admission header with an admission from the queue (staff and admins are not "
            "queued). Switching it on starts the admission schedule now; switching it off "
            "keeps the queue, and reserving needs no admission meanwhile. admit_per_minute "
            f"and max_active are integers from 1 to {MAX_ADMIT_PER_MINUTE} (else 422)."
        ),
    ),
    Operation(
        "GET",
        _PATH,
        read_room,
        "A session's waiting room: its queue's length, who is in, its rate (admin)",
        {
            200: Reply("The waiting room now (enabled false if never set).", WaitingRoom),
            404: Reply("session_not_found", "Error"),
            503: Reply("waiting_room_unavailable", "Error"),
        },
        tag="waiting room",
        access="admin",
    ),
)
