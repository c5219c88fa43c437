"""Background loops that outlive their failures, and say how they are doing.

Every thread the service runs in the background (the expiry sweeper, the relay, the consumers,
the live feed, the retries, the bus's heartbeats) is a ``Loop``: its body is called again and
again; any exception is caught, the loop backs off (doubling up to a ceiling) and tries again,
logging once when it starts failing and once when it works again, never once per attempt. An
outage of a backend the loop names (``broker``) is said through ``Outages`` instead, so that
one outage makes one warning whichever loops it stops.

Each loop keeps a heartbeat: every attempt, and every ``beat()`` a long body makes from its
inner loop, pushes back the moment it would count as stuck. ``Supervisor.problems()`` names the
loops that are dead (their thread ended), stuck (no heartbeat for ``stuck_after`` seconds) or
failing (their last attempt raised): readiness reads it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from cinema_core.errors import BackendUnavailable
from cinema_core.kernel.clock import Clock, MonotonicClock
from cinema_core.resilience.outages import Outages

log = logging.getLogger("cinema.threads")

OK, FAILING, STUCK, DEAD, STOPPED = "ok", "failing", "stuck", "dead", "stopped"
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0
# Longer than anything a healthy loop blocks on: a consumer's batch, a publish waiting for its
# confirm until the broker's heartbeats say it is gone (~20 s), a connection attempt (4 s).
STUCK_AFTER = 60.0


class Loop:
    """``body`` run again and again, ``every`` seconds apart, on a daemon thread named ``name``.

    ``backend``: a ``BackendUnavailable`` from the body is that backend's outage, reported to
    ``outages`` (which logs it once); any other exception is logged here, once per run of
    failures, with its traceback. The first ``beat()`` or returning attempt after failures ends
    them. A ``BaseException`` that is not an ``Exception`` (``SystemExit``, a test's simulated
    crash) is let through: the thread ends, and reads ``dead``.
    """

    def __init__(
        self,
        name: str,
        body: Callable[[], None],
        *,
        clock: Clock | None = None,
        outages: Outages | None = None,
        backend: str | None = None,
        every: float = 0.0,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        stuck_after: float = STUCK_AFTER,
        stopping: threading.Event | None = None,
    ):
        self.name = name
        self.body = body
        self.clock = clock or MonotonicClock()
        self.outages = outages or Outages()
        self.backend = backend
        self.every = every
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.stuck_after = timedelta(seconds=stuck_after)
        # Set to stop the loop; a long body waits on it too, so that it ends when asked. An
        # owner's event (shared by its loops, or meaning "closed") is the owner's to clear.
        self.stopping = stopping or threading.Event()
        self._own_stopping = stopping is None
        self._lock = threading.Lock()
        self._backoff = first_backoff
        self._failing: BaseException | None = None
        self._due = self.clock.now() + self.stuck_after
        self._thread: threading.Thread | None = None

    # -- what the body calls -------------------------------------------------------------

    def beat(self) -> None:
        """The loop is making progress: called by a long body from its inner loop (the first
        beat after failures is their end, as a returning attempt is)."""
        now = self.clock.now()
        with self._lock:
            self._due = now + self.stuck_after
            failure, self._failing = self._failing, None
            self._backoff = self.first_backoff
        if failure is None:
            return
        if self.backend is not None and isinstance(failure, BackendUnavailable):
            self.outages.recovered(self.backend)
        else:
            log.warning("%s works again", self.name, extra={"loop": self.name})

    # -- running -------------------------------------------------------------------------

    def attempt(self) -> float:
        """Run the body once, whatever it raises; returns how long to wait before the next."""
        self._alive(self.clock.now(), 0.0)
        try:
            self.body()
        except Exception as error:
            return self._failed(error)
        self.beat()
        return self.every

    def run(self, stop: threading.Event | None = None) -> None:
        """Attempt after attempt in the calling thread, until ``stop`` or ``stopping``."""
        while not (self.stopping.is_set() or (stop is not None and stop.is_set())):
            wait = self.attempt()
            if wait > 0:
                self.stopping.wait(wait)

    def start(self) -> None:
        """Run on a daemon thread (a loop already running is left as it is)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._own_stopping:
                self.stopping.clear()
            self._due = max(self._due, self.clock.now() + self.stuck_after)
            thread = self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` for its thread."""
        self.stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def state(self) -> str:
        """``ok``, ``failing``, ``stuck``, ``dead`` (its thread ended unasked) or ``stopped``."""
        now = self.clock.now()
        with self._lock:
            thread, due, failing = self._thread, self._due, self._failing
        if self.stopping.is_set() or thread is None:
            return STOPPED
        if not thread.is_alive():
            return DEAD
        if now > due:
            return STUCK
        return FAILING if failing is not None else OK

    def _failed(self, error: Exception) -> float:
        now = self.clock.now()
        with self._lock:
            first = self._failing is None
            self._failing = error
            wait = self._backoff
            self._backoff = min(self._backoff * 2, self.max_backoff)
        self._alive(now, wait)
        if self.backend is not None and isinstance(error, BackendUnavailable):
            self.outages.failed(self.backend, error)
        elif first:
            log.warning(
                "%s failed; retrying with backoff until it works",
                self.name,
                exc_info=error,
                extra={"loop": self.name, "error": str(error)},
            )
        return wait

    def _alive(self, now: datetime, waiting: float) -> None:
        # A loop waiting out its backoff is not stuck: it is due back after the wait.
        with self._lock:
            self._due = max(self._due, now + timedelta(seconds=waiting) + self.stuck_after)


class Supervisor:
    """Makes this process's loops (one clock, one ``Outages``) and tells readiness about them."""

    def __init__(self, clock: Clock | None = None, outages: Outages | None = None):
        self.clock = clock or MonotonicClock()
        self.outages = outages or Outages()
        self._loops: list[Loop] = []
        self._lock = threading.Lock()

    def loop(
        self,
        name: str,
        body: Callable[[], None],
        *,
        backend: str | None = None,
        every: float = 0.0,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        stuck_after: float = STUCK_AFTER,
        stopping: threading.Event | None = None,
    ) -> Loop:
        """A new ``Loop`` (not started), watched from now on."""
        made = Loop(
            name,
            body,
            clock=self.clock,
            outages=self.outages,
            backend=backend,
            every=every,
            first_backoff=first_backoff,
            max_backoff=max_backoff,
            stuck_after=stuck_after,
            stopping=stopping,
        )
        with self._lock:
            # A loop made again under the same name (a worker restarted) replaces the old one.
            self._loops = [old for old in self._loops if old.name != name] + [made]
        return made

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every loop (each owner stops its own; this is for whatever is left)."""
        with self._lock:
            loops = list(self._loops)
        for loop in loops:
            loop.stop(timeout)

    def problems(self) -> dict[str, str]:
        """Loop name → ``failing``, ``stuck`` or ``dead``, for every started loop not ok."""
        with self._lock:
            loops = list(self._loops)
        states = {loop.name: loop.state() for loop in loops}
        return {name: state for name, state in states.items() if state not in (OK, STOPPED)}


__all__ = ["DEAD", "FAILING", "OK", "STUCK", "Loop", "Supervisor"]
