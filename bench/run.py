"""One bench run: start the stack, play each scenario, check, report (and, with --profile,
measure the generator first and count statements last)."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any

from . import generator, pgbench, sql_check, statements
from .admin import Admin
from .generator import Outcome, Part
from .invariant import Check
from .null_server import NullServer
from .options import Options, parse
from .process_cpu import CpuMeter
from .process_memory import Memory, read
from .profiling import Ranking, recording
from .report import Report, Soak
from .results import ScenarioResult, generator_cpu, generator_load
from .scenarios import SCENARIOS, SOAK, Scenario, ceiling
from .servers import Stack, StackError, running

# Seconds the generators get beyond the scenario's own length before the run gives up.
_GRACE = 120.0
# Seconds of nothing, before the scenarios, to see what the stack costs at rest; before that,
# steps of waiting until the API processes use less than a few percent of a core.
_IDLE = 1.0
_SETTLE_STEP, _SETTLED, _SETTLE_AT_MOST = 0.5, 0.04, 10.0


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(tuple(SCENARIOS), argv)
    report = Report(options)
    if options.profile:
        report.generator_ceiling = measure_generator(options)
    with running(options) as stack:
        report.stack = stack
        report.processes = stack.python_processes()
        report.idle = _idle(stack)
        if options.backend == "postgres":
            report.database_ceiling = pgbench.measure(options, stack.namespace, stack.notes)
        for name in SCENARIOS:
            if name in options.scenarios and SCENARIOS[name].stack is None:
                report.results.append(_played(stack, name, options))
                report.memory_after[name] = _memory(stack)
        if options.soak_seconds:
            report.soak = soak(stack, options)
        report.memory = _memory(stack)
    for name in SCENARIOS:
        if name in options.scenarios and SCENARIOS[name].stack is not None:
            report.results.append(_played_alone(report, name, options))
    _compared(report.results)
    if options.profile and options.backend == "postgres":
        report.statements = statements.count(options, stack.notes)
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


def _played_alone(report: Report, name: str, options: Options) -> ScenarioResult:
    """A scenario on a stack of its own (``Scenario.stack``), started after the run's is torn
    down so that the two never share the cores; its processes join the memory table."""
    own = SCENARIOS[name].stack
    assert own is not None
    alone, settings, note = own(options)
    try:
        with running(alone, settings=settings) as stack:
            result = _played(stack, name, alone)
            report.memory_after[name] = _memory(stack)
            for kind, pids in stack.python_processes().items():
                report.processes.setdefault(kind, []).extend(pids)
    except StackError as error:
        check = Check(name, problems=[f"its stack did not start: {error}"])
        result = ScenarioResult(name, check=check)
    result.notes.insert(0, note)
    return result


def _compared(results: list[ScenarioResult]) -> None:
    by_name = {result.name: result for result in results}
    for name, scenario in SCENARIOS.items():
        if scenario.compare is not None and name in by_name:
            scenario.compare(by_name[name], by_name)


def measure_generator(options: Options) -> ScenarioResult:
    """The generator against a server that does nothing: the most it can drive."""
    plan = ceiling.Plan(min(options.duration, 5.0))
    with NullServer() as port:
        parts = _parts("ceiling", SCENARIOS["ceiling"], plan, options, "127.0.0.1", port)
        outcomes = generator.run(parts, plan.seconds + _GRACE)
    result = asyncio.run(ceiling.conclude(None, plan, outcomes))
    result.name = "generator"
    result.generator_load = generator_load(outcomes)
    return result


def play(stack: Stack, name: str, options: Options) -> ScenarioResult:
    scenario = SCENARIOS[name]
    plan = asyncio.run(_prepare(stack, scenario, options))
    parts = _parts(name, scenario, plan, options, stack.host, stack.port)
    timeout = scenario.limit(options) + _GRACE
    meter = CpuMeter(stack.cpu_kinds())
    meter.start()
    rankings: dict[str, Ranking] = {}
    if options.profile and name == options.profile_scenario:
        kinds = stack.python_processes()
        with recording(kinds, options.profile, name, stack.notes, gil=options.profile_gil) as rec:
            outcomes = generator.run(parts, timeout)
        rankings = rec.rankings()
    else:
        outcomes = generator.run(parts, timeout)
    spent = meter.stop()
    result = _concluded(stack, scenario, plan, outcomes, spent)
    result.hot_spots = rankings
    return result


def soak(stack: Stack, options: Options) -> Soak:
    """Steady flows for ``soak_seconds`` while the servers' RSS is sampled."""
    plan = asyncio.run(_prepare(stack, SOAK, options))
    parts = _parts("soak", SOAK, plan, options, stack.host, stack.port)
    found: list[list[Outcome]] = []
    worker = threading.Thread(
        target=lambda: found.append(generator.run(parts, plan.seconds + _GRACE)), daemon=True
    )
    pids = [pid for pids in stack.python_processes().values() for pid in pids]
    samples: list[tuple[float, list[Memory]]] = []
    started = time.monotonic()
    meter = CpuMeter(stack.cpu_kinds())
    meter.start()
    worker.start()
    step = max(1.0, options.soak_seconds / 60)
    while worker.is_alive():
        samples.append((time.monotonic() - started, [m for pid in pids if (m := read(pid))]))
        worker.join(step)
    spent = meter.stop()
    if not found:
        raise RuntimeError("the soak's generators failed; see the messages above")
    return Soak(_concluded(stack, SOAK, plan, found[0], spent), samples)


