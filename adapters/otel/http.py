"""A server span per HTTP request, named by the route template that answered it.

A middleware of our own rather than opentelemetry-instrumentation-asgi: the route is known only
once the request has been routed, that one names its span by path (a span name per seat, per
id) and adds a span for every ASGI send and receive.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

RouteOf = Callable[[Scope], str | None]
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class TracedRequests:
    """Continues the caller's trace when its ``traceparent`` header carries one."""

    def __init__(
        self,
        app: ASGIApp,
        tracer: Tracer,
        propagator: TraceContextTextMapPropagator,
        route_of: RouteOf,
    ):
        self.app = app
        self.tracer = tracer
        self.propagator = propagator
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
        status = 0
        with self.tracer.start_as_current_span(
            method,
            context=self.propagator.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = self.route_of(scope)
                if route is not None:
                    # Named by the template, never the path: one name per route, however many
                    # sessions and seats.
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                if status:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
