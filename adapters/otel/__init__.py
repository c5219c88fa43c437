"""OpenTelemetry traces, when ``CINEMA_OTEL_ENDPOINT`` names an OTLP/HTTP collector: one trace
per request across its HTTP handler, its PostgreSQL statements and Redis commands, the relay's
publish of the events it recorded and the consumers that handle them.

Imported only by the composition root, and only when tracing is on: a process without it never
loads OpenTelemetry.
"""

from .tracing import Tracing

__all__ = ["Tracing"]
