"""Instants as the contract writes them: ISO 8601 UTC with Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cinema_core import ManualClock, SystemClock
from cinema_core.kernel.times import iso, parse_iso


def test_instants_are_written_in_utc_with_z() -> None:
    """Any timezone is written as the same instant in UTC, millisecond precision, with Z."""
    brasilia = timezone(timedelta(hours=-3))
    assert iso(datetime(2026, 12, 1, 16, 0, tzinfo=brasilia)) == "2026-12-01T19:00:00.000Z"


@pytest.mark.parametrize(
    "text", ["2026-12-01T19:00:00Z", "2026-12-01T19:00:00z", "2026-12-01T16:00:00-03:00"]
)
def test_instants_with_a_timezone_are_read_as_utc(text: str) -> None:
    """Z, z and offsets are all accepted and read as UTC."""
    assert parse_iso(text) == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    assert parse_iso(text).tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-12-01T19:00:00", "tomorrow", ""])
def test_instants_without_a_timezone_or_malformed_are_refused(text: str) -> None:
    """A naive or malformed instant is a ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - either message is right
        parse_iso(text)


def test_manual_clock_moves_only_when_told() -> None:
    """The test clock advances and jumps by hand; the system clock is timezone-aware UTC."""
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.advance(1.5) == datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert clock.advance(minutes=1) == datetime(2026, 1, 1, 0, 1, 1, 500000, tzinfo=UTC)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)
    assert SystemClock().now().tzinfo is UTC
