"""Instants as the contract writes them: ISO 8601, UTC, with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

# The instants the box office deals in: PostgreSQL could store far more, but Python's datetime
# ends at year 9999 and a session near it has no room for its end (``ends_at`` overflowed into
# a 500 on every list that showed it). Everything a client sends is held inside this window,
# which leaves a day of offsets and a session's length spare at either end.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def iso(instant: datetime) -> str:
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Read an ISO 8601 instant; raises ``ValueError`` if it has no timezone."""
    instant = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError("must carry a timezone, e.g. 2026-12-01T19:00:00Z")
    return instant.astimezone(UTC)


def in_range(instant: datetime) -> bool:
    """Whether ``instant`` (with a timezone) lies in ``[EARLIEST, LATEST)``."""
    return EARLIEST <= instant < LATEST
