"""The tracer provider, its exporter, and what each adapter is handed to make its spans."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp

from .broker import BrokerSpans
from .http import RouteOf, TracedRequests
from .postgres import trace_statements

# OTLP/HTTP's path for traces under a collector's base address (what OTEL_EXPORTER_OTLP_ENDPOINT
# names for the SDK's own configuration).
TRACES_PATH = "/v1/traces"
PROPAGATOR = TraceContextTextMapPropagator()


def exporter_url(endpoint: str) -> str:
    """The traces URL of a collector named by its base address (or already by that URL)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class Tracing:
    """One process's tracer provider; ``close`` sends what is still batched."""

    def __init__(self, service_name: str, processor: SpanProcessor):
        # A provider of our own rather than the global one: two box offices in one process
        # (tests) each trace to their own, and nothing else in the process is affected.
        self.provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
        self.provider.add_span_processor(processor)
        self.tracer: Tracer = self.provider.get_tracer("cinema")
        self.broker = BrokerSpans(self.tracer, PROPAGATOR)

    @classmethod
    def to_collector(cls, endpoint: str, service_name: str) -> Tracing:
        """Spans batched off the request path and sent to the OTLP/HTTP ``endpoint``."""
        return cls(service_name, BatchSpanProcessor(OTLPSpanExporter(exporter_url(endpoint))))

    def traceparent(self) -> str | None:
        """The W3C traceparent of the span current in this context, None outside any."""
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")

    def requests(self, app: ASGIApp, route_of: RouteOf) -> TracedRequests:
        """``app`` with a server span per HTTP request, named by the route that answered."""
        return TracedRequests(app, self.tracer, PROPAGATOR, route_of)

    def statements(self, engine: sa.Engine) -> None:
        """A client span per PostgreSQL statement run on ``engine``."""
        trace_statements(engine, self.tracer)

    def commands(self, client: Any) -> None:
        """A client span per Redis command (scripts and pipelines included) of ``client``."""
        RedisInstrumentor.instrument_client(client, tracer_provider=self.provider)

    def close(self) -> None:
        self.provider.shutdown()
