"""Keyset pages: an opaque cursor names the last item seen, so pages stay stable as data grows."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

import attrs

from cinema_core.errors import ValidationFailed
from cinema_core.kernel.times import in_range

T = TypeVar("T")
MAX_LIMIT = 200


@attrs.frozen
class Cursor:
    """A position in an ordering by (instant, id)."""

    at: datetime
    id: UUID

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            at, id = json.loads(raw)
            instant = datetime.fromisoformat(at)
            # In UTC and in the box office's range: a hand-made cursor at year 1 with an
            # offset used to overflow when compared (a 500).
            if instant.tzinfo is None or not in_range(instant.astimezone(UTC)):
                raise ValueError
            return cls(instant.astimezone(UTC), UUID(id))
        # AttributeError: UUID() given a number instead of text (a hand-made cursor).
        except (
            ValueError,
            TypeError,
            AttributeError,
            OverflowError,
            binascii.Error,
            UnicodeDecodeError,
        ):
            raise ValidationFailed({"cursor": "is not a cursor this API gave out"}) from None


@attrs.frozen
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"must be 1 to {MAX_LIMIT}"})
    return limit
