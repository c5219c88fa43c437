"""Seat labels: row letter and number, ordered row by row, bounded by the room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from cinema_core import Money, Room, Seat, SeatLabel, SeatMap, SeatStatus, Session
from cinema_core.rooms.seats import count_available, seat_labels


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("A1", SeatLabel("A", 1)),
        ("P16", SeatLabel("P", 16)),
        ("z100", SeatLabel("Z", 100)),
        (" b7 ", SeatLabel("B", 7)),
    ],
)
def test_labels_parse_into_row_and_number(text: str, label: SeatLabel) -> None:
    """A label is a row letter and a seat number; case and surrounding blanks do not matter."""
    assert SeatLabel.parse(text) == label


@pytest.mark.parametrize("text", ["", "A", "1", "A0", "A01", "AA1", "A-1", "Ä1", "A1B", "A1000"])
def test_malformed_labels_are_refused(text: str) -> None:
    """Anything that is not letter-then-number (no leading zero) is not a label."""
    with pytest.raises(ValueError, match="not a seat label"):
        SeatLabel.parse(text)


def test_a_non_string_is_not_a_label() -> None:
    """A number or null where a label belongs is refused, not crashed on."""
    with pytest.raises(ValueError, match="not a seat label"):
        SeatLabel.parse(11)  # type: ignore[arg-type]


def test_labels_print_as_written() -> None:
    """A label prints back in its canonical form."""
    assert str(SeatLabel.parse("c12")) == "C12"


def test_labels_order_row_by_row_then_by_number() -> None:
    """A2 comes before A10 (numbers, not text), and the whole of row A before B."""
    labels = [SeatLabel.parse(t) for t in ["B1", "A10", "A2", "A1"]]
    assert [str(label) for label in sorted(labels)] == ["A1", "A2", "A10", "B1"]


def test_a_room_labels_its_seats_in_order() -> None:
    """rows × seats_per_row labels, A1 first, row by row."""
    labels = [str(label) for label in seat_labels(2, 3)]
    assert labels == ["A1", "A2", "A3", "B1", "B2", "B3"]


@pytest.mark.parametrize(
    ("text", "inside"), [("A1", True), ("D4", True), ("E1", False), ("A5", False), ("Z1", False)]
)
def test_a_session_has_only_the_seats_of_its_room(text: str, inside: bool) -> None:
    """Labels beyond the room's rows or seats per row are not seats of the session."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    session = Session.create(
        id=uuid4(),
        movie="M",
        room=Room.rectangle(id=uuid4(), name="R", rows=4, seats_per_row=4),
        starts_at=now,
        prices=Money(100),
        now=now,
    )
    assert session.has_seat(SeatLabel.parse(text)) is inside
    assert len(session.labels()) == session.seat_count == 16


def test_a_seat_is_sold_held_or_available() -> None:
    """Sold beats held; a hold counts until, not at, its expiry instant."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    seat = Seat(SeatLabel("A", 1))
    assert seat.status_at(now) is SeatStatus.AVAILABLE
    seat.hold(uuid4(), now + timedelta(seconds=5), "full")
    assert seat.status_at(now) is SeatStatus.HELD
    assert seat.status_at(now + timedelta(seconds=5)) is SeatStatus.AVAILABLE
    seat.sell(uuid4())
    assert seat.status_at(now + timedelta(days=1)) is SeatStatus.SOLD


def test_only_the_holder_releases_a_hold_and_never_a_sold_seat() -> None:
    """Releasing is a no-op for a stranger's hold and for a sold seat."""
    mine, theirs = uuid4(), uuid4()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    seat = Seat(SeatLabel("A", 1))
    seat.hold(theirs, now + timedelta(seconds=5), "full")
    assert not seat.release(mine)
    assert seat.held_by == theirs
    assert seat.release(theirs)
    assert seat.status_at(now) is SeatStatus.AVAILABLE
    seat.hold(mine, now + timedelta(seconds=5), "full")
    seat.sell(uuid4())
    assert not seat.release(mine)
    assert seat.status_at(now) is SeatStatus.SOLD


def test_seat_map_orders_seats_and_counts_by_status() -> None:
    """The seat map lists every seat of the room in label order, blocked ones included, and
    counts each status (enum or its text)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    seats = [Seat(SeatLabel("B", 1)), Seat(SeatLabel("A", 2)), Seat(SeatLabel("A", 1))]
    seats[0].hold(uuid4(), now + timedelta(seconds=1), "full")
    seats[1].sell(uuid4())
    room = Room(uuid4(), "", "R", ("ss_x", "s"))
    seat_map = SeatMap.at(uuid4(), room, seats, now)
    assert [str(label) for label, _ in seat_map.seats] == ["A1", "A2", "A3", "B1"]
    assert seat_map.count(SeatStatus.BLOCKED) == 1
    assert seat_map.count(SeatStatus.AVAILABLE) == 1
    assert seat_map.count("held") == 1
    assert seat_map.count(SeatStatus.SOLD) == 1


def test_seat_map_and_available_count_agree_with_each_seat_status() -> None:
    """The seat map and count_available read every seat as Seat.status_at does, a hold
    lapsing at this very instant included."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    seats = [Seat(label) for label in seat_labels(2, 8)]
    seats[0].sell(uuid4())
    seats[1].hold(uuid4(), now + timedelta(microseconds=1), "full")
    seats[2].hold(uuid4(), now, "full")
    seats[3].hold(uuid4(), now - timedelta(seconds=1), "full")
    seats[4].hold(uuid4(), now + timedelta(seconds=1), "full")
    seats[4].sell(uuid4())
    room = Room.rectangle(id=uuid4(), name="R", rows=2, seats_per_row=8)
    seat_map = SeatMap.at(uuid4(), room, seats, now)
    assert list(seat_map.seats) == [(seat.label, seat.status_at(now)) for seat in seats]
    assert count_available(seats, now) == seat_map.count(SeatStatus.AVAILABLE) == 13
