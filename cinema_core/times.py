"""Instants as the contract writes them: ISO 8601, UTC, with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(instant: datetime) -> str:
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Read an ISO 8601 instant; raises ``ValueError`` if it has no timezone."""
    instant = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError("must carry a timezone, e.g. 2026-12-01T19:00:00Z")
    return instant.astimezone(UTC)
