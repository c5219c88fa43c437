"""The event bus in process: published events reach every subscriber in this process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from cinema_core.events.envelopes import Event

log = logging.getLogger("cinema.events")

Handler = Callable[[Event], None]


class InMemoryEventBus:
    """The ``EventBus`` port in process memory.

    Handlers run in the publisher's thread; one that raises is logged and does not stop the
    others, nor the publication.
    """

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._mutex = threading.Lock()

    def subscribe(self, handler: Handler) -> None:
        with self._mutex:
            self._handlers.append(handler)

    def unsubscribe(self, handler: Handler) -> None:
        with self._mutex:
            if handler in self._handlers:
                self._handlers.remove(handler)

    def publish(self, events: Sequence[Event]) -> None:
        with self._mutex:
            handlers = list(self._handlers)
        for event in events:
            for handler in handlers:
                try:
                    handler(event)
                except Exception:
                    log.exception(
                        "event handler failed",
                        extra={"event_id": str(event.id), "event_type": event.type},
                    )
