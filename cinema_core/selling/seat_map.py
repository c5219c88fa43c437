"""The seat map: every seat of a session's room with its status at one instant, and the last
maps of the sessions being watched (``SeatMaps``), kept while nothing in them changed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import compress
from operator import is_not
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
    # The last seat map of each watched session, with the seats it was made from, the
    # instants it holds for, and where each of those seats stands in the map (see _positions).
    _kept: dict[UUID, _Kept] = attrs.field(factory=dict, init=False, repr=False)

    def seat_map(self, session_id: UUID) -> SeatMap:
        """Every seat of the session's room with its status now."""
        seats = self.holding.repo.seats(session_id)
        session = self.holding.session(session_id)
        room = session.room
        if not seats:
            return SeatMap.at(session_id, room, seats, self.holding.clock.now())
        now = self.holding.clock.now()
        cached = self._kept.get(session_id)
        patched: tuple[SeatMap, datetime | None, list[int]] | None = None
        positions: tuple[int, ...] | None = None
        used: Counter[str] | None = None
        if cached is not None:
            seen, seat_map, since, until, positions, kept_used = cached
            # A store that hands out its stored seats (the in-memory one; it replaces a seat on
            # every write, never mutates it) gives back the very same objects while nothing
            # changed, and a map stays true until the next hold in it lapses. A store that
            # makes fresh seats per read fails the first identity check and never pays more.
            # PostgreSQL's repo hands out the list it last read while the session's version
            # is unchanged, and else a list sharing every seat it did not read anew.
            if since <= now and (until is None or now < until):
                if seats[0] is seen[0] and seats == seen:
                    return seat_map
                if positions is not None and room.plan is seat_map.room.plan:
                    patched = _patched(seat_map, room, seats, seen, positions, now, until)
        if patched is not None:
            seat_map, until, changed = patched
            if kept_used is not None:
                # No hold of the seats that did not change lapsed (the map still holds), so
                # only the changed seats can move the quotas.
                used = kept_used - _quota_use([seen[at] for at in changed], now)
                used.update(_quota_use([seats[at] for at in changed], now))
        else:
            seat_map = SeatMap.at(session_id, room, seats, now)
            positions = _positions(room, seats)
            until = _next_lapse(seats, now)
        if any(kind.group for kind in session.ticket_types):
            # From the same seats as the statuses, so the quotas and the map always agree.
            if used is None:
                used = _quota_use(seats, now)
            quotas = quota_uses(session.ticket_types, session.seat_count, used)
            seat_map = attrs.evolve(seat_map, quotas=quotas)
        else:
            used = None
        if session_id not in self._kept and len(self._kept) >= SEAT_MAP_CACHE_SIZE:
            self._kept.clear()  # atomic, unlike evicting one while other threads write
        self._kept[session_id] = (seats, seat_map, now, until, positions, used)
        return seat_map


def _quota_use(seats: Sequence[Seat], now: datetime) -> Counter[str]:
    """How many of ``seats`` use up each ticket type at ``now``."""
    return Counter(
        seat.ticket for seat in seats if seat.ticket and seat.counts_for(seat.ticket, now)
    )


_Kept = tuple[
    list[Seat],
    SeatMap,
    datetime,
    "datetime | None",
    "tuple[int, ...] | None",
    "Counter[str] | None",  # the quotas' use, when the session has quota groups
]


def _next_lapse(seats: Sequence[Seat], now: datetime) -> datetime | None:
    """When the first hold of these seats lapses: until then their map stays true."""
    return min(
        (
            seat.hold_expires_at
            for seat in seats
            if seat.hold_expires_at is not None and seat.is_held_at(now)
        ),
        default=None,
    )


def _positions(room: Room, seats: Sequence[Seat]) -> tuple[int, ...] | None:
    """Where each of ``seats`` stands in the room's map (blocked seats take places too), when
    they are the room's seats for sale in its order with its own labels, as the stores hand
    them over; ``None`` otherwise (such a map is always made whole)."""
    found = tuple(index for index, seat in enumerate(room.plan.seats) if not seat.blocked)
    if len(found) != len(seats):
        return None
    plan = room.plan.seats
    if any(plan[index].label is not seat.label for index, seat in zip(found, seats, strict=True)):
        return None
    return found


def _patched(
    last: SeatMap,
    room: Room,
    seats: Sequence[Seat],
    seen: Sequence[Seat],
    positions: tuple[int, ...],
    now: datetime,
    until: datetime | None,
) -> tuple[SeatMap, datetime | None, list[int]] | None:
    """``last`` (of the same plan as ``room``) with the statuses of the seats that are not the
    objects it was made from, when it stops holding, and where those seats are in ``seats``;
    ``None`` when the seats are not the same ones in the same order.

    Only for a map still true now (no hold in it lapsed since): then every seat handed over
    again is as it was. Much cheaper than ``SeatMap.at`` while a sale touches a few seats of
    2,600. ``until`` stays a bound: a hold that ended early only makes the map be patched
    again sooner.
    """
    if len(seats) != len(seen):
        return None
    # Found at C speed: a sale changes a few of 2,600.
    changed = list(compress(range(len(seats)), map(is_not, seats, seen)))
    statuses = list(last.seats)
    for index in changed:
        seat = seats[index]
        if seat.label is not seen[index].label:
            return None
        statuses[positions[index]] = (seat.label, seat.status_at(now))
    lapse = _next_lapse([seats[index] for index in changed], now)
    if lapse is not None and (until is None or lapse < until):
        until = lapse
    return SeatMap(last.session_id, room, tuple(statuses)), until, changed
