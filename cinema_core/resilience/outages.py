"""Which optional backends are down right now, said once per outage rather than per request."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("cinema.backends")


class Outages:
    """Tracks backends (``redis``, ``broker`` …) that failed and have not answered since."""

    def __init__(self) -> None:
        self._down: dict[str, str] = {}
        self._lock = threading.Lock()

    def failed(self, backend: str, error: BaseException) -> None:
        with self._lock:
            first = backend not in self._down
            self._down[backend] = str(error) or type(error).__name__
        if first:
            log.warning(
                "%s unreachable; carrying on without it",
                backend,
                extra={"backend": backend, "error": str(error)},
            )

    def recovered(self, backend: str) -> None:
        with self._lock:
            was_down = self._down.pop(backend, None) is not None
        if was_down:
            log.warning("%s reachable again", backend, extra={"backend": backend})

    def down(self) -> dict[str, str]:
        with self._lock:
            return dict(self._down)
