"""A TCP forwarder that tests can cut and restore: a service outage for the system under test,
without stopping the real server that other test runs share."""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from types import TracebackType


class Outage:
    """Forwards ``127.0.0.1:<port>`` to ``target``. ``cut()`` drops every open connection and
    refuses new ones (as a stopped server would); ``stall()`` keeps every connection open and
    accepts new ones but forwards nothing either way (a frozen host, a black-holed network);
    ``stall(drop_open=True)`` drops the open connections first, so that clients must connect
    again into the stall (their handshakes hang); ``restore()`` serves again on the same port,
    stalled bytes included."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._up = threading.Event()
        self._up.set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._thread = threading.Thread(
            target=self._serve, name=f"outage-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    def url(self, template: str) -> str:
        """``template`` with ``{port}`` replaced, e.g. ``redis://127.0.0.1:{port}/0``."""
        return template.format(port=self.port)

    def cut(self) -> None:
        self._up.clear()
        self._drop_open()

    def stall(self, *, drop_open: bool = False) -> None:
        self._flowing.clear()
        if drop_open:
            self._drop_open()

    def _drop_open(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for end in (client, upstream):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def restore(self) -> None:
        self._up.set()
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def __enter__(self) -> Outage:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                # A stopped server refuses: close at once, before any byte is exchanged.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        # While stalled, an accepted client waits here: the kernel has said yes, nothing answers.
        while not self._flowing.wait(0.2):
            if self._closed or not self._up.is_set():
                client.close()
                return
        try:
            upstream = socket.create_connection(self.target, timeout=2)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._pairs.append((client, upstream))
        self._pump(client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while self._up.is_set():
                if not self._flowing.is_set():
                    self._flowing.wait(0.2)
                    continue
                for key, _ in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for end in (client, upstream):
                with contextlib.suppress(OSError):
                    end.close()
