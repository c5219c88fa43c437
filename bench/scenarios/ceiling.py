"""Ceiling: the same generator against ``GET /health``, a route that does no work.

What the stack (server, framework, event loop) can answer at best on this machine; every rate
of the run is also shown as a fraction of it, which compares across machines. Pointed at the
null server, the same drive measures the generator's own ceiling.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs

from ..admin import Admin
from ..api import get
from ..generator import Context, Outcome
from ..options import Options
from ..results import Figure, ScenarioResult, merge

HEALTH = "GET /health"


@attrs.frozen
class Plan:
    seconds: float


async def prepare(admin: Admin, options: Options) -> Plan:
    return Plan(options.duration)


async def drive(context: Context) -> dict[str, Any]:
    plan: Plan = context.part.plan
    samples, pool = context.samples, context.pool
    deadline = context.started + plan.seconds
    raw = get("/health")
    done = 0

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            try:
                status, _, ns = await pool.request(raw)
            except ConnectionError:
                samples.failed(HEALTH)
                continue
            samples.add(HEALTH, status, ns)
            done += status == 200

    await asyncio.gather(*(client() for _ in range(context.part.connections)))
    return {"done": done}


async def conclude(admin: Admin | None, plan: Plan, outcomes: list[Outcome]) -> ScenarioResult:
    samples, seconds = merge(outcomes)
    done = sum(outcome.data["done"] for outcome in outcomes)
    result = ScenarioResult("ceiling", samples=samples, seconds=seconds)
    result.figures = [
        Figure("GET /health requests/s", done / seconds, "/s", rate=True),
        Figure("GET /health p99", samples.summary(HEALTH).p99, "ms"),
    ]
    return result
