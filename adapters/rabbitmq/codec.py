"""Events on the wire: the contract's JSON envelope, persistent, identified by the event id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import pika

from cinema_core.events.envelopes import Event
from cinema_core.kernel.times import parse_iso

from .tracing import TRACEPARENT_HEADER

CONTENT_TYPE = "application/json"
PERSISTENT = 2


def encode(
    event: Event, headers: dict[str, Any] | None = None
) -> tuple[bytes, pika.BasicProperties]:
    """The message body and properties for ``event``."""
    body = json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False)
    properties = pika.BasicProperties(
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        delivery_mode=PERSISTENT,
        message_id=str(event.id),
        type=event.type,
        headers=headers or None,
    )
    return body.encode(), properties


def decode(body: bytes, headers: Mapping[str, Any] | None = None) -> Event:
    """The event in a message body, with the traceparent its headers carry; ``ValueError`` if
    the body is not a well-formed envelope."""
    traceparent = (headers or {}).get(TRACEPARENT_HEADER)
    if isinstance(traceparent, bytes):
        traceparent = traceparent.decode("ascii", "replace")
    try:
        envelope = json.loads(body)
        return Event(
            id=UUID(envelope["id"]),
            type=str(envelope["type"]),
            occurred_at=parse_iso(envelope["occurred_at"]),
            data=dict(envelope["data"]),
            traceparent=traceparent if isinstance(traceparent, str) else None,
        )
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise ValueError(f"not an event envelope: {error!r}") from error
