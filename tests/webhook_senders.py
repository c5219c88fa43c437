"""A webhook sender for tests: answers from a script, and keeps what it was asked to send."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import attrs

from cinema_core.webhooks import Outcome


@attrs.frozen
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]


OK = Outcome(status=200)


class ScriptedSender:
    """Answers each send with the next outcome of ``script`` (then with ``then``)."""

    def __init__(self, script: Iterable[Outcome] = (), then: Outcome = OK):
        self.script = list(script)
        self.then = then
        self.sent: list[Sent] = []
        self._mutex = threading.Lock()

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        with self._mutex:
            self.sent.append(Sent(url, body, dict(headers)))
            return self.script.pop(0) if self.script else self.then
