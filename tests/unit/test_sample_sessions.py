"""The sample sessions of ``cinema serve --demo`` can be made: rooms, sessions and sales."""

from __future__ import annotations

from datetime import UTC, datetime

from cinema_core import ManualClock, in_memory_box_office
from entrypoints.sample_sessions import add_sample_sessions


def test_sample_sessions_are_made_with_seats_sold() -> None:
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    box = in_memory_box_office(ManualClock(now))
    made = add_sample_sessions(box, now)
    assert len(made) == 3
    sold = [box.seat_map(session).count("sold") for session in made]
    assert sold == [11, 4, 0]
    assert box.session(made[0]).session.room.cinema == "Centro"
