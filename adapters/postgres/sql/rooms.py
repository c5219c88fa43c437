"""A room inserted."""

from __future__ import annotations

from typing import Final

# A room that is not private, unless its cinema has one of that name (rooms_cinema_name_key):
# skipped, not raised, so the transaction stays usable (no row back: RoomExists).
ADD_ROOM: Final = """
INSERT INTO rooms (id, cinema, name, layout, private)
VALUES (%(id)s, %(cinema)s, %(name)s, %(layout)s::text[], %(private)s)
ON CONFLICT (cinema, name) WHERE NOT private DO NOTHING
RETURNING id
"""
