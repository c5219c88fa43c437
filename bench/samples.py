"""Latency samples and status codes, per route; merged across generator processes.

Percentiles are computed from every sample (no histogram buckets, no sampling).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter

import attrs

# A failed request (connection lost, bad framing) is counted under this pseudo-status.
NO_ANSWER = 0


@attrs.define
class Samples:
    """What one generator saw: latency in nanoseconds per route, and (route, status) counts."""

    latencies: dict[str, array[int]] = attrs.Factory(dict)
    statuses: Counter[tuple[str, int]] = attrs.Factory(Counter)

    def add(self, route: str, status: int, nanoseconds: int) -> None:
        found = self.latencies.get(route)
        if found is None:
            found = self.latencies[route] = array("q")
        found.append(nanoseconds)
        self.statuses[(route, status)] += 1

    def failed(self, route: str) -> None:
        self.statuses[(route, NO_ANSWER)] += 1

    def merge(self, other: Samples) -> None:
        for route, values in other.latencies.items():
            self.latencies.setdefault(route, array("q")).extend(values)
        self.statuses.update(other.statuses)

    def count(self, route: str, status: int | None = None) -> int:
        return sum(n for (r, s), n in self.statuses.items() if r == route and status in (None, s))

    def summary(self, route: str) -> Percentiles:
        return Percentiles.of(self.latencies.get(route, array("q")))

    def overall(self) -> Percentiles:
        """Percentiles over every route's samples together."""
        every: array[int] = array("q")
        for values in self.latencies.values():
            every.extend(values)
        return Percentiles.of(every)


@attrs.frozen
class Percentiles:
    """Latency figures in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, nanoseconds: array[int] | list[int]) -> Percentiles:
        if not nanoseconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        ordered = sorted(nanoseconds)

        def at(q: float) -> float:
            # Nearest rank: the smallest sample with at least q of all samples at or below it.
            rank = max(1, math.ceil(q * len(ordered)))
            return ordered[rank - 1] / 1e6

        return cls(len(ordered), at(0.50), at(0.95), at(0.99), ordered[-1] / 1e6)
