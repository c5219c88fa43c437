"""The scenarios, in the order a run plays them (the ceiling first: every rate is also shown as
a fraction of it).

A scenario is a module with three functions, all the harness calls:

- ``async prepare(admin, options) -> plan``: sets up through the API (``bench.admin.Admin``)
  and answers a picklable plan (an attrs class) for the generator processes;
- ``async drive(context) -> dict``: runs in each generator process on ``context.pool``,
  records every request in ``context.samples`` and answers picklable data for ``conclude``;
- ``async conclude(admin, plan, outcomes) -> ScenarioResult``: the figures and the invariant
  check (``bench.invariant.check_session``), from every part's ``Outcome``.

To add one, write the module and give it a line in ``SCENARIOS`` below (its name is the one
``--scenarios`` takes); ``limit`` says how long its generators may take before the run gives up,
``stack`` gives it a stack of its own (other settings), ``compare`` reads its result against the
others'.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import attrs

from ..generator import Context
from ..options import Options
from ..results import ScenarioResult
from . import ceiling, pay, queue, race, seat_map, sellout, sellout_best, steady


@attrs.frozen
class Scenario:
    """What the harness calls; see the module's docstring."""

    prepare: Callable[..., Awaitable[Any]]
    drive: Callable[[Context], Awaitable[dict[str, Any]]]
    conclude: Callable[..., Awaitable[Any]]
    # Seconds its generators may take (the run adds a grace period on top).
    limit: Callable[[Options], float] = attrs.field(default=lambda options: options.duration)
    # Generator processes and connections per process; the default is the options'.
    parts: Callable[[Options], tuple[int, int]] = attrs.field(
        default=lambda options: (options.generators, options.connections)
    )
    # A scenario that needs a stack unlike the run's: (its options, its CINEMA_* settings, a
    # note saying why). It plays on that stack once the run's is torn down.
    stack: Callable[[Options], tuple[Options, dict[str, str], str]] | None = None
    # Called once every scenario has played, with the others' results by name (for figures
    # that read against another scenario's).
    compare: Callable[[ScenarioResult, dict[str, ScenarioResult]], None] | None = None

    @classmethod
    def of(cls, module: Any, **overrides: Any) -> Scenario:
        return cls(module.prepare, module.drive, module.conclude, **overrides)


SCENARIOS: dict[str, Scenario] = {
    "ceiling": Scenario.of(ceiling),
    # One part, one connection per buyer: the round's requests leave together.
    "race": Scenario.of(
        race,
        limit=lambda options: options.race_rounds * 5.0,
        parts=lambda options: (1, options.race_buyers),
    ),
    "sellout": Scenario.of(sellout, limit=lambda options: options.sellout_timeout),
    "sellout1": Scenario(
        partial(sellout.prepare, most=1),
        sellout.drive,
        sellout.conclude,
        limit=lambda options: options.sellout_timeout,
    ),
    "best": Scenario.of(sellout_best, limit=lambda options: options.sellout_timeout),
    "steady": Scenario.of(steady),
    "seatmap": Scenario.of(seat_map),
    # On a stack of its own (the sandbox provider, one process); its CPU reads against steady's.
    "pay": Scenario.of(pay, stack=pay.stack, compare=pay.costs),
    # Until every arrival is admitted at the set rate, and a minute for the buying after.
    "queue": Scenario.of(
        queue,
        limit=lambda options: options.queue_arrivals / options.queue_per_minute * 60 * 1.5 + 60,
        compare=queue.costs,
    ),
}

# The soak is steady's flows for longer; it is not chosen with --scenarios but with --soak.
SOAK = Scenario(steady.prepare_soak, steady.drive, steady.conclude)


__all__ = ["SCENARIOS", "SOAK", "Scenario"]
