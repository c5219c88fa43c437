"""The audit trail for admins: every published event (the outbox's published rows), newest first."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import attrs
from starlette.responses import Response

from cinema_core import ValidationFailed
from cinema_core.events.envelopes import EVENT_TYPES
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Param, Reply

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


@attrs.frozen
class Event(Answer):
    """An event as published: its envelope (encoded from the envelope itself)."""

    id: UUID = out(lambda e: e["id"])
    type: EventType = out(lambda e: e["type"])
    occurred_at: str = out(
        lambda e: e["occurred_at"], format="date-time", example="2026-12-01T19:00:00.000Z"
    )
    data: dict[str, Any] = out(lambda e: e["data"], example={})


@attrs.frozen
class EventPage(Answer):
    """A page of events, newest first; next_cursor asks for the next one (null on the last)."""

    items: list[Event] = out(lambda page: page[0])
    next_cursor: str | None = out(lambda page: page[1])


def events(call: Call) -> Response:
    query = call.query
    fields: dict[str, str] = {}
    limit = 50
    try:
        limit = call.limit()
    except ValidationFailed as error:
        fields.update(error.fields)
    type_ = query.get("type") or None
    if type_ is not None and type_ not in EVENT_TYPES:
        fields["type"] = f"must be one of {', '.join(EVENT_TYPES)}"
    session_id: UUID | None = None
    if raw_session := query.get("session_id"):
        try:
            session_id = UUID(raw_session)
        except ValueError:
            fields["session_id"] = "must be a UUID"
    before: int | None = None
    if cursor := call.cursor():
        if cursor.isdigit() and cursor.isascii() and len(cursor) < 19:
            before = int(cursor)
        else:
            fields["cursor"] = "is not a cursor this API gave out"
    if fields:
        raise ValidationFailed(fields)
    # The outbox's published rows: every event the relay has published (any process's).
    found = call.services.box.repo.events(
        type=type_, session_id=session_id, before=before, limit=limit + 1, published_only=True
    )
    page = found[:limit]
    more = str(page[-1][0]) if len(found) > limit else None
    return EventPage.response(([event.envelope() for _, event in page], more))


OPERATIONS = (
    Operation(
        "GET",
        "/admin/events",
        events,
        "The audit trail of published events, newest first (admin)",
        {200: Reply("A page of event envelopes.", EventPage)},
        tag="admin",
        access="admin",
        query=(
            Param(
                "type", "Only events of this type.", {"type": "string", "enum": list(EVENT_TYPES)}
            ),
            Param(
                "session_id", "Only events of this session.", {"type": "string", "format": "uuid"}
            ),
            Param(
                "limit",
                "Page size, 1–200 (default 50).",
                {"type": "integer", "minimum": 1, "maximum": 200},
            ),
            Param("cursor", "The next_cursor of the previous page."),
        ),
    ),
)
