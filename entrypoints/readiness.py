"""Readiness: each configured backend pinged on a thread of its own, answered in bounded time.

A ping that hangs (a stalled database, a broker that accepts bytes and never answers) must not
hang the answer, nor take a request thread per caller: each backend has one ``Probe``, with at
most one ping in flight. Callers wait on that ping for ``CHECK_TIMEOUT`` at most and then read
the check as ``timeout``; a load balancer asking every second while the backend hangs still
costs one thread, not one per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future

CHECKS = ("database", "redis", "broker")
# Not a backend: this process's background loops (cinema_core.resilience.supervision), read at once.
WORKERS = "workers"
CHECK_TIMEOUT = 1.0
OK, DOWN, TIMEOUT, IN_PROCESS = "ok", "down", "timeout", "in-process"


class Probe:
    """Runs one backend's ping on a daemon thread, never two at a time."""

    def __init__(self, name: str, ping: Callable[[], None]):
        self.name = name
        self.ping = ping
        self._lock = threading.Lock()
        self._running: Future[None] | None = None

    def start(self) -> Future[None]:
        """The ping in flight, or a new one: its future is done when the backend answered."""
        with self._lock:
            if self._running is not None and not self._running.done():
                return self._running
            future: Future[None] = Future()
            self._running = future
        threading.Thread(
            target=self._run, args=(future,), name=f"cinema-ready-{self.name}", daemon=True
        ).start()
        return future

    def _run(self, future: Future[None]) -> None:
        try:
            self.ping()
        except BaseException as error:  # a ping's failure is the answer, whatever it is
            future.set_exception(error)
        else:
            future.set_result(None)


def verdict(
    futures: Mapping[str, Future[None] | None], loops: Mapping[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """``(status, checks)`` from the pings as they stand now (unfinished ones: ``timeout``) and
    the background loops that are not ok (name → ``dead``, ``stuck`` or ``failing``).

    ``ok`` when every configured backend answered and every loop runs; ``degraded`` when Redis
    or the broker did not, or a loop is in trouble (the box office still sells); ``unavailable``
    when the database did not. ``workers`` reads ``ok`` or names the loops, e.g.
    ``"cinema-consumers failing, cinema-relay stuck"``.
    """
    checks: dict[str, str] = {}
    for name in CHECKS:
        future = futures.get(name)
        if future is None:
            checks[name] = IN_PROCESS
        elif not future.done():
            checks[name] = TIMEOUT
        else:
            checks[name] = DOWN if future.exception() is not None else OK
    troubled = loops or {}
    checks[WORKERS] = ", ".join(f"{n} {troubled[n]}" for n in sorted(troubled)) or OK
    if checks["database"] not in (OK, IN_PROCESS):
        return "unavailable", checks
    fine = all(value in (OK, IN_PROCESS) for value in checks.values())
    return ("ok" if fine else "degraded"), checks
