"""The request threads: where handlers that block (on the database, Redis, the broker) run,
off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class RequestThreads:
    """A pool of ``size`` threads, handed work through asyncio's ``run_in_executor``.

    Not anyio's ``to_thread`` (Starlette's ``run_in_threadpool``): its hand-off goes through a
    ``queue.Queue`` and a ``Condition`` in Python, about 39 µs of CPU a hop against 13 through
    the executor's C ``SimpleQueue`` (bench/FINDINGS.md 17), and every blocking request makes
    one. The caller's context variables go along, as with ``to_thread``.
    """

    def __init__(self, size: int):
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="cinema-request")

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, work, *args)

    def close(self) -> None:
        # Requests still running finish on their threads; none is waited for here.
        self._executor.shutdown(wait=False, cancel_futures=True)
