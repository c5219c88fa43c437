"""The HTTP connections `cinema serve` keeps: a request head must arrive in time, and idle
connections never crowd out requests.

uvicorn's httptools protocol arms its keep-alive timeout only after a response: a connection that
is opened and sends nothing, or sends half a request head, is kept for ever, and its
``limit_concurrency`` counts connections, so a thousand such sockets made every request, ``/health``
included, a 503. Here a connection gets ``timeout_keep_alive`` seconds from being opened (or from
its last response) to finish a request head, else it is closed; and the limit counts requests in
flight (streams included), the only ones that hold a thread or a stream, while ``/health`` is never
refused, so that a load balancer still sees the process alive. nginx in front (deploy/nginx) stays
the protection against a crowd at scale.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Answered even past the concurrency limit: it runs on the event loop, holds nothing.
ALWAYS_ANSWERED = b"/health"


class BoundedHeadProtocol(HttpToolsProtocol):
    """httptools' protocol with a deadline for each request head, limiting requests, not
    connections."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Taken over from uvicorn's own check, which counts idle connections too.
        self._request_limit = self.limit_concurrency
        self.limit_concurrency = None
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._head_arrived()
        limit = self._request_limit
        if (
            limit is not None
            and len(self.tasks) >= limit
            and self.url.split(b"?", 1)[0] != ALWAYS_ANSWERED
        ):
            self.logger.warning("Exceeded concurrency limit.")
            app, self.app = self.app, service_unavailable
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            # The next head has as long as a first one (uvicorn's keep-alive timer stops at the
            # first byte of it, and half a head would hold the connection again).
            self._await_head()

    def _await_head(self) -> None:
        self._head_arrived()
        self._head_deadline = self.loop.call_later(self.timeout_keep_alive, self._head_late)

    def _head_arrived(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
