"""Handled event ids in process memory, per consumer."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from uuid import UUID


class InMemoryProcessedEvents:
    """The ``ProcessedEvents`` port in process memory; thread-safe."""

    def __init__(self) -> None:
        self._seen: dict[str, set[UUID]] = {}
        self._mutex = threading.Lock()

    def seen(self, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
        with self._mutex:
            handled = self._seen.get(consumer, set())
            return {id for id in event_ids if id in handled}

    def mark(self, consumer: str, event_ids: Sequence[UUID]) -> None:
        with self._mutex:
            self._seen.setdefault(consumer, set()).update(event_ids)
