"""The one pure ASGI middleware: request id, one access-log line per request, its metrics
(count and latency by route template and status), and the last net that turns any unexpected
exception into the contract's 500 answer (logged with its traceback).

Pure ASGI rather than ``BaseHTTPMiddleware``: no per-request task, and streaming passes through.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from typing import Any, Protocol

import attrs
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import server_error_body

access_log = logging.getLogger("cinema.access")
error_log = logging.getLogger("cinema.http")
MAX_REQUEST_ID = 128
_PRINTABLE = re.compile(rb"[\x20-\x7e]{1,%d}" % MAX_REQUEST_ID)


@attrs.define(slots=True)
class RequestInfo:
    """What the access log says about a request; routes fill in ``route`` and ``user``."""

    request_id: str
    route: str | None = None
    user: str | None = None


class RequestMetrics(Protocol):
    """Where the middleware records each request (adapters.prometheus.PrometheusMetrics)."""

    def request_started(self) -> None: ...

    def request(self, method: str, route: str, status: int, seconds: float) -> None: ...


# The label of requests no operation answered (static assets, unknown paths): one label for
# all of them, so that scanning for paths cannot create a series per path.
UNROUTED = "unrouted"
# Methods as labels; any other a client makes up is "other", for the same reason.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TEMPLATE = re.compile(r"{([a-z_]+):[a-z]+}")


def request_info(scope: Scope) -> RequestInfo | None:
    info: RequestInfo | None = scope.get("cinema")
    return info


def route_template(scope: Scope) -> str | None:
    """The template of the route that answered, as the metrics name it (``{user_id}``, no
    converter); None when no operation did."""
    info = request_info(scope)
    return None if info is None or info.route is None else _plain_template(info.route)


@functools.lru_cache(maxsize=512)  # as many as there are routes
def _plain_template(route: str) -> str:
    return _TEMPLATE.sub(r"{\1}", route)


def _sane(value: bytes) -> bool:
    return _PRINTABLE.fullmatch(value) is not None


class RequestContext:
    """Gives each request an ``X-Request-Id`` (the client's when sane) and logs its outcome."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None):
        self.app = app
        self.metrics = metrics
        # Route templates as the metrics name them (``{user_id:path}`` is ``{user_id}``).
        self._labels: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # A plain loop: a generator here was a visible share of every cheap request.
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value
                break
        request_id = given.decode("latin-1") if given and _sane(given) else uuid.uuid4().hex
        info = RequestInfo(request_id)
        scope["cinema"] = info
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        status = 0
        if self.metrics is not None:
            self.metrics.request_started()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            status = status or 499
        except Exception:
            error_log.exception(
                "unhandled error", extra={"request_id": request_id, "path": scope.get("path")}
            )
            if not status:
                await _send_500(send_with_id)
        finally:
            _log_access(scope, info, status, started)
            if self.metrics is not None:
                self._measure(scope["method"], info.route, status, started)

    def _measure(self, method: str, route: str | None, status: int, started: float) -> None:
        assert self.metrics is not None
        if route is None:
            label = UNROUTED
        else:
            label = self._labels.get(route) or self._labels.setdefault(
                route, _TEMPLATE.sub(r"{\1}", route)
            )
        if method not in _METHODS:
            method = "other"
        self.metrics.request(method, label, status, time.perf_counter() - started)


async def _send_500(send: Send) -> None:
    body = server_error_body()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _log_access(scope: Scope, info: RequestInfo, status: int, started: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    extra: dict[str, Any] = {
        "request_id": info.request_id,
        "method": scope["method"],
        "route": info.route or scope["path"],
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    if info.user is not None:
        extra["user"] = info.user
    access_log.info("%s %s %s", scope["method"], extra["route"], status, extra=extra)
