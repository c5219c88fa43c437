"""A lean HTTP/1.1 keep-alive client on ``asyncio.Protocol``: the load generator's only wire code.

httpx or requests spend more CPU per request than the server under test, which would make the
generator the bottleneck on a 2-core machine. This client sends pre-built request bytes and
reads back only what a benchmark needs: the status code, ``Content-Length`` and the body. One
request in flight per connection (no pipelining), as a browser or mobile client would do.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

_CONTENT_LENGTH = b"\r\ncontent-length:"


class ProtocolError(ConnectionError):
    """The server answered something this client does not read (no Content-Length, bad framing)."""


class Connection(asyncio.Protocol):
    """One keep-alive connection. ``request`` sends raw bytes and answers (status, body, ns).

    The latency is taken in ``data_received``, the moment the last byte arrives, so time the
    generator's own event loop spends elsewhere before resuming the caller does not count.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes, int]] | None = None
        self._transport: asyncio.Transport | None = None
        self._header_end = -1
        self._length = 0
        self._status = 0
        self._sent_at = 0
        self.closed = False

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is not None:
            self._try_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc or ConnectionResetError("server closed the connection"))

    # -- client side --------------------------------------------------------------------

    async def request(self, raw: bytes) -> tuple[int, bytes, int]:
        """Send one request; answer ``(status, body, latency in nanoseconds)``."""
        if self.closed or self._transport is None:
            raise ConnectionResetError("connection is closed")
        waiter: asyncio.Future[tuple[int, bytes, int]] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._sent_at = time.perf_counter_ns()
        self._transport.write(raw)
        return await waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _try_complete(self) -> None:
        buffer = self._buffer
        if self._header_end < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            # "HTTP/1.1 201 Created": the status is always at bytes 9..12.
            self._status = int(head[9:12])
            at = head.find(_CONTENT_LENGTH)
            if at < 0:
                self._fail(ProtocolError(f"no Content-Length in {head[:200]!r}"))
                return
            stop = head.find(b"\r\n", at + 2)
            self._length = int(head[at + len(_CONTENT_LENGTH) : stop if stop > 0 else None])
            self._header_end = end + 4
        total = self._header_end + self._length
        if len(buffer) < total:
            return
        done_at = time.perf_counter_ns()
        body = bytes(buffer[self._header_end : total])
        del buffer[:total]
        self._header_end = -1
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, body, done_at - self._sent_at))

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()


async def connect(host: str, port: int) -> Connection:
    """Open one connection (asyncio turns TCP_NODELAY on for TCP sockets by itself)."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(Connection, host, port)
    return protocol


class Pool:
    """A fixed set of connections shared by many virtual users, each taking one per request.

    A lost connection is replaced on the next use; the request that saw it fail is reported to
    its caller (never re-sent: a POST must not run twice behind the caller's back).
    """

    def __init__(self, host: str, port: int, size: int):
        self.host = host
        self.port = port
        self.size = size
        self._idle: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
        self._all: list[Connection] = []

    async def open(self) -> Pool:
        for connection in await asyncio.gather(
            *(connect(self.host, self.port) for _ in range(self.size))
        ):
            self._all.append(connection)
            self._idle.put_nowait(connection)
        return self

    async def request(self, raw: bytes) -> tuple[int, bytes, int]:
        connection = await self._idle.get()
        try:
            if connection.closed:
                connection = await self._replace(connection)
            return await connection.request(raw)
        finally:
            self._idle.put_nowait(connection)

    async def _replace(self, dead: Connection) -> Connection:
        fresh = await connect(self.host, self.port)
        self._all[self._all.index(dead)] = fresh
        return fresh

    def close(self) -> None:
        for connection in self._all:
            connection.close()