async def _prepare(stack: Stack, scenario: Scenario, options: Options) -> Any:
    async with Admin(stack.host, stack.port, stack.secret) as admin:
        return await scenario.prepare(admin, options)


def _concluded(
    stack: Stack, scenario: Scenario, plan: Any, outcomes: list[Outcome], cpu: dict[str, float]
) -> ScenarioResult:
    async def conclude() -> ScenarioResult:
        async with Admin(stack.host, stack.port, stack.secret) as admin:
            result: ScenarioResult = await scenario.conclude(admin, plan, outcomes)
            return result

    result = asyncio.run(conclude())
    result.generator_load = generator_load(outcomes)
    result.generator_cpu = generator_cpu(outcomes)
    result.cpu = cpu
    _check_by_sql(stack, result)
    return result


def _idle(stack: Stack) -> dict[str, float]:
    """Cores each kind of process used while nothing was asked of the stack, once it has
    settled: the API answers as soon as one process is up, the others may still be starting."""
    deadline = time.monotonic() + _SETTLE_AT_MOST
    while time.monotonic() < deadline:
        meter = CpuMeter(stack.cpu_kinds())
        meter.start()
        time.sleep(_SETTLE_STEP)
        if meter.stop().get("API", 0.0) < _SETTLED * _SETTLE_STEP:
            break
    meter = CpuMeter(stack.cpu_kinds())
    meter.start()
    time.sleep(_IDLE)
    return {kind: seconds / _IDLE for kind, seconds in meter.stop().items()}


def _parts(
    name: str, scenario: Scenario, plan: Any, options: Options, host: str, port: int
) -> list[Part]:
    count, connections = scenario.parts(options)
    return [
        Part(name, scenario.drive, plan, i, count, host, port, connections) for i in range(count)
    ]


def _memory(stack: Stack) -> list[Memory]:
    pids = [pid for pids in stack.python_processes().values() for pid in pids]
    return [m for pid in pids if (m := read(pid))]


def _check_by_sql(stack: Stack, result: ScenarioResult) -> None:
    if stack.database is None or result.check is None:
        return
    sql = Check(f"{result.check.name} (SQL)")
    sql_check.check(stack.options.postgres_url, stack.database, result.check.sold, sql)
    result.sql_check = sql
