"""Keeping a process's idempotency claims alive while it runs their requests.

A claim's lease is short, so that the claim of a process that died lapses within seconds and a
retry takes the request over; a live holder renews its claims on a daemon thread, so a request
that runs longer than the lease never loses its key to a duplicate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("cinema.idempotency")


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

    def holding(self) -> None:
        with self._mutex:
            self._fresh = True
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name=self._name, daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self._every)
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
