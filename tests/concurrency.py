"""Real threads released together: how the race tests make requests collide."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_together(count: int, action: Callable[[int], Any], timeout: float = 30.0) -> list[Any]:
    """Run ``action(i)`` on ``count`` threads released at once by a barrier.

    Returns each thread's result, or the exception it raised, in thread order.
    """
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = action(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish in time"
    return results
