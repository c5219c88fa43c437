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
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Cinema-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


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
