"""A delivery: one event for one webhook, and what each attempt to send it gave.

The body is the event's envelope, encoded once when the delivery is made: every attempt sends
the same bytes with the same ``Cinema-Event-Id``, so a receiver that keeps the ids it has seen
takes each event exactly once however often it is sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

import attrs

from cinema_core.events.envelopes import Event

from .backoff import Backoff

DeliveryStatus = Literal["pending", "delivered", "failed", "disabled"]
STATUSES: Final = ("pending", "delivered", "failed", "disabled")
MAX_ERROR: Final = 500


def encode(event: Event) -> bytes:
    """The bytes POSTed: the envelope as compact JSON."""
    return json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False).encode()


@attrs.frozen
class Outcome:
    """What one attempt got: the receiver's status, or the error that stopped it (no status:
    refused, timed out, unreachable)."""

    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410

    def describe(self) -> str:
        if self.error:
            return self.error[:MAX_ERROR]
        return f"HTTP {self.status}"


@attrs.define
class Delivery:
    """One event owed to one webhook: pending until a 2xx (delivered), a 410 (disabled), or a
    day of failures (failed)."""

    id: UUID
    webhook_id: UUID
    event_id: UUID
    event_type: str
    body: bytes
    created_at: datetime
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    @classmethod
    def of(cls, id: UUID, webhook_id: UUID, event: Event, now: datetime) -> Delivery:
        return cls(id, webhook_id, event.id, event.type, encode(event), now, next_attempt_at=now)

    def attempted(self, outcome: Outcome, now: datetime, backoff: Backoff) -> None:
        """Record an attempt and decide what comes next."""
        self.attempts += 1
        self.last_attempt_at = now
        self.last_status = outcome.status
        if outcome.delivered:
            self.status, self.delivered_at, self.next_attempt_at = "delivered", now, None
            self.last_error = None
            return
        self.last_error = outcome.describe()
        if outcome.gone:
            self.status, self.next_attempt_at = "disabled", None
            return
        due = backoff.next_attempt(self.created_at, now, self.attempts)
        if due is None:
            self.status, self.next_attempt_at = "failed", None
        else:
            self.next_attempt_at = due
