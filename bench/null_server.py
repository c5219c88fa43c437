"""A server that does nothing but answer: the generator pointed at it shows its own ceiling.

It runs in its own process and answers every request with the same 200, so whatever limits the
rate is the generator (or this loop, which does less work per request than the generator does).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
from typing import Any, cast

_ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
    b'{"status":"ok"}'
)


class _Answerer(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        # Bodiless GETs only: one answer per blank line that ends a request head.
        self._buffer += data
        count = self._buffer.count(b"\r\n\r\n")
        if count and self._transport is not None:
            self._buffer = self._buffer[self._buffer.rfind(b"\r\n\r\n") + 4 :]
            self._transport.write(_ANSWER * count)


def _serve(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Answerer, sock=sock)
        async with server:
            await server.serve_forever()

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


class NullServer:
    """``with NullServer() as port:`` a null server on 127.0.0.1:port in another process."""

    def __init__(self) -> None:
        self._process: Any = None

    def __enter__(self) -> int:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        port: int = sock.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=_serve, args=(sock,), daemon=True)
        self._process.start()
        sock.close()
        return port

    def __exit__(self, *_: object) -> None:
        self._process.terminate()
        self._process.join(5)
