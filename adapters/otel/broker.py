"""The broker's spans: the relay's publish continues the trace of the request that recorded the
event (its stored traceparent), and hands the consumers its own as the message header; each
consumer's run over a batch makes a span in the trace of each of its events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cinema_core.events.envelopes import Event


class BrokerSpans:
    """``adapters.rabbitmq.tracing.MessageTracing`` with OpenTelemetry."""

    def __init__(self, tracer: Tracer, propagator: TraceContextTextMapPropagator):
        self.tracer = tracer
        self.propagator = propagator

    def _context(self, traceparent: str | None) -> Context | None:
        if traceparent is None:
            return None
        return self.propagator.extract({"traceparent": traceparent})

    @contextmanager
    def publishing(self, event: Event, exchange: str) -> Iterator[dict[str, str]]:
        with self.tracer.start_as_current_span(
            f"publish {event.type}",
            context=self._context(event.traceparent),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "send",
                "messaging.destination.name": exchange,
                "messaging.rabbitmq.destination.routing_key": event.type,
                "messaging.message.id": str(event.id),
            },
        ):
            headers: dict[str, str] = {}
            self.propagator.inject(headers)
            yield headers

    @contextmanager
    def consuming(self, consumer: str, events: Sequence[Event]) -> Iterator[None]:
        # One span per trace the batch's events came from, each a child of its publish span,
        # so that every request's trace shows its consumers; the batch runs once, in one
        # transaction, under the first (its statements nest there), the others linked to it.
        traces = list(dict.fromkeys(e.traceparent for e in events if e.traceparent is not None))
        name = f"process {consumer}"
        attributes: dict[str, str | int] = {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer,
            "messaging.batch.message_count": len(events),
        }
        with self.tracer.start_as_current_span(
            name,
            context=self._context(traces[0]) if traces else None,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        ) as first:
            others = [
                self.tracer.start_span(
                    name,
                    context=self._context(traceparent),
                    kind=SpanKind.CONSUMER,
                    attributes=attributes,
                    links=[Link(first.get_span_context())],
                )
                for traceparent in traces[1:]
            ]
            try:
                yield
            finally:
                for span in others:
                    span.end()
