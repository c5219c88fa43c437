"""Sample sessions for ``cinema serve --demo``: something to pick seats in at once, in memory.

A few screenings tonight and tomorrow, each with some seats already sold (by the user
``sample``), so the seat picker opens on a room that looks lived in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from cinema_core import BoxOffice, Money

SAMPLE_BUYER = "sample"
_SHOWS = (
    # movie, room, hours from the next round hour, rows, seats a row, price, sold seats
    ("Filme X", "Sala 1", 2, 8, 14, "25.00", ("C6", "C7", "D6", "D7", "D8", "E3", "E4", "F10")),
    ("O Auto da Compadecida", "Sala 2", 4, 6, 10, "22.50", ("A1", "A2", "B5", "B6")),
    ("Cidade de Deus", "Sala 1", 26, 8, 14, "28.00", ()),
)


def add_sample_sessions(box: BoxOffice, now: datetime | None = None) -> list[UUID]:
    """Create the sample sessions (and their sales); returns their ids, soonest first."""
    now = now or datetime.now(UTC)
    base = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    made = []
    for movie, room, hours, rows, seats_per_row, price, sold in _SHOWS:
        session = box.create_session(
            movie=movie,
            room=room,
            starts_at=base + timedelta(hours=hours),
            price=Money.parse(price),
            rows=rows,
            seats_per_row=seats_per_row,
        ).session
        if sold:
            hold = box.reserve(SAMPLE_BUYER, session.id, list(sold))
            box.pay(hold.id, SAMPLE_BUYER)
        made.append(session.id)
    return made
