"""The single-seat rule: which seats a change of a row would strand."""

from __future__ import annotations

from uuid import uuid4

from cinema_core import Room, SeatLabel
from cinema_core.selling.gaps import row_labels, stranded


def room(*layout: str) -> Room:
    return Room(uuid4(), "Centro", "Sala", tuple(layout))


def labels(*texts: str) -> list[SeatLabel]:
    return [SeatLabel.parse(text) for text in texts]


def free(room: Room, *taken: str) -> set[SeatLabel]:
    """Every seat for sale of the room but ``taken``."""
    return set(room.labels()) - set(labels(*taken))


def names(found: list[SeatLabel]) -> list[str]:
    return [str(label) for label in found]


def test_taking_seats_from_a_row_end_strands_nothing() -> None:
    """A1+A2 of a free five-seat row leave A3–A5 together."""
    five = room("sssss")
    assert stranded(five, free(five), labels("A1", "A2")) == []


def test_a_seat_left_between_a_hold_and_the_row_end_is_stranded() -> None:
    """A2 alone leaves A1 between the wall and A2."""
    five = room("sssss")
    assert names(stranded(five, free(five), labels("A2"))) == ["A1"]


def test_a_seat_between_two_holds_is_stranded() -> None:
    """With A1+A2 held, taking A4+A5 leaves A3 alone."""
    five = room("sssss")
    assert names(stranded(five, free(five, "A1", "A2"), labels("A4", "A5"))) == ["A3"]


def test_a_seat_already_alone_is_not_blamed_on_the_hold() -> None:
    """A2 is alone between A1 and A3 (both taken) before; taking A4 strands only A5."""
    five = room("sssss")
    assert names(stranded(five, free(five, "A1", "A3"), labels("A4"))) == ["A5"]


def test_gaps_and_blocked_seats_are_walls() -> None:
    """An aisle and a broken seat bound a seat as a row end does."""
    aisle = room("ss_ss")
    assert names(stranded(aisle, free(aisle), labels("A2"))) == ["A1"]
    broken = room("sxsss")
    # A1 sits between the row end and a blocked seat: alone before, not blamed.
    assert names(stranded(broken, free(broken), labels("A4"))) == ["A3", "A5"]


def test_a_seat_given_back_alone_is_stranded() -> None:
    """Changing a hold from A2+A3 to A3+A4 beside a sold A1 gives A2 back alone (and leaves
    A5 alone at the row's end)."""
    five = room("sssss")
    before = free(five, "A1", "A2", "A3")
    assert names(stranded(five, before, labels("A4"), labels("A2"))) == ["A2", "A5"]
    # Giving back A2 and A3 together leaves them a pair.
    assert stranded(five, before, labels("A4", "A5"), labels("A2", "A3")) == []


def test_only_the_rows_a_hold_touches_are_looked_at() -> None:
    """Row B's lone seat is no business of a hold in row A."""
    two = room("sss", "sss")
    assert stranded(two, free(two, "B1", "B3"), labels("A1", "A2", "A3")) == []
    assert names(row_labels(two, {"B"})) == ["B1", "B2", "B3"]
