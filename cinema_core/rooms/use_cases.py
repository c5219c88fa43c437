"""The use cases of rooms: an admin adding one, anyone reading them.

Each is one call to the store, through the ``Holding`` it is handed (the store and new ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import attrs

from cinema_core.errors import RoomNotFound
from cinema_core.rooms.layout import Room
from cinema_core.selling.holding import Holding


@attrs.define
class Rooms:
    """The chain's rooms (what ``BoxOffice`` answers about them)."""

    holding: Holding

    def create_room(self, *, cinema: str, name: str, layout: Sequence[str]) -> Room:
        """A new room of a cinema; ``(cinema, name)`` is unique (``RoomExists``)."""
        room = Room.create(id=self.holding.new_id(), cinema=cinema, name=name, layout=layout)
        self.holding.repo.atomic(lambda tx: tx.add_room(room))
        return room

    def room(self, room_id: UUID) -> Room:
        """The room; a session's private room is no room of the chain (``RoomNotFound``)."""
        room = self.holding.repo.get_room(room_id)
        if room is None or room.private:
            raise RoomNotFound()
        return room

    def rooms(self, cinema: str | None = None) -> list[Room]:
        """The chain's rooms (of one cinema if named), by cinema and name."""
        return self.holding.repo.list_rooms(cinema)
