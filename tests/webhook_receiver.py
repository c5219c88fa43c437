"""A webhook receiver for flow tests: a real HTTP server on its own port that answers each
event first with a 500, then too late (after the sender's timeout), then with a 200, and keeps
the events it accepted, each once, by ``Cinema-Event-Id``, after checking their signature. A
path ending in ``/ok`` takes each event at its first try."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cinema_core.webhooks import verify


class Receiver:
    """``secrets`` maps a path to the secret its webhook signs with (set after registering);
    a path ending in ``/gone`` answers 410, one ending in ``/ok`` takes each event at its first
    try."""

    def __init__(self, late: float):
        self.late = late
        self.secrets: dict[str, str] = {}
        self.tries: Counter[str] = Counter()
        self.accepted: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.bad_signatures = 0
        self.gone_hits = 0
        self._mutex = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.answer(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        event_id = handler.headers.get("Cinema-Event-Id", "")
        if path.endswith("/gone"):
            with self._mutex:
                self.gone_hits += 1
            self._reply(handler, 410)
            return
        signed = verify(
            self.secrets.get(path, ""),
            handler.headers.get("Cinema-Signature", ""),
            body,
            now=int(time.time()),
        )
        with self._mutex:
            tries = self.tries[event_id]
            self.tries[event_id] += 1
            if not signed:
                self.bad_signatures += 1
        if not signed:
            self._reply(handler, 401)
            return
        if tries == 0 and not path.endswith("/ok"):
            self._reply(handler, 500)
            return
        if tries == 1 and not path.endswith("/ok"):
            # Answered after the sender has given up waiting: not taken.
            time.sleep(self.late)
            self._reply(handler, 200)
            return
        with self._mutex:
            if event_id in self.accepted:
                self.duplicates += 1
            else:
                envelope = json.loads(body)
                assert envelope["id"] == event_id
                self.accepted[event_id] = envelope
        self._reply(handler, 200)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass  # the sender hung up (it timed out)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
