"""Sample sessions for ``cinema serve --demo``: something to pick seats in at once, in memory.

Two rooms of one cinema (aisles, premium rows, couple seats, wheelchair spaces with their
companions' seats blocked) and a few screenings tonight and tomorrow, with some seats already
sold to the user ``sample``, so the seat picker opens on a room that looks lived in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from cinema_core import BoxOffice, Category, Money

SAMPLE_BUYER = "sample"
CINEMA = "Centro"
ROOMS = {
    "Sala 1": (
        "ssss_ssssss_ssss",
        "ssss_ssssss_ssss",
        "ssss_ssssss_ssss",
        "pppp_pppppp_pppp",
        "pppp_pppppp_pppp",
        "ssss_ssssss_ssss",
        "ssss_ssssss_ssss",
        "cccc_ssssss_cccc",
        "wwxs_ssssss_sxww",
    ),
    "Sala 2": ("sssss_sssss", "sssss_sssss", "ppppp_ppppp", "ccsss_ssscc", "wxsss_sssxw"),
}
PRICES = {
    Category.STANDARD: Money.parse("25.00"),
    Category.PREMIUM: Money.parse("40.00"),
    Category.COUPLE: Money.parse("30.00"),
    Category.ACCESSIBLE: Money.parse("25.00"),
}
_SHOWS = (
    # movie, room, hours from the next round hour, the sales already made (≤ 10 seats each)
    (
        "Filme X",
        "Sala 1",
        2,
        (("C9", "C10", "D6", "D7"), ("E5", "E6", "E7", "F5", "F6", "H1", "H2")),
    ),
    ("O Auto da Compadecida", "Sala 2", 3, (("A1", "A2", "C5", "C6"),)),
    ("Cidade de Deus", "Sala 1", 26, ()),
)


def add_sample_sessions(box: BoxOffice, now: datetime | None = None) -> list[UUID]:
    """Create the sample rooms, sessions and sales; returns the sessions' ids, soonest first."""
    now = now or datetime.now(UTC)
    base = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rooms = {
        name: box.create_room(cinema=CINEMA, name=name, layout=layout).id
        for name, layout in ROOMS.items()
    }
    made = []
    for movie, room, hours, sold in _SHOWS:
        session = box.create_session(
            movie=movie,
            room_id=rooms[room],
            starts_at=base + timedelta(hours=hours),
            prices=PRICES,
        ).session
        for seats in sold:
            hold = box.reserve(SAMPLE_BUYER, session.id, list(seats))
            box.pay(hold.id, SAMPLE_BUYER)
        made.append(session.id)
    return made
