"""The single-seat rule: a hold must not leave a seat for sale alone in its row.

Nobody buys one seat squeezed between two taken ones, so a session with ``forbid_single_gaps``
refuses a hold that would leave one. A seat is *stranded* by a change when, after it, the seat is
for sale and available while neither of its neighbours is (a row end, a gap, a blocked seat, a
held or a sold seat all count as a wall), and it was not already alone before: the rule never
blames a hold for a seat that was stranded anyway.

The rule reads whole rows, so whoever judges it must see every seat of the rows a hold touches as
they stand at commit (``holds`` and ``choosing`` lock them; see there).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TypeAlias

from cinema_core.rooms.layout import Room, plan
from cinema_core.rooms.seats import SeatLabel

# Each seat for sale's neighbours in its row, left and right; None is a wall.
Neighbours: TypeAlias = Mapping[SeatLabel, tuple[SeatLabel | None, SeatLabel | None]]


@functools.lru_cache(maxsize=256)
def neighbours(layout: tuple[str, ...]) -> Neighbours:
    """Every seat for sale of a layout with the seats for sale right beside it. A gap or a
    blocked seat between two cells makes them no neighbours. Rooms never change: cached."""
    seats = plan(layout)
    by_place = {(seat.label.row, seat.column): seat for seat in seats.seats}

    def beside(row: str, column: int) -> SeatLabel | None:
        seat = by_place.get((row, column))
        return None if seat is None or seat.blocked else seat.label

    return {
        seat.label: (
            beside(seat.label.row, seat.column - 1),
            beside(seat.label.row, seat.column + 1),
        )
        for seat in seats.for_sale
    }


def row_labels(room: Room, rows: Iterable[str]) -> list[SeatLabel]:
    """Every seat for sale of these rows of the room, in label order."""
    wanted = set(rows)
    return [label for label in room.labels() if label.row in wanted]


def stranded(
    room: Room,
    available: Collection[SeatLabel],
    taking: Collection[SeatLabel],
    freeing: Collection[SeatLabel] = (),
) -> list[SeatLabel]:
    """The seats a change would strand, in label order.

    ``available`` is what is available before the change; the change takes ``taking`` (held
    from now on) and gives back ``freeing`` (available from now on). Only seats beside a changed
    seat, and the freed seats themselves, can change their lot, so only those are looked at.
    """
    beside = neighbours(room.layout)
    taken, freed = set(taking), set(freeing)

    def before(label: SeatLabel | None) -> bool:
        return label is not None and label in available

    def after(label: SeatLabel | None) -> bool:
        return label is not None and label not in taken and (label in freed or label in available)

    def alone(label: SeatLabel, free: Callable[[SeatLabel | None], bool]) -> bool:
        left, right = beside[label]
        return free(label) and not free(left) and not free(right)

    looked_at: set[SeatLabel] = set()
    for label in taken | freed:
        if label in beside:
            looked_at.add(label)
            looked_at.update(seat for seat in beside[label] if seat is not None)
    return sorted(label for label in looked_at if alone(label, after) and not alone(label, before))
