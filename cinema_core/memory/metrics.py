"""Counting what the use cases do in this process's memory, without a metrics library: a
tally a library user or a test can read (the no-op default is ``kernel.metrics.NO_METRICS``)."""

from __future__ import annotations

import threading
from collections import Counter


class TalliedMetrics:
    """Counts in this process's memory: ``counts["holds"]``, ``["held_seats"]``, ``["sales"]``,
    ``["sold_seats"]``, ``["refunds"]``, ``["refunded_seats"]``, ``["checkins"]`` and
    ``["payments:<status>"]``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    @property
    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)

    def _add(self, **amounts: int) -> None:
        with self._lock:
            self._counts.update(amounts)

    def held(self, seats: int) -> None:
        self._add(holds=1, held_seats=seats)

    def sold(self, seats: int) -> None:
        self._add(sales=1, sold_seats=seats)

    def refunded(self, seats: int) -> None:
        self._add(refunds=1, refunded_seats=seats)

    def checked_in(self) -> None:
        self._add(checkins=1)

    def payment(self, status: str) -> None:
        with self._lock:
            self._counts[f"payments:{status}"] += 1
