"""What a scenario reports: its figures, merged samples and invariant check."""

from __future__ import annotations

import attrs

from .generator import Outcome
from .invariant import Check
from .profiling import Ranking
from .samples import Samples


@attrs.frozen
class Figure:
    """One measured number. ``target`` names its entry in ``targets.TARGETS``; ``rate`` figures
    are also shown as a fraction of the ceiling (requests/s of GET /health on the same stack)."""

    name: str
    value: float
    unit: str
    target: str | None = None
    rate: bool = False


@attrs.define
class ScenarioResult:
    name: str
    figures: list[Figure] = attrs.Factory(list)
    samples: Samples = attrs.Factory(Samples)
    check: Check | None = None
    sql_check: Check | None = None
    notes: list[str] = attrs.Factory(list)
    seconds: float = 0.0
    # Generator CPU seconds per wall second, summed over its processes (1.0 = one core busy).
    generator_load: float = 0.0
    # CPU seconds the generator spent during the scenario, and every other kind of process
    # (API, worker, PostgreSQL, RabbitMQ, Redis: bench/process_cpu.py).
    generator_cpu: float = 0.0
    cpu: dict[str, float] = attrs.Factory(dict)
    # Sales the scenario's buyers paid for (steady, pay): what CPU per paid sale divides by.
    paid: int = 0
    # With --profile, for the profiled scenario: py-spy's samples ranked, by kind of process.
    hot_spots: dict[str, Ranking] = attrs.Factory(dict)

    @property
    def requests(self) -> int:
        return sum(self.samples.statuses.values())

    @property
    def checks(self) -> list[Check]:
        return [c for c in (self.check, self.sql_check) if c is not None]


def generator_cpu(outcomes: list[Outcome]) -> float:
    return sum(outcome.cpu for outcome in outcomes)


def generator_load(outcomes: list[Outcome]) -> float:
    """Cores' worth of CPU the generator processes used while the scenario ran."""
    start = min(outcome.started for outcome in outcomes)
    end = max(outcome.ended for outcome in outcomes)
    return sum(outcome.cpu for outcome in outcomes) / max(end - start, 1e-9)


def merge(outcomes: list[Outcome]) -> tuple[Samples, float]:
    """All parts' samples, and the seconds from the first part's start to the last one's end."""
    samples = Samples()
    for outcome in outcomes:
        samples.merge(outcome.samples)
    start = min(outcome.started for outcome in outcomes)
    end = max(outcome.ended for outcome in outcomes)
    return samples, end - start
