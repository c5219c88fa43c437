"""Best available: which seats a buyer who asks for "n seats, as good as you have" gets.

Every seat has a cost, lower is better (``seat_cost``): how far its row is from the ideal row, a
little behind the middle (three fifths of the way from the front row to the back), plus how far
its cell is from the centre of the room's width, each as a share of the room's depth and width:

    cost = |row − 3/5 · (rows − 1)| / rows + |column − (columns + 1) / 2| / columns

(``row`` counts from 0 at the front; ``column`` is the cell, gaps counted, as in the seat map).
A request for seats ``together`` gets a block of adjacent places of one row, the block with the
lowest mean cost; otherwise the cheapest places one by one. A couple seat is one place of two
seats, never split. Without a category a request is for standard and premium seats; couple seats
and wheelchair spaces go only to those who ask for them. Ties go to the first in label order.

Above the cost stands the single-seat rule (``gaps``): a choice that would leave a seat alone in
its row is taken only when no other choice would do, and never when the session forbids it.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from fractions import Fraction

import attrs

from cinema_core.errors import ValidationFailed
from cinema_core.rooms.layout import Category, Room, plan
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.gaps import stranded
from cinema_core.selling.reservations import MAX_SEATS_PER_RESERVATION, MIN_SEATS_PER_RESERVATION
from cinema_core.sessions.session import Session

IDEAL_ROW = Fraction(3, 5)
# What a request that names no category may get.
ORDINARY = frozenset({Category.STANDARD, Category.PREMIUM})
Choice = tuple[SeatLabel, ...]


@attrs.frozen
class Wish:
    """What a best-available request asks for: ``count`` seats, of ``category`` (standard or
    premium when ``None``), adjacent in one row when ``together``."""

    count: int
    category: Category | None = None
    together: bool = True

    @classmethod
    def checked(cls, count: int, category: str | None = None, together: bool = True) -> Wish:
        """A wish, after checking every rule (``ValidationFailed`` naming each bad field)."""
        fields: dict[str, str] = {}
        if not MIN_SEATS_PER_RESERVATION <= count <= MAX_SEATS_PER_RESERVATION:
            fields["count"] = f"must be {MIN_SEATS_PER_RESERVATION} to {MAX_SEATS_PER_RESERVATION}"
        kind = None
        if category is not None:
            try:
                kind = Category(category)
            except ValueError:
                fields["category"] = f"must be one of {', '.join(c.value for c in Category)}"
        if kind is Category.COUPLE and count % 2:
            fields["count"] = "must be even for couple seats (each is two seats)"
        if fields:
            raise ValidationFailed(fields)
        return cls(count, kind, together)

    def admits(self, category: Category) -> bool:
        return category in ORDINARY if self.category is None else category is self.category


@attrs.frozen
class Place:
    """What a buyer takes as one: a seat, or both halves of a couple seat; ``cost`` is the sum
    of its seats' costs (scaled to integers), ``first`` and ``last`` the cells it spans."""

    labels: Choice
    category: Category
    cost: int
    first: int
    last: int


@attrs.frozen
class Block:
    """Adjacent places of one row, ``cost`` the sum of their seats' costs."""

    labels: Choice
    cost: int


def seat_cost(rows: int, columns: int, row: int, column: int) -> Fraction:
    """The cost of the seat in cell ``column`` (1-based) of row ``row`` (0 = front)."""
    return Fraction(_scaled_cost(rows, columns, row, column), 20 * rows * columns)


def _scaled_cost(rows: int, columns: int, row: int, column: int) -> int:
    # seat_cost × 20 · rows · columns, in integers: ranking a 2,600-seat room's blocks in
    # fractions took half a second per block size.
    return 2 * columns * abs(10 * row - 6 * (rows - 1)) + 10 * rows * abs(2 * column - columns - 1)


@functools.lru_cache(maxsize=256)
def places(layout: tuple[str, ...]) -> tuple[tuple[Place, ...], ...]:
    """The places of every row, each row's in cell order. Rooms never change: cached."""
    seats = plan(layout)
    rows, columns = len(layout), seats.columns
    by_row: dict[str, list[Place]] = {}
    taken: set[SeatLabel] = set()
    for seat in seats.for_sale:
        if seat.label in taken:
            continue
        halves = [seat] if seat.pair is None else [seat, seats.by_label[seat.pair]]
        taken.update(half.label for half in halves)
        index = ord(seat.label.row) - ord("A")
        by_row.setdefault(seat.label.row, []).append(
            Place(
                tuple(half.label for half in halves),
                seat.category,
                sum(_scaled_cost(rows, columns, index, half.column) for half in halves),
                min(half.column for half in halves),
                max(half.column for half in halves),
            )
        )
    return tuple(tuple(row) for row in by_row.values())


