"""The audit trail in process memory: every published event once, newest first."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from uuid import UUID

from cinema_core.events.envelopes import Event


class InMemoryAuditTrail:
    """The ``AuditTrail`` port in process memory; thread-safe, idempotent by event id."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._ids: set[UUID] = set()
        self._mutex = threading.Lock()

    def record(self, events: Sequence[Event]) -> None:
        with self._mutex:
            for event in events:
                if event.id not in self._ids:
                    self._ids.add(event.id)
                    self._events.append(event)

    def events(
        self, *, type: str | None, session_id: UUID | None, before: int | None, limit: int
    ) -> list[tuple[int, Event]]:
        with self._mutex:
            return newest_first(
                self._events, type=type, session_id=session_id, before=before, limit=limit
            )


def newest_first(
    events: Sequence[Event],
    *,
    type: str | None,
    session_id: UUID | None,
    before: int | None,
    limit: int,
) -> list[tuple[int, Event]]:
    """Events (with their index as sequence number) matching the filters, newest first,
    strictly before ``before``: what the audit trail's readers ask of an in-memory log."""
    end = len(events) if before is None else min(before, len(events))
    found: list[tuple[int, Event]] = []
    for seq in range(end - 1, -1, -1):
        event = events[seq]
        if type is not None and event.type != type:
            continue
        if session_id is not None and event.session_id != str(session_id):
            continue
        found.append((seq, event))
        if len(found) == limit:
            break
    return found
