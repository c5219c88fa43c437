"""The load generator's processes: each runs one part of a scenario on its own event loop.

The generator runs outside the bench's main process so that its CPU is its own (and, with
``--generators 2``, on both cores). Parts connect first, wait for each other on a barrier, then
start together; their samples are merged by the caller.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import traceback
from collections.abc import Awaitable, Callable
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import attrs

from .client import Pool
from .samples import Samples

# Spawned, not forked: a fork would copy the bench's own state (and any event loop) into the
# generator.
_CONTEXT = multiprocessing.get_context("spawn")


@attrs.define
class Part:
    """One generator process's share of a scenario, and how it connects."""

    scenario: str
    # The scenario's module-level drive function (pickled by reference into the process).
    drive: Drive
    plan: Any
    index: int
    parts: int
    host: str
    port: int
    connections: int


@attrs.define
class Outcome:
    """What one part measured: samples, its time window (perf_counter seconds; that clock is
    system-wide on Linux, so windows of different processes compare) and scenario data."""

    samples: Samples
    started: float
    ended: float
    data: dict[str, Any] = attrs.Factory(dict)
    # CPU seconds the generator process spent on this part: compared with the wall time it
    # shows how far the generator was from being the bottleneck.
    cpu: float = 0.0


@attrs.define
class Context:
    """Handed to a scenario's ``drive``: its pool, samples and the shared counter."""

    part: Part
    pool: Pool
    samples: Samples
    shared: Synchronized[int]
    started: float = 0.0


Drive = Callable[[Context], Awaitable[dict[str, Any]]]


def run(parts: list[Part], timeout: float) -> list[Outcome]:
    """Run every part in its own process, started together; their outcomes, in part order."""
    barrier = _CONTEXT.Barrier(len(parts))
    results = _CONTEXT.Queue()
    shared = _CONTEXT.Value("q", 0)
    processes = [
        _CONTEXT.Process(target=_main, args=(part, barrier, results, shared), daemon=True)
        for part in parts
    ]
    for process in processes:
        process.start()
    outcomes: dict[int, Outcome] = {}
    try:
        for _ in parts:
            index, outcome = results.get(timeout=timeout)
            if isinstance(outcome, str):
                raise RuntimeError(f"generator part {index} failed:\n{outcome}")
            outcomes[index] = outcome
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
    return [outcomes[i] for i in sorted(outcomes)]


def _main(part: Part, barrier: Any, results: Any, shared: Synchronized[int]) -> None:
    try:
        outcome = _event_loop_run(_drive(part, barrier, shared))
        results.put((part.index, outcome))
    except BaseException:
        barrier.abort()
        results.put((part.index, traceback.format_exc()))


def _event_loop_run(coroutine: Awaitable[Outcome]) -> Outcome:
    try:
        import uvloop
    except ImportError:  # uvloop is optional: the standard loop is ~30 % slower per request
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    return uvloop.run(coroutine)  # type: ignore[arg-type]


def event_loop_name() -> str:
    """Which event loop the generator runs on (reported with the generator's ceiling)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


async def _drive(part: Part, barrier: Any, shared: Synchronized[int]) -> Outcome:
    drive = part.drive
    pool = await Pool(part.host, part.port, part.connections).open()
    context = Context(part, pool, Samples(), shared)
    # Blocking on purpose: nothing else runs on this loop yet.
    barrier.wait(timeout=60)
    context.started = time.perf_counter()
    cpu = time.process_time()
    try:
        data = await drive(context)
    finally:
        pool.close()
    return Outcome(
        context.samples, context.started, time.perf_counter(), data, time.process_time() - cpu
    )
