"""The HTTP sender against real sockets on this machine: one connection carries many sends, a
receiver that closes it while idle costs nothing but a new one, answers it cannot frame close
it, and a silent or absent receiver is an error with its reason, never an exception."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from adapters.webhooks import HttpWebhookSender

HEADERS = {"Content-Type": "application/json", "Cinema-Event-Id": "e1"}


class Receiver:
    """Answers ``status`` with ``body``; counts connections and keeps what it got."""

    def __init__(self) -> None:
        self.status = 204
        self.body = b""
        self.chunked = False
        self.connections: set[int] = set()
        self.accepted = itertools.count()
        self.got: list[tuple[str, bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                # A number per accepted connection: an id() of its socket could be reused once
                # the first one is closed and collected.
                super().setup()
                self.number = next(receiver.accepted)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.connections.add(self.number)
                receiver.got.append((self.path, body, dict(self.headers)))
                self.send_response(receiver.status)
                if receiver.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"2\r\nok\r\n0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def sender() -> Iterator[HttpWebhookSender]:
    sender = HttpWebhookSender(timeout=0.5)
    yield sender
    sender.close()


def test_sends_share_one_kept_alive_connection(
    receiver: Receiver, sender: HttpWebhookSender
) -> None:
    receiver.body = b'{"ok": true}'
    outcomes = [sender.send(receiver.url + "/hook?x=1", b'{"n":%d}' % n, HEADERS) for n in range(5)]
    assert [o.status for o in outcomes] == [204] * 5
    assert len(receiver.connections) == 1
    path, body, headers = receiver.got[-1]
    assert (path, body, headers["Cinema-Event-Id"]) == ("/hook?x=1", b'{"n":4}', "e1")
    assert headers["Host"] == receiver.url.removeprefix("http://")


def test_a_connection_the_receiver_closed_is_replaced_without_a_failure(
    receiver: Receiver, sender: HttpWebhookSender
) -> None:
    assert sender.send(receiver.url, b"{}", HEADERS).status == 204
    for connection in list(sender._pool.connections.values()):
        # What a receiver's idle timeout does to a kept connection.
        connection.sock.shutdown(socket.SHUT_RDWR)
    assert sender.send(receiver.url, b"{}", HEADERS).status == 204
    assert len(receiver.got) == 2


def test_an_answer_it_cannot_frame_closes_the_connection(
    receiver: Receiver, sender: HttpWebhookSender
) -> None:
    receiver.chunked, receiver.status = True, 500
    assert sender.send(receiver.url, b"{}", HEADERS).status == 500
    assert sender.send(receiver.url, b"{}", HEADERS).status == 500
    assert len(receiver.connections) == 2


def test_silence_refusal_and_bad_answers_are_errors_with_reasons(
    sender: HttpWebhookSender,
) -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    talker = socket.create_server(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        timed_out = sender.send(f"http://127.0.0.1:{port}/", b"{}", HEADERS)
        assert (timed_out.status, timed_out.error) == (None, "timed out after 0.5 s")

        def garbage() -> None:
            connection, _ = talker.accept()
            connection.recv(65536)
            connection.sendall(b"SSH-2.0-not-http\r\n\r\n")
            connection.close()

        threading.Thread(target=garbage, daemon=True).start()
        bad = sender.send(f"http://127.0.0.1:{talker.getsockname()[1]}/", b"{}", HEADERS)
        assert bad.status is None
        assert "not an HTTP/1.x answer" in (bad.error or "")
    finally:
        silent.close()
        talker.close()
    refused = sender.send(f"http://127.0.0.1:{port}/", b"{}", HEADERS)
    assert refused.status is None
    assert "ConnectionRefused" in (refused.error or "")
    assert sender.send("ftp://example.com/", b"{}", HEADERS).error == (
        "bad URL: not an http(s) URL with a host"
    )
