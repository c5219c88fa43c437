"""The signature every webhook delivery carries: ``Cinema-Signature: t=<unix>,v1=<hex>``, the
hex HMAC-SHA256 of ``"<t>.<body>"`` under the webhook's secret.

The timestamp is inside what is signed, so a receiver that refuses old ones (``tolerance``)
cannot be fed a recorded delivery again later.

>>> header = sign("s3cret", b'{"id": 1}', 1700000000)
>>> header.startswith("t=1700000000,v1=")
True
>>> verify("s3cret", header, b'{"id": 1}', now=1700000010)
True
>>> verify("other", header, b'{"id": 1}', now=1700000010)
False
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

SIGNATURE_HEADER: Final = "Cinema-Signature"
EVENT_ID_HEADER: Final = "Cinema-Event-Id"
# How old a signature a receiver following our advice accepts.
DEFAULT_TOLERANCE: Final = 300


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return Signer(secret).mac(body, timestamp)


class Signer:
    """Signs with one secret; its key is prepared once, so a batch of sends to one webhook
    copies a keyed HMAC instead of keying a new one for each."""

    def __init__(self, secret: str):
        self._keyed = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)

    def mac(self, body: bytes, timestamp: int) -> str:
        mac = self._keyed.copy()
        mac.update(b"%d." % timestamp)
        mac.update(body)
        return mac.hexdigest()

    def sign(self, body: bytes, timestamp: int) -> str:
        """The ``Cinema-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
        return f"t={timestamp},v1={self.mac(body, timestamp)}"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Cinema-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return Signer(secret).sign(body, timestamp)


def verify(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, at most ``tolerance`` seconds ago
    (what a receiver does; the box office's own tests check deliveries with it)."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    stamps = parts.get("t", [])
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, body, timestamp)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
