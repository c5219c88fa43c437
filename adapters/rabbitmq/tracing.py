"""Where the bus and the consumer runner let a tracer in: around each publish (handing back the
headers that carry the trace to the consumers) and around each consumer's batch.

A protocol here, not OpenTelemetry: a process without tracing never imports it
(adapters/otel implements this when ``CINEMA_OTEL_ENDPOINT`` is set).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from cinema_core.events.envelopes import Event

# The W3C Trace Context header, as the message header that carries it.
TRACEPARENT_HEADER = "traceparent"


class MessageTracing(Protocol):
    """Spans for the broker's side of an event's trip."""

    def publishing(self, event: Event, exchange: str) -> AbstractContextManager[dict[str, str]]:
        """Around one publish: yields the headers to send with the message."""
        ...

    def consuming(self, consumer: str, events: Sequence[Event]) -> AbstractContextManager[None]:
        """Around one consumer's run over ``events`` (each with the traceparent it came with)."""
        ...


class NoTracing:
    """Neither spans nor headers."""

    @contextmanager
    def publishing(self, event: Event, exchange: str) -> Iterator[dict[str, str]]:
        yield {}

    @contextmanager
    def consuming(self, consumer: str, events: Sequence[Event]) -> Iterator[None]:
        yield


NO_TRACING: MessageTracing = NoTracing()
