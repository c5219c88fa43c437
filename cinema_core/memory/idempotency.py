"""Idempotency keys in process memory: remembered for a day, duplicates in flight wait."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from datetime import datetime, timedelta
from functools import partial

import attrs

from cinema_core.errors import IdempotencyInProgress, IdempotencyKeyReused
from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.ports import StoredAnswer

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
        # (created_at, tie-breaker, key) of the entries, oldest first: forgetting pops only the
        # old ones instead of scanning every key on every request.
        self._ages: list[tuple[datetime, int, tuple[str, str]]] = []
        self._tie = itertools.count()
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
                    self._remember((scope, key), _Entry(fingerprint, self._clock.now()))
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
            entry = _Entry(fingerprint, self._clock.now(), answer)
            if (scope, key) in self._entries:
                # Its heap entry, from begin, is pushed again when it comes up (see _forget_old).
                self._entries[(scope, key)] = entry
            else:
                self._remember((scope, key), entry)
            self._changed.notify_all()

    def abandon(self, scope: str, key: str) -> None:
        with self._changed:
            self._entries.pop((scope, key), None)
            self._changed.notify_all()

    def _settled(self, scope: str, key: str, entry: _Entry) -> bool:
        current = self._entries.get((scope, key))
        return current is not entry or entry.answer is not None

    def _remember(self, key: tuple[str, str], entry: _Entry) -> None:
        self._entries[key] = entry
        heapq.heappush(self._ages, (entry.created_at, next(self._tie), key))

    def _forget_old(self) -> None:
        cutoff = self._clock.now() - REMEMBER
        ages = self._ages
        while ages and ages[0][0] < cutoff:
            _, _, key = heapq.heappop(ages)
            entry = self._entries.get(key)
            if entry is None:
                continue
            if entry.created_at < cutoff:
                del self._entries[key]
            else:
                # Answered (or claimed again) since: due again at its newer age.
                heapq.heappush(ages, (entry.created_at, next(self._tie), key))
