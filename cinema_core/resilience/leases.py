"""Keeping a process's idempotency claims alive while it runs their requests.

A claim's lease is short, so that the claim of a process that died lapses within seconds and a
retry takes the request over; a live holder renews its claims on a daemon thread, so a request
that runs longer than the lease never loses its key to a duplicate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("cinema.idempotency")

# How long close() waits for a renewal in flight (a store's call, bounded by its own timeouts).
CLOSE_WAIT = 2.0


class Renewals:
    """Calls ``renew`` every ``every`` seconds on a daemon thread while it says claims are
    held (it returns how many are left); ``holding()`` starts the thread when needed."""

    def __init__(self, renew: Callable[[], int], every: float, name: str):
        self._renew = renew
        self._every = every
        self._name = name
        self._running = False
        # Set by holding(): a claim made while renew() ran, which it may not have counted.
        self._fresh = False
        self._mutex = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def holding(self) -> None:
        with self._mutex:
            self._fresh = True
            if self._running or self._closed.is_set():
                return
            self._running = True
            thread = self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        thread.start()

    def close(self) -> None:
        """Stop renewing: the thread ends now, or when a renewal in flight returns (waited
        for up to ``CLOSE_WAIT`` seconds; it is a daemon thread past that)."""
        self._closed.set()
        with self._mutex:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(CLOSE_WAIT)

    def _run(self) -> None:
        while not self._closed.wait(self._every):
            with self._mutex:
                self._fresh = False
            try:
                left = self._renew()
            except Exception:  # an outage: the next turn tries again, the lease may lapse
                log.warning("renewing idempotency claims failed", exc_info=True)
                left = 1
            with self._mutex:
                if left == 0 and not self._fresh:
                    self._running = False
                    return
