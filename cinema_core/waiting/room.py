"""A waiting room's rules: who is admitted next, when, and how long an admission lasts.

Buyers are admitted strictly in arrival order (an arrival number given by the store, never a
client's clock) on a schedule: one admission every ``60 / admit_per_minute`` seconds, and never
more active buyers than ``max_active``. Admission is worked out whenever anyone asks (a join, a
poll, the admin's figures), from the schedule's next instant: no process needs a ticker, and
admissions owed since the last question are made at once, so the rate holds however rarely
buyers poll. A slot nobody could take (the queue empty, or the cap reached) is not saved up:
the schedule restarts from now, so a quiet spell never becomes a burst.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

from cinema_core.errors import ValidationFailed

DEFAULT_ADMISSION = timedelta(seconds=600)
MAX_ADMIT_PER_MINUTE = 1_000_000
MAX_ACTIVE = 1_000_000


@attrs.frozen
class RoomSettings:
    """What an admin set for one session's waiting room."""

    enabled: bool
    admit_per_minute: int
    max_active: int

    @classmethod
    def checked(cls, enabled: object, admit_per_minute: object, max_active: object) -> RoomSettings:
        """The settings, or ``ValidationFailed`` naming each field that makes no sense."""
        bad: dict[str, str] = {}
        if not isinstance(enabled, bool):
            bad["enabled"] = "must be true or false"
        for name, value, top in (
            ("admit_per_minute", admit_per_minute, MAX_ADMIT_PER_MINUTE),
            ("max_active", max_active, MAX_ACTIVE),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                bad[name] = f"must be an integer from 1 to {top}"
        if bad:
            raise ValidationFailed(bad)
        assert isinstance(enabled, bool)
        assert isinstance(admit_per_minute, int)
        assert isinstance(max_active, int)
        return cls(enabled, admit_per_minute, max_active)

    @property
    def interval_ms(self) -> float:
        """Milliseconds between two admissions."""
        return 60_000 / self.admit_per_minute


def admissions_due(
    settings: RoomSettings, next_at_ms: float, now_ms: float, waiting: int, active: int
) -> tuple[int, float]:
    """How many at the head of the queue are admitted at ``now_ms``, and the schedule's next
    instant after them. The Redis adapter's scripts do the same sum (pinned by the contract
    suite over both)."""
    room = max(0, settings.max_active - active)
    due = (
        math.floor((now_ms - next_at_ms) / settings.interval_ms) + 1 if next_at_ms <= now_ms else 0
    )
    count = min(due, waiting, room)
    next_at_ms += count * settings.interval_ms
    if next_at_ms < now_ms and count in (waiting, room):
        next_at_ms = now_ms
    return count, next_at_ms


class PlaceStatus(StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    # Admitted once, and the admission ran out: the place is free again.
    LAPSED = "lapsed"


@attrs.frozen
class Place:
    """One buyer's place in a session's queue, as the store reads it now."""

    session_id: UUID
    ticket: str
    user_id: str
    status: PlaceStatus
    # 1 for the next to be admitted; 0 once admitted or lapsed.
    position: int
    # While admitted: when the admission lapses.
    expires_at: datetime | None
    # When the schedule admits its next buyer (the estimate starts from it).
    next_at: datetime
    # False when the buyer had joined already (the same place again).
    new: bool = True

    def estimated_wait(self, settings: RoomSettings, now: datetime) -> int:
        """Whole seconds until this place is admitted at the set rate (0 once admitted); the
        cap of active buyers may make it longer."""
        if self.status is not PlaceStatus.WAITING:
            return 0
        ahead = (self.position - 1) * settings.interval_ms / 1000
        return math.ceil(max(0.0, (self.next_at - now).total_seconds()) + ahead)


@attrs.frozen
class RoomFigures:
    """A waiting room as its admin screen shows it."""

    session_id: UUID
    settings: RoomSettings | None
    waiting: int
    active: int


def ms(instant: datetime) -> float:
    """An instant as milliseconds since 1970, the schedule's unit in every store."""
    return instant.timestamp() * 1000
