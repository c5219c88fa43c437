"""Rooms: a cinema's screen and its layout, the rows of cells that say where each seat is.

A layout is text, one string per row, front row first: ``s`` standard, ``p`` premium, ``c``
couple, ``w`` wheelchair space (category ``accessible``), ``x`` a seat never for sale, ``_`` a
gap. Seats are numbered from the left within their row, gaps skipped; a run of ``c`` pairs from
its left into couple seats, sold only together.
"""

from __future__ import annotations

import enum
import functools
import re
import string
from collections.abc import Mapping, Sequence
from uuid import UUID

import attrs

from cinema_core.errors import TooFewSeats, ValidationFailed
from cinema_core.rooms.seats import MAX_ROWS, MAX_SEATS_PER_ROW, SeatLabel

MIN_SEATS = 16
MAX_NAME = 200
GAP = "_"
BLOCKED = "x"
_COUPLE_RUN = re.compile("c+")


class Category(enum.StrEnum):
    STANDARD = "standard"
    PREMIUM = "premium"
    COUPLE = "couple"
    ACCESSIBLE = "accessible"


CELLS: Mapping[str, Category] = {
    "s": Category.STANDARD,
    "p": Category.PREMIUM,
    "c": Category.COUPLE,
    "w": Category.ACCESSIBLE,
}


@attrs.frozen
class RoomSeat:
    """One seat of a room: where it stands (``column`` counts gaps, 1-based) and what it is."""

    label: SeatLabel
    column: int
    category: Category
    blocked: bool = False
    # The other half of a couple seat.
    pair: SeatLabel | None = None


@attrs.frozen
class Plan:
    """What a layout's text means: its seats in label order, looked up by label."""

    seats: tuple[RoomSeat, ...]
    by_label: Mapping[SeatLabel, RoomSeat]
    columns: int
    # Made once: every changed seat map counts them and every best-available pick walks them.
    for_sale: tuple[RoomSeat, ...] = attrs.field(init=False)

    @for_sale.default
    def _not_blocked(self) -> tuple[RoomSeat, ...]:
        return tuple(seat for seat in self.seats if not seat.blocked)


def layout_problem(layout: Sequence[str]) -> str | None:
    """What is wrong with a layout's text, or ``None``; the seat count is judged apart."""
    if not 1 <= len(layout) <= MAX_ROWS:
        return f"must have 1 to {MAX_ROWS} rows"
    for index, row in enumerate(layout):
        name = string.ascii_uppercase[index]
        if not 1 <= len(row) <= MAX_SEATS_PER_ROW:
            return f"row {name} must have 1 to {MAX_SEATS_PER_ROW} cells"
        odd = set(row) - set(CELLS) - {GAP, BLOCKED}
        if odd:
            return f"row {name} has {sorted(odd)[0]!r}; cells are s, p, c, w, x or _"
        if any(len(run) % 2 for run in _COUPLE_RUN.findall(row)):
            return f"row {name} has a run of c of odd length; couple seats come in pairs"
    return None


@functools.lru_cache(maxsize=256)
def plan(layout: tuple[str, ...]) -> Plan:
    """The seats of a (valid) layout. Rooms never change, so plans are shared and cached."""
    seats: list[RoomSeat] = []
    for row_index, row in enumerate(layout):
        letter = string.ascii_uppercase[row_index]
        number = 0
        run = 0  # position inside the current run of couple cells
        for column, cell in enumerate(row, start=1):
            if cell == GAP:
                run = 0
                continue
            number += 1
            label = SeatLabel(letter, number)
            if cell == "c":
                run += 1
                partner = SeatLabel(letter, number + 1 if run % 2 else number - 1)
                seats.append(RoomSeat(label, column, Category.COUPLE, pair=partner))
                continue
            run = 0
            if cell == BLOCKED:
                seats.append(RoomSeat(label, column, Category.STANDARD, blocked=True))
            else:
                seats.append(RoomSeat(label, column, CELLS[cell]))
    return Plan(
        tuple(seats),
        {seat.label: seat for seat in seats},
        max(len(row) for row in layout),
    )


@attrs.frozen
class Room:
    """A screen of one cinema. A ``private`` room was made for one session of the first API
    shape (rows × seats per row): it is never listed and never busy."""

    id: UUID
    cinema: str
    name: str
    layout: tuple[str, ...]
    private: bool = False

    @classmethod
    def create(cls, *, id: UUID, cinema: str, name: str, layout: Sequence[str]) -> Room:
        """A new room, after checking every rule; all broken rules are named at once."""
        fields: dict[str, str] = {}
        for field, text in (("cinema", cinema), ("name", name)):
            if not 1 <= len(text.strip()) <= MAX_NAME:
                fields[field] = f"must be 1 to {MAX_NAME} characters"
        problem = layout_problem(layout)
        if problem:
            fields["layout"] = problem
        if fields:
            raise ValidationFailed(fields)
        room = cls(id, cinema.strip(), name.strip(), tuple(layout))
        if room.seat_count < MIN_SEATS:
            raise TooFewSeats(room.seat_count, MIN_SEATS, field="layout")
        return room

    @classmethod
    def rectangle(cls, *, id: UUID, name: str, rows: int, seats_per_row: int) -> Room:
        """The private room of the first API shape: ``rows`` × ``seats_per_row`` standard seats."""
        fields: dict[str, str] = {}
        if not 1 <= len(name.strip()) <= MAX_NAME:
            fields["room"] = f"must be 1 to {MAX_NAME} characters"
        if not 1 <= rows <= MAX_ROWS:
            fields["rows"] = f"must be 1 to {MAX_ROWS}"
        if not 1 <= seats_per_row <= MAX_SEATS_PER_ROW:
            fields["seats_per_row"] = f"must be 1 to {MAX_SEATS_PER_ROW}"
        if fields:
            raise ValidationFailed(fields)
        if rows * seats_per_row < MIN_SEATS:
            raise TooFewSeats(rows * seats_per_row, MIN_SEATS)
        return cls(id, "", name.strip(), ("s" * seats_per_row,) * rows, private=True)

    @property
    def plan(self) -> Plan:
        return plan(self.layout)

    @property
    def rows(self) -> int:
        return len(self.layout)

    @property
    def columns(self) -> int:
        return self.plan.columns

    @property
    def seat_count(self) -> int:
        """Seats for sale (blocked ones are not)."""
        return len(self.plan.for_sale)

    @property
    def categories(self) -> dict[Category, int]:
        """Seats for sale of each category the room has (a couple seat counts 2)."""
        counts: dict[Category, int] = {}
        for seat in self.plan.for_sale:
            counts[seat.category] = counts.get(seat.category, 0) + 1
        return counts

    def seat(self, label: SeatLabel) -> RoomSeat | None:
        return self.plan.by_label.get(label)

    def labels(self) -> list[SeatLabel]:
        """Every seat for sale, in label order (the order locks are taken in)."""
        return [seat.label for seat in self.plan.for_sale]
