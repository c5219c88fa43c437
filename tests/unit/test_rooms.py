"""Rooms: a layout's text read into seats, and the rules a layout must follow."""

from __future__ import annotations

from uuid import uuid4

import pytest

from cinema_core import (
    BoxOffice,
    Category,
    Money,
    Room,
    RoomExists,
    RoomNotFound,
    SeatLabel,
    ValidationFailed,
)
from cinema_core.errors import TooFewSeats

CENTRO = ["ssss_ssss", "ssss_ssss", "pppp_pppp", "cc_ssss_cc", "wxss_ssww"]


def room(layout: list[str]) -> Room:
    return Room.create(id=uuid4(), cinema="Centro", name="Sala 1", layout=layout)


def described(r: Room, row: str) -> list[tuple[str, int, str, bool, str | None]]:
    return [
        (str(s.label), s.column, str(s.category), s.blocked, str(s.pair) if s.pair else None)
        for s in r.plan.seats
        if s.label.row == row
    ]


def test_seats_are_numbered_from_the_left_skipping_gaps_only() -> None:
    """A gap takes no number; a blocked seat does. Columns count every cell."""
    assert described(room(CENTRO), "E") == [
        ("E1", 1, "accessible", False, None),
        ("E2", 2, "standard", True, None),
        ("E3", 3, "standard", False, None),
        ("E4", 4, "standard", False, None),
        ("E5", 6, "standard", False, None),
        ("E6", 7, "standard", False, None),
        ("E7", 8, "accessible", False, None),
        ("E8", 9, "accessible", False, None),
    ]


def test_a_run_of_couple_cells_pairs_from_its_left() -> None:
    """cccc is two couple seats, 1+2 and 3+4; a gap starts a new run."""
    r = room(["cccc_cc", *["s" * 10] * 2])
    pairs = {label: pair for label, _, _, _, pair in described(r, "A")}
    assert pairs == {"A1": "A2", "A2": "A1", "A3": "A4", "A4": "A3", "A5": "A6", "A6": "A5"}


def test_counts_cover_seats_for_sale_by_category() -> None:
    """seat_count leaves blocked seats out; a couple seat counts as two seats."""
    r = room(CENTRO)
    assert r.seat_count == 39
    assert r.categories == {
        Category.STANDARD: 24,
        Category.PREMIUM: 8,
        Category.COUPLE: 4,
        Category.ACCESSIBLE: 3,
    }
    assert r.rows == 5
    assert r.columns == 10
    assert SeatLabel("E", 2) not in r.labels()
    assert r.seat(SeatLabel("E", 2)) is not None
    assert r.seat(SeatLabel("E", 9)) is None


@pytest.mark.parametrize(
    ("layout", "reason"),
    [
        ([], "rows"),
        (["s" * 16] * 27, "rows"),
        (["s" * 101], "cells"),
        (["s" * 16, ""], "cells"),
        (["s" * 16, "ssq"], "'q'"),
        (["s" * 16, "ccc_s"], "odd"),
        (["s" * 16, "c_c"], "odd"),
    ],
)
def test_a_layout_breaking_a_rule_is_refused_naming_layout(layout: list[str], reason: str) -> None:
    """Rows 1–26, cells 1–100 a row, only s p c w x _, couple runs of even length."""
    with pytest.raises(ValidationFailed) as caught:
        room(layout)
    assert caught.value.code == "validation_error"
    assert reason in caught.value.fields["layout"]


def test_a_room_needs_sixteen_seats_for_sale() -> None:
    """Blocked seats and gaps do not count towards the sixteen."""
    with pytest.raises(TooFewSeats) as caught:
        room(["ssssssss", "ssssssx_"])
    assert caught.value.code == "too_few_seats"
    assert "14" in caught.value.fields["layout"]
    assert room(["ssssssss", "ssssssss"]).seat_count == 16


def test_cinema_and_name_are_checked_with_the_layout() -> None:
    """Every broken field is named at once."""
    with pytest.raises(ValidationFailed) as caught:
        Room.create(id=uuid4(), cinema=" ", name="n" * 201, layout=["q"])
    assert set(caught.value.fields) == {"cinema", "name", "layout"}


def test_a_cinema_names_each_room_once(box: BoxOffice) -> None:
    """(cinema, name) is unique; another cinema may use the name."""
    made = box.create_room(cinema="Centro", name="Sala 1", layout=CENTRO)
    with pytest.raises(RoomExists):
        box.create_room(cinema="Centro", name="Sala 1", layout=["s" * 16])
    other = box.create_room(cinema="Norte", name="Sala 1", layout=["s" * 16])
    assert box.room(made.id) == made
    assert box.rooms() == [made, other]
    assert box.rooms("Norte") == [other]


def test_private_rooms_of_the_first_shape_are_not_listed(box: BoxOffice) -> None:
    """rows × seats_per_row makes a private room for that session only."""
    view = box.create_session(
        movie="M",
        room="Sala 9",
        starts_at=box.clock.now(),
        price=Money.parse("10"),
        rows=4,
        seats_per_row=4,
    )
    assert view.session.room.private
    assert view.session.room.layout == ("ssss",) * 4
    assert box.rooms() == []
    with pytest.raises(RoomNotFound):
        box.room(view.session.room.id)
