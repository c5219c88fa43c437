"""Waiting rooms' queues in process memory: one process's queues, under one lock."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs

from cinema_core.waiting.room import (
    Place,
    PlaceStatus,
    RoomFigures,
    RoomSettings,
    admissions_due,
    ms,
)


@attrs.define
class _Line:
    settings: RoomSettings
    next_at: float = 0.0
    # Ticket → user, in arrival order (the dict's order is the queue's).
    waiting: OrderedDict[str, str] = attrs.Factory(OrderedDict)
    # Ticket → when its admission lapses (ms).
    active: dict[str, float] = attrs.Factory(dict)
    users: dict[str, str] = attrs.Factory(dict)
    tickets: dict[str, str] = attrs.Factory(dict)


def _instant(at_ms: float) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000, UTC)


class InMemoryWaitingLines:
    """The ``WaitingLines`` port in process memory."""

    def __init__(self) -> None:
        self._lines: dict[UUID, _Line] = {}
        self._mutex = threading.Lock()

    def configure(self, session_id: UUID, settings: RoomSettings, now: datetime) -> None:
        with self._mutex:
            line = self._lines.get(session_id)
            if line is None:
                line = self._lines[session_id] = _Line(settings, ms(now))
            elif settings.enabled and not line.settings.enabled:
                line.next_at = ms(now)
            line.settings = settings

    def rooms(self) -> list[UUID]:
        with self._mutex:
            return list(self._lines)

    def settings(self, session_id: UUID) -> RoomSettings | None:
        with self._mutex:
            line = self._lines.get(session_id)
            return None if line is None else line.settings

    def join(
        self, session_id: UUID, user_id: str, ticket: str, now: datetime, lasts: timedelta
    ) -> Place | None:
        with self._mutex:
            line = self._lines.get(session_id)
            if line is None or not line.settings.enabled:
                return None
            self._advance(line, ms(now), lasts)
            known = line.users.get(user_id)
            if known is not None and (known in line.waiting or known in line.active):
                return self._place(session_id, line, known, new=False)
            if known is not None:
                line.tickets.pop(known, None)
            line.waiting[ticket] = user_id
            line.users[user_id] = ticket
            line.tickets[ticket] = user_id
            self._advance(line, ms(now), lasts)
            return self._place(session_id, line, ticket, new=True)

    def look(self, session_id: UUID, ticket: str, now: datetime, lasts: timedelta) -> Place | None:
        with self._mutex:
            line = self._lines.get(session_id)
            if line is None or ticket not in line.tickets:
                return None
            self._advance(line, ms(now), lasts)
            return self._place(session_id, line, ticket, new=False)

    def leave(self, session_id: UUID, ticket: str) -> bool:
        with self._mutex:
            line = self._lines.get(session_id)
            if line is None:
                return False
            user = line.tickets.pop(ticket, None)
            if user is None:
                return False
            line.waiting.pop(ticket, None)
            line.active.pop(ticket, None)
            if line.users.get(user) == ticket:
                del line.users[user]
            return True

    def active_until(
        self, session_id: UUID, ticket: str, user_id: str, now: datetime
    ) -> datetime | None:
        with self._mutex:
            line = self._lines.get(session_id)
            if line is None or line.tickets.get(ticket) != user_id:
                return None
            until = line.active.get(ticket)
            return None if until is None or until <= ms(now) else _instant(until)

    def figures(self, session_id: UUID, now: datetime, lasts: timedelta) -> RoomFigures:
        with self._mutex:
            line = self._lines.get(session_id)
            if line is None:
                return RoomFigures(session_id, None, 0, 0)
            self._advance(line, ms(now), lasts)
            return RoomFigures(session_id, line.settings, len(line.waiting), len(line.active))

    def _advance(self, line: _Line, now: float, lasts: timedelta) -> None:
        for ticket in [t for t, until in line.active.items() if until <= now]:
            del line.active[ticket]
        if not line.settings.enabled:
            return
        count, line.next_at = admissions_due(
            line.settings, line.next_at, now, len(line.waiting), len(line.active)
        )
        until = now + lasts.total_seconds() * 1000
        for _ in range(count):
            ticket, _user = line.waiting.popitem(last=False)
            line.active[ticket] = until

    def _place(self, session_id: UUID, line: _Line, ticket: str, *, new: bool) -> Place:
        user = line.tickets[ticket]
        next_at = _instant(line.next_at)
        if ticket in line.waiting:
            # A linear scan: a process's own queue, when no Redis is configured, stays small.
            position = list(line.waiting).index(ticket) + 1
            return Place(
                session_id, ticket, user, PlaceStatus.WAITING, position, None, next_at, new
            )
        until = line.active.get(ticket)
        if until is not None:
            return Place(
                session_id, ticket, user, PlaceStatus.ADMITTED, 0, _instant(until), next_at, new
            )
        return Place(session_id, ticket, user, PlaceStatus.LAPSED, 0, None, next_at, new)
