"""Events on the wire: the contract's JSON envelope, persistent, identified by the event id."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pika

from cinema_core.events.envelopes import Event
from cinema_core.kernel.times import parse_iso

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


def decode(body: bytes) -> Event:
    """The event in a message body; ``ValueError`` if it is not a well-formed envelope."""
    try:
        envelope = json.loads(body)
        return Event(
            id=UUID(envelope["id"]),
            type=str(envelope["type"]),
            occurred_at=parse_iso(envelope["occurred_at"]),
            data=dict(envelope["data"]),
        )
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
        raise ValueError(f"not an event envelope: {error!r}") from error
