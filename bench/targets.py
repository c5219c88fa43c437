"""The published targets (2 cores, PostgreSQL + Redis + RabbitMQ, `cinema serve --workers 2`,
the generator on the same machine); the in-memory mode must reach twice the rates."""

from __future__ import annotations

import math

import attrs


@attrs.frozen
class Target:
    """A bound on one figure: at least (``>=``) for rates, at most (``<=``) for the rest."""

    bound: float
    at_least: bool
    unit: str

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value >= self.bound if self.at_least else value <= self.bound

    def text(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.bound:,.0f} {self.unit}".strip()


# Allocator noise over a soak, per process: RSS may wander this much without counting as growth.
SOAK_TOLERANCE_MIB = 5.0

_TARGETS = {
    "sellout_rate": Target(3000, True, "/s"),
    "sellout_p99": Target(50, False, "ms"),
    "steady_rate": Target(800, True, "/s"),
    "steady_p99": Target(50, False, "ms"),
    "race_p95": Target(10, False, "ms"),
    "map_rate": Target(3000, True, "/s"),
    "map_p99": Target(50, False, "ms"),
    "rss": Target(150, False, "MiB"),
    "soak_growth": Target(SOAK_TOLERANCE_MIB, False, "MiB"),
}


def target(name: str, backend: str) -> Target:
    """The target for ``name`` with this backend (rates doubled in memory)."""
    found = _TARGETS[name]
    if backend == "memory" and found.at_least and found.unit == "/s":
        return attrs.evolve(found, bound=found.bound * 2)
    return found
