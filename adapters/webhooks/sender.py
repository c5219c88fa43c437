"""The ``WebhookSender`` port: HTTP/1.1 POSTs written straight to a kept-alive socket per
receiver and per sender thread, every socket operation bounded.

Neither httpx nor ``http.client``: a webhook is one POST whose answer is only a status. httpx's
request and response models, cookie jar and pool bookkeeping cost ~1 ms of CPU per send, and
``http.client`` parses every answer's headers with the ``email`` package (~0.2 ms): both several
times the rest of a send (bench/FINDINGS.md 18). What is read of an answer is its status line,
and its body only when it is short and framed by ``Content-Length`` (so the connection can carry
the next send); anything else closes the connection instead of being waited for.

Redirects are never followed: a receiver's 3xx is an answer like any other non-2xx (retried), so
a registered URL cannot bounce the worker to an address an admin never saw. No proxy is read
from the environment: an operator's proxy variables are for other traffic, and a proxy would
hide the receiver's own answer.
"""

from __future__ import annotations

import socket
import ssl
import string
import threading
from collections import OrderedDict
from typing import Final
from urllib.parse import quote, urlsplit

from cinema_core.webhooks.deliveries import Outcome

# The longest answer head read, and the longest body drained to keep the connection.
MAX_HEAD: Final = 64 * 1024
DRAIN_LIMIT: Final = 16 * 1024
# Connections kept per sender thread; the least recently used receiver's is closed beyond it.
KEPT_PER_THREAD: Final = 32
# A path's printable ASCII is sent as registered; anything else is percent-encoded.
_SAFE: Final = string.punctuation

Address = tuple[str, str, int]


class ReceiverError(Exception):
    """The receiver's answer is not HTTP/1.x as this sender reads it."""


class _Closed(Exception):
    """A kept connection turned out closed before any of the answer came."""


class _Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.used = False

    def exchange(self, request: bytes) -> tuple[int, bool]:
        """Send ``request``; the answer's status and whether the connection can be used again."""
        sock = self.sock
        reused, self.used = self.used, True
        try:
            sock.sendall(request)
            buffer = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError) as error:
            if reused:
                raise _Closed() from error
            raise
        if not buffer:
            if reused:
                raise _Closed()
            raise ReceiverError("the receiver closed the connection without answering")
        while True:
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                if len(buffer) > MAX_HEAD:
                    raise ReceiverError("the answer's head is too long")
                more = sock.recv(4096)
                if not more:
                    raise ReceiverError("the receiver closed the connection mid-answer")
                buffer += more
                end = buffer.find(b"\r\n\r\n")
            head, buffer = buffer[:end], buffer[end + 4 :]
            status, keep, length = _read_head(head)
            # An interim answer (100 Continue, 103 Early Hints) precedes the real one.
            if not 100 <= status < 200:
                break
        if not keep or length is None or length > DRAIN_LIMIT:
            return status, False
        while len(buffer) < length:
            more = sock.recv(length - len(buffer))
            if not more:
                return status, False
            buffer += more
        return status, len(buffer) == length

    def close(self) -> None:
        self.sock.close()


def _read_head(head: bytes) -> tuple[int, bool, int | None]:
    """The status, whether the connection stays open, and the body's length if framed by
    ``Content-Length`` alone."""
    lines = head.split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ReceiverError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
    keep = version != b"HTTP/1.0"
    length: int | None = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value) if value.isdigit() and length is None else -1
        elif name == b"transfer-encoding":
            length = -1
        elif name == b"connection":
            keep = b"close" not in value and (keep or b"keep-alive" in value)
    return int(code), keep, None if length is None or length < 0 else length


class _Pool(threading.local):
    def __init__(self) -> None:
        self.connections: OrderedDict[Address, _Connection] = OrderedDict()


class HttpWebhookSender:
    """POSTs with ``timeout`` seconds for each of connecting, writing the body, and each read of
    the answer. Each thread (the worker's sender loops) keeps its own connections, so no lock is
    held while a receiver takes its time."""

    def __init__(self, timeout: float = 5.0):
        self.timeout = timeout
        self._pool = _Pool()
        self._tls: ssl.SSLContext | None = None
        self._open: set[_Connection] = set()
        self._mutex = threading.Lock()

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            address, request = self._request(url, body, headers)
        except (ValueError, UnicodeError) as error:
            # A URL it cannot use after all (it was checked at registration).
            return Outcome(error=f"bad URL: {error}")
        for _ in range(2):
            try:
                connection = self._connection(address)
                status, keep = connection.exchange(request)
            except _Closed:
                # A kept connection the receiver closed while idle: once more on a new one.
                self._forget(address)
                continue
            except TimeoutError:
                self._forget(address)
                return Outcome(error=f"timed out after {self.timeout:g} s")
            except (OSError, ReceiverError) as error:
                self._forget(address)
                return _failed(error)
            if not keep:
                self._forget(address)
            return Outcome(status=status)
        raise AssertionError("unreachable: a new connection never raises _Closed")

    @staticmethod
    def _request(url: str, body: bytes, headers: dict[str, str]) -> tuple[Address, bytes]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port or (443 if scheme == "https" else 80)
        if scheme not in ("http", "https") or not host:
            raise ValueError("not an http(s) URL with a host")
        name = f"[{host}]" if ":" in host else host
        if port != (443 if scheme == "https" else 80):
            name += f":{port}"
        target = quote(parts.path or "/", safe=_SAFE)
        if parts.query:
            target += "?" + quote(parts.query, safe=_SAFE)
        lines = [f"POST {target} HTTP/1.1", f"Host: {name}", f"Content-Length: {len(body)}"]
        for key, value in headers.items():
            if any(c in "\r\n" for c in key + value):
                raise ValueError(f"header {key!r} would split the request")
            lines.append(f"{key}: {value}")
        return (scheme, host, port), ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def _connection(self, address: Address) -> _Connection:
        kept = self._pool.connections
        connection = kept.pop(address, None)
        if connection is None:
            connection = self._connect(address)
            with self._mutex:
                self._open.add(connection)
            while len(kept) >= KEPT_PER_THREAD:
                _, oldest = kept.popitem(last=False)
                self._drop(oldest)
        kept[address] = connection
        return connection

    def _connect(self, address: Address) -> _Connection:
        scheme, host, port = address
        sock = socket.create_connection((host, port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            with self._mutex:
                if self._tls is None:
                    self._tls = ssl.create_default_context()
                tls = self._tls
            try:
                sock = tls.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        return _Connection(sock)

    def _forget(self, address: Address) -> None:
        connection = self._pool.connections.pop(address, None)
        if connection is not None:
            self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        with self._mutex:
            self._open.discard(connection)

    def close(self) -> None:
        with self._mutex:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()
        self._pool = _Pool()


def _failed(error: BaseException) -> Outcome:
    if isinstance(error, socket.gaierror):
        return Outcome(error=f"unresolvable host: {error}")
    text = str(error)
    return Outcome(error=f"{type(error).__name__}: {text}" if text else type(error).__name__)
