"""The seat map: every seat of a session's room with its status at one instant, and the last
maps of the sessions being watched (``SeatMaps``), kept while nothing in them changed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.rooms.layout import Room
from cinema_core.rooms.seats import Seat, SeatLabel, SeatStatus
from cinema_core.selling.holding import Holding
from cinema_core.selling.ticket_types import QuotaUse, quota_uses

# Seat maps kept for reuse (each up to 2,600 seats, ~0.5 MB): the sessions being watched.
SEAT_MAP_CACHE_SIZE = 16


@attrs.frozen
class SeatMap:
    """A session's seats as a buyer sees them at one instant, blocked seats included, in label
    order; ``room`` says where each one stands and what it is."""

    session_id: UUID
    room: Room
    seats: tuple[tuple[SeatLabel, SeatStatus], ...]
    # Each quota group of the session with its limit, use and what is left at that instant.
    quotas: Mapping[str, QuotaUse] = attrs.field(factory=dict)

    @classmethod
    def at(cls, session_id: UUID, room: Room, seats: Sequence[Seat], now: datetime) -> SeatMap:
        """The map of ``room`` given the stored state of its seats for sale (in label order, as
        every store hands them over)."""
        sold, held, available = SeatStatus.SOLD, SeatStatus.HELD, SeatStatus.AVAILABLE
        statuses: list[tuple[SeatLabel, SeatStatus]] = []
        # Walked side by side with the room's seats: both are in label order, and the stores
        # hand over the plan's own label objects, so an identity check pairs them without
        # hashing 2,600 labels. Seats in any other order or set are looked up by label.
        by_label: dict[SeatLabel, Seat] | None = None
        next_index, count = 0, len(seats)
        for room_seat in room.plan.seats:
            label = room_seat.label
            seat: Seat | None = None
            if room_seat.blocked:
                pass
            elif by_label is None and next_index < count and seats[next_index].label is label:
                seat = seats[next_index]
                next_index += 1
            else:
                if by_label is None:
                    by_label = {seat.label: seat for seat in seats}
                seat = by_label.get(label)
            if seat is None:
                statuses.append((label, SeatStatus.BLOCKED))
            # Seat.status_at inlined: a method call per seat is most of a 2,600-seat map's cost.
            elif seat.sale_id is not None:
                statuses.append((label, sold))
            elif (
                seat.held_by is not None
                and seat.hold_expires_at is not None
                and now < seat.hold_expires_at
            ):
                statuses.append((label, held))
            else:
                statuses.append((label, available))
        return cls(session_id, room, tuple(statuses))

    def count(self, status: SeatStatus | str) -> int:
        wanted = SeatStatus(status)
        return sum(1 for _, seat_status in self.seats if seat_status is wanted)

    def status(self, label: SeatLabel) -> SeatStatus | None:
        return next((status for seat, status in self.seats if seat == label), None)


@attrs.define
class SeatMaps:
    """The seat map of a session now (what ``BoxOffice.seat_map`` answers), the last one of
    each watched session handed out again while it still holds."""

    holding: Holding
    # The last seat map of each watched session, with the seats it was made from and the
    # instants it holds for.
    _kept: dict[UUID, tuple[list[Seat], SeatMap, datetime, datetime | None]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    def seat_map(self, session_id: UUID) -> SeatMap:
        """Every seat of the session's room with its status now."""
        seats = self.holding.repo.seats(session_id)
        session = self.holding.session(session_id)
        room = session.room
        if not seats:
            return SeatMap.at(session_id, room, seats, self.holding.clock.now())
        now = self.holding.clock.now()
        cached = self._kept.get(session_id)
        if cached is not None:
            seen, seat_map, since, until = cached
            # A store that hands out its stored seats (the in-memory one; it replaces a seat on
            # every write, never mutates it) gives back the very same objects while nothing
            # changed, and a map stays true until the next hold in it lapses. A store that
            # makes fresh seats per read fails the first identity check and never pays more.
            if (
                seats[0] is seen[0]
                and since <= now
                and (until is None or now < until)
                and seats == seen
            ):
                return seat_map
        seat_map = SeatMap.at(session_id, room, seats, now)
        if any(kind.group for kind in session.ticket_types):
            # From the same seats as the statuses, so the quotas and the map always agree.
            used = Counter(
                seat.ticket for seat in seats if seat.ticket and seat.counts_for(seat.ticket, now)
            )
            quotas = quota_uses(session.ticket_types, session.seat_count, used)
            seat_map = attrs.evolve(seat_map, quotas=quotas)
        until = min(
            (
                seat.hold_expires_at
                for seat in seats
                if seat.hold_expires_at is not None and seat.is_held_at(now)
            ),
            default=None,
        )
        if session_id not in self._kept and len(self._kept) >= SEAT_MAP_CACHE_SIZE:
            self._kept.clear()  # atomic, unlike evicting one while other threads write
        self._kept[session_id] = (seats, seat_map, now, until)
        return seat_map
