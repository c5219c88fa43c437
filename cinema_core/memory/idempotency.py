"""Idempotency keys in process memory: remembered for a day, duplicates in flight wait."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from functools import partial

import attrs

from ..clock import Clock, SystemClock
from ..errors import IdempotencyInProgress, IdempotencyKeyReused
from ..ports import StoredAnswer

REMEMBER = timedelta(hours=24)


@attrs.define
class _Entry:
    fingerprint: str
    created_at: datetime
    answer: StoredAnswer | None = None


class InMemoryIdempotencyStore:
    """The ``IdempotencyStore`` port in process memory."""

    def __init__(self, clock: Clock | None = None, wait: float = 10.0):
        self._clock = clock or SystemClock()
        self._wait = wait
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._changed = threading.Condition()

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        deadline = time.monotonic() + self._wait
        with self._changed:
            self._forget_old()
            # Look again after every change: an abandoned claim may have been taken up by
            # another duplicate meanwhile, whose answer this one must then wait for.
            while True:
                entry = self._entries.get((scope, key))
                if entry is None:
                    self._entries[(scope, key)] = _Entry(fingerprint, self._clock.now())
                    return None
                if entry.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                if entry.answer is not None:
                    return entry.answer
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._changed.wait_for(
                    partial(self._settled, scope, key, entry), timeout=remaining
                ):
                    raise IdempotencyInProgress()

    def finish(self, scope: str, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        with self._changed:
            self._entries[(scope, key)] = _Entry(fingerprint, self._clock.now(), answer)
            self._changed.notify_all()

    def abandon(self, scope: str, key: str) -> None:
        with self._changed:
            self._entries.pop((scope, key), None)
            self._changed.notify_all()

    def _settled(self, scope: str, key: str, entry: _Entry) -> bool:
        current = self._entries.get((scope, key))
        return current is not entry or entry.answer is not None

    def _forget_old(self) -> None:
        if len(self._entries) < 10_000:
            return
        cutoff = self._clock.now() - REMEMBER
        for key in [key for key, entry in self._entries.items() if entry.created_at < cutoff]:
            del self._entries[key]
