"""Mercado Pago's webhook deliveries: proving one came from Mercado Pago, and what it names.

A delivery is ``POST <notification_url>?data.id=<payment id>&type=payment`` with the headers
``x-signature: ts=<seconds>,v1=<hex>`` and ``x-request-id``. ``v1`` is HMAC-SHA256, keyed with
the application's webhook secret, of the manifest
``id:<data.id>;request-id:<x-request-id>;ts:<ts>;`` where data.id is taken from the query
string, lower-cased (Mercado Pago's documentation asks so for alphanumeric ids; payment ids are
digits). Per that documentation a value missing from the delivery is left out of the manifest
with its key; the data.id itself is required here, since without it there is nothing to read.

Nothing in a notice is trusted but the charge id the signature covers: the box office reads the
charge from Mercado Pago and acts on that. A replayed delivery (an old ``ts``) verifies too;
acting once per charge state is the box office's job, not the signature's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

import attrs

from cinema_core.errors import CinemaError

from .payments import CHARGE_ID

# Bounds before any work: no header, id or request id of ours is longer.
_MAX_SIGNATURE = 512
_MAX_REQUEST_ID = 128
_TS = re.compile(r"[0-9]{1,20}", re.ASCII)
_HEX = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


class BadSignature(CinemaError):
    """A webhook delivery that does not prove it came from Mercado Pago."""

    code, status = "bad_signature", 401
    default_message = "The notification's signature is missing or wrong."

    def __init__(self, reason: str):
        # Why, for the log; the answer only says the signature did not hold.
        self.reason = reason
        super().__init__()


@attrs.frozen
class Notice:
    """What a delivery says it is about, unverified: its ``type`` (``payment`` for ours) and
    the ``data.id`` of the query string."""

    kind: str | None
    data_id: str | None

    @property
    def about_a_payment(self) -> bool:
        return self.kind == "payment" and self.data_id is not None


def read_notice(query: Mapping[str, str]) -> Notice:
    """The notice's type and data.id from its query string (``type`` or the older ``topic``;
    ``data.id`` or the older ``id``), each ``None`` when absent or not a plausible value.
    The body is not read: the signature does not cover it."""
    kind = query.get("type") or query.get("topic")
    data_id = query.get("data.id") or query.get("id")
    return Notice(
        kind=kind if kind is not None and len(kind) <= 40 and kind.isascii() else None,
        data_id=data_id.lower() if data_id and CHARGE_ID.fullmatch(data_id) else None,
    )


def manifest(data_id: str | None, request_id: str | None, ts: str) -> str:
    """The text Mercado Pago signs, its parts in its order, a missing one left out."""
    parts = []
    if data_id is not None:
        parts.append(f"id:{data_id.lower()};")
    if request_id is not None:
        parts.append(f"request-id:{request_id};")
    parts.append(f"ts:{ts};")
    return "".join(parts)


def sign(secret: str, data_id: str | None, request_id: str | None, ts: str) -> str:
    """The ``x-signature`` header Mercado Pago would send for these values."""
    digest = hmac.new(
        secret.encode(), manifest(data_id, request_id, ts).encode(), hashlib.sha256
    ).hexdigest()
    return f"ts={ts},v1={digest}"


def verified_charge_id(secret: str, query: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The charge id a delivery names, once its signature proves Mercado Pago sent it.

    ``query`` is the delivery's query string, ``headers`` its headers (looked up in lower case,
    as Starlette's ``Headers`` do; a plain dict should have lower-case keys). Raises
    ``BadSignature`` for a missing or malformed ``x-signature``, a missing data.id, or a
    signature that does not match.
    """
    if not secret:
        # An unset secret would make every forged signature of the empty key hold.
        raise BadSignature("no webhook secret is configured")
    data_id = read_notice(query).data_id
    if data_id is None:
        raise BadSignature("no data.id in the query string")
    header = headers.get("x-signature")
    if not header:
        raise BadSignature("no x-signature header")
    ts, v1 = _parse(header)
    request_id = headers.get("x-request-id")
    if request_id is not None and (len(request_id) > _MAX_REQUEST_ID or not request_id.isascii()):
        raise BadSignature("an implausible x-request-id")
    expected = sign(secret, data_id, request_id, ts).partition(",v1=")[2]
    if not hmac.compare_digest(expected, v1.lower()):
        raise BadSignature("the signature does not match")
    return data_id


def _parse(header: str) -> tuple[str, str]:
    if len(header) > _MAX_SIGNATURE or not header.isascii():
        raise BadSignature("a malformed x-signature header")
    fields: dict[str, str] = {}
    for part in header.split(","):
        key, equals, value = part.strip().partition("=")
        if not equals:
            raise BadSignature("a malformed x-signature header")
        fields.setdefault(key.strip(), value.strip())
    ts, v1 = fields.get("ts"), fields.get("v1")
    if ts is None or v1 is None or not _TS.fullmatch(ts) or not _HEX.fullmatch(v1):
        raise BadSignature("a malformed x-signature header")
    return ts, v1