@functools.lru_cache(maxsize=1024)
def ranked_blocks(layout: tuple[str, ...], wish: Wish) -> tuple[Block, ...]:
    """Every block of ``wish.count`` adjacent seats the wish admits, best first."""
    blocks: list[Block] = []
    for row in places(layout):
        for start in range(len(row)):
            labels: list[SeatLabel] = []
            cost = 0
            for index in range(start, len(row)):
                place = row[index]
                adjacent = index == start or row[index - 1].last + 1 == place.first
                if not adjacent or not wish.admits(place.category):
                    break
                labels.extend(place.labels)
                cost += place.cost
                if len(labels) >= wish.count:
                    break
            if len(labels) == wish.count:
                # Blocks of one wish have one size: the sum ranks them as the mean would.
                blocks.append(Block(tuple(labels), cost))
    return tuple(sorted(blocks, key=lambda block: (block.cost, block.labels)))


@functools.lru_cache(maxsize=1024)
def ranked_places(layout: tuple[str, ...], wish: Wish) -> tuple[Place, ...]:
    """Every place the wish admits, cheapest seat first."""
    found = [place for row in places(layout) for place in row if wish.admits(place.category)]
    return tuple(sorted(found, key=lambda p: (Fraction(p.cost, len(p.labels)), p.labels)))


def available_at(seats: Iterable[Seat], now: datetime) -> set[SeatLabel]:
    """The labels of the seats neither sold nor under an unlapsed hold at ``now``."""
    return {
        seat.label
        for seat in seats
        if seat.sale_id is None
        and not (
            seat.held_by is not None
            and seat.hold_expires_at is not None
            and now < seat.hold_expires_at
        )
    }


def suitable(room: Room, available: Collection[SeatLabel], wish: Wish) -> int:
    """How many available seats are of a category the wish admits (``details.available``)."""
    return sum(
        1 for label in available if (seat := room.seat(label)) and wish.admits(seat.category)
    )


def choices(
    session: Session,
    available: Collection[SeatLabel],
    wish: Wish,
    *,
    avoid: Collection[SeatLabel] = (),
    limit: int = 1,
) -> list[Choice]:
    """Up to ``limit`` choices for the wish, none sharing a seat, best first.

    The first is the best choice now; each next one is what the next buyer would get once the
    earlier ones are taken, so buyers who arrive at once can each try a different one. Seats in
    ``avoid`` (being taken by someone else right now) are not chosen. An empty list: nothing
    suitable is free.
    """
    free = set(available)
    room = session.room
    forbid = session.forbid_single_gaps
    found: list[Choice] = []
    if wish.together:
        # A block that would strand a seat waits in ``fallback`` in case nothing else does.
        fallback: list[Choice] = []
        for block in ranked_blocks(room.layout, wish):
            if not _all_in(block.labels, free) or _any_in(block.labels, avoid):
                continue
            if stranded(room, free, block.labels):
                if not forbid and len(fallback) < limit:
                    fallback.append(block.labels)
                continue
            found.append(block.labels)
            free.difference_update(block.labels)
            if len(found) == limit:
                return found
        for labels in fallback:
            if len(found) < limit and all(label in free for label in labels):
                found.append(labels)
                free.difference_update(labels)
        return found
    # The places free now, in rank order, once: each choice below takes from the front.
    ranked = [
        place
        for place in ranked_places(room.layout, wish)
        if _all_in(place.labels, free) and not _any_in(place.labels, avoid)
    ]
    while len(found) < limit:
        picked = _one_by_one(room, ranked, free, wish, strand=False)
        if picked is None and not forbid:
            picked = _one_by_one(room, ranked, free, wish, strand=True)
        if picked is None:
            break
        found.append(picked)
        free.difference_update(picked)
    return found


# Loops, not all()/any() over a generator: these run for every place of a 2,600-seat room on
# every choice, and the generators were most of the cost.
def _all_in(labels: Choice, seats: Collection[SeatLabel]) -> bool:
    for label in labels:  # noqa: SIM110
        if label not in seats:
            return False
    return True


def _any_in(labels: Choice, seats: Collection[SeatLabel]) -> bool:
    for label in labels:  # noqa: SIM110
        if label in seats:
            return True
    return False


def _one_by_one(
    room: Room,
    ranked: Sequence[Place],
    free: set[SeatLabel],
    wish: Wish,
    *,
    strand: bool,
) -> Choice | None:
    """The cheapest of the ``ranked`` places still ``free`` making ``wish.count`` seats;
    ``None`` if they cannot be found.

    Unless ``strand``, a place is taken only if it strands no seat given those taken before it,
    or, when it would, together with the seats it would strand (C3 beside a taken C2 strands C4:
    C3 and C4 are then taken together, if the count allows). No group that strands nothing at
    its turn can strand a seat later: a seat's neighbours only ever go.
    """
    count = wish.count
    picked: list[SeatLabel] = []
    left = set(free)
    for place in ranked:
        group = list(place.labels)
        if len(group) > count - len(picked) or not _all_in(place.labels, left):
            continue
        if not strand:
            alone = stranded(room, left, group)
            if alone:
                group += alone
                if (
                    len(group) > count - len(picked)
                    or not all(wish.admits(_category(room, label)) for label in alone)
                    or stranded(room, left, group)
                ):
                    continue
        picked.extend(group)
        left.difference_update(group)
        if len(picked) == count:
            return tuple(sorted(picked))
    return None


def _category(room: Room, label: SeatLabel) -> Category:
    seat = room.seat(label)
    assert seat is not None  # only seats of the room are ever stranded
    return seat.category
