"""One bench run: measure the generator, start the stack, play each scenario, check, report."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from . import generator, sql_check
from .admin import Admin
from .generator import Part
from .invariant import Check
from .null_server import NullServer
from .options import Options, parse
from .process_cpu import CpuMeter
from .process_memory import Memory, read
from .profiling import recording
from .report import Report, Soak
from .results import ScenarioResult, generator_cpu, generator_load
from .scenarios import ceiling, race, seat_map, sellout, sellout_best, steady
from .servers import Stack, running

# Ceiling first: every rate is shown as a fraction of it.
_ORDER = ("ceiling", "race", "sellout", "best", "steady", "seatmap")
_MODULES: dict[str, ModuleType] = {
    "ceiling": ceiling,
    "race": race,
    "sellout": sellout,
    "best": sellout_best,
    "steady": steady,
    "seatmap": seat_map,
}
# Seconds the generators get beyond the scenario's own length before the run gives up.
_GRACE = 120.0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    report = Report(options)
    if options.generator_ceiling:
        report.generator_ceiling = measure_generator(options)
    with running(options) as stack:
        report.stack = stack
        for name in sorted(options.scenarios, key=_ORDER.index):
            report.results.append(_played(stack, name, options))
            report.memory_after[name] = _memory(stack)
        if options.soak_seconds:
            report.soak = soak(stack, options)
        report.memory = _memory(stack)
    report.finish()
    print(report.render(), flush=True)
    if options.json:
        report.write_json(options.json)
    return 0 if report.invariant_held else 1


def _played(stack: Stack, name: str, options: Options) -> ScenarioResult:
    """The scenario's result; one that could not finish is a failed check (exit status 1), and
    the run goes on to the next scenario."""
    try:
        return play(stack, name, options)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        check = Check(name, problems=[f"the scenario did not complete: {error!r}"])
        return ScenarioResult(name, check=check)


def measure_generator(options: Options) -> ScenarioResult:
    """The generator against a server that does nothing: the most it can drive."""
    plan = ceiling.Plan(min(options.duration, 5.0))
    with NullServer() as port:
        parts = _parts("ceiling", plan, options, "127.0.0.1", port)
        outcomes = generator.run(parts, plan.seconds + _GRACE)
    result = asyncio.run(ceiling.conclude(None, plan, outcomes))
    result.name = "generator"
    result.generator_load = generator_load(outcomes)
    return result


def play(stack: Stack, name: str, options: Options) -> ScenarioResult:
    module = _MODULES[name]

    async def prepare() -> Any:
        async with Admin(stack.host, stack.port, stack.secret) as admin:
            return await module.prepare(admin, options)

    plan = asyncio.run(prepare())
    parts = _parts(name, plan, options, stack.host, stack.port)
    timeout = _timeout(name, options)
    meter = _meter(stack)
    meter.start()
    if options.profile and name == options.profile_scenario:
        pids = stack.server_pids()
        with recording(pids, options.profile, name, stack.notes, gil=options.profile_gil):
            outcomes = generator.run(parts, timeout)
    else:
        outcomes = generator.run(parts, timeout)
    spent = meter.stop()

    async def conclude() -> ScenarioResult:
        async with Admin(stack.host, stack.port, stack.secret) as admin:
            result: ScenarioResult = await module.conclude(admin, plan, outcomes)
            return result

    result = asyncio.run(conclude())
    result.generator_load = generator_load(outcomes)
    result.generator_cpu = generator_cpu(outcomes)
    result.server_cpu, result.database_cpu = spent.servers, spent.database
    _check_by_sql(stack, result)
    return result


def _meter(stack: Stack) -> CpuMeter:
    return CpuMeter(stack.server_pids(), stack.options.postgres_url, stack.database)


def soak(stack: Stack, options: Options) -> Soak:
    """Steady flows for ``soak_seconds`` while the servers' RSS is sampled."""

    async def prepare() -> steady.Plan:
        async with Admin(stack.host, stack.port, stack.secret) as admin:
            return await steady.prepare_soak(admin, options)

    plan = asyncio.run(prepare())
    parts = _parts("soak", plan, options, stack.host, stack.port)
    found: list[Any] = []
    worker = threading.Thread(
        target=lambda: found.append(generator.run(parts, plan.seconds + _GRACE)), daemon=True
    )
    pids = stack.server_pids()
    samples: list[tuple[float, list[Memory]]] = []
    started = time.monotonic()
    meter = _meter(stack)
    meter.start()
    worker.start()
    step = max(1.0, options.soak_seconds / 60)
    while worker.is_alive():
        samples.append((time.monotonic() - started, [m for pid in pids if (m := read(pid))]))
        worker.join(step)
    spent = meter.stop()
    if not found:
        raise RuntimeError("the soak's generators failed; see the messages above")

    async def conclude() -> ScenarioResult:
        async with Admin(stack.host, stack.port, stack.secret) as admin:
            return await steady.conclude(admin, plan, found[0])

    result = asyncio.run(conclude())
    result.generator_load = generator_load(found[0])
    result.generator_cpu = generator_cpu(found[0])
    result.server_cpu, result.database_cpu = spent.servers, spent.database
    _check_by_sql(stack, result)
    return Soak(result, samples)


def _parts(name: str, plan: Any, options: Options, host: str, port: int) -> list[Part]:
    if name == "race":
        # One part, one connection per buyer: the round's requests leave together.
        return [Part(name, plan, 0, 1, host, port, options.race_buyers)]
    count = options.generators
    return [Part(name, plan, i, count, host, port, options.connections) for i in range(count)]


def _timeout(name: str, options: Options) -> float:
    if name in ("sellout", "best"):
        return options.sellout_timeout + _GRACE
    if name == "race":
        return options.race_rounds * 5.0 + _GRACE
    return options.duration + _GRACE


def _memory(stack: Stack) -> list[Memory]:
    return [m for pid in stack.server_pids() if (m := read(pid))]


def _check_by_sql(stack: Stack, result: ScenarioResult) -> None:
    if stack.database is None or result.check is None:
        return
    sql = Check(f"{result.check.name} (SQL)")
    sql_check.check(stack.options.postgres_url, stack.database, result.check.sold, sql)
    result.sql_check = sql
