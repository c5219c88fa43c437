"""The seat map's JSON as the API sends it: spliced from fragments, equal to encoding the view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import orjson

from cinema_core import Seat, SeatMap
from cinema_core.seats import seat_labels
from entrypoints.http import views


def test_seat_map_json_is_byte_for_byte_the_encoded_view() -> None:
    """seat_map_json gives exactly the bytes orjson makes of the seat map's dict view."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    seats = [Seat(label) for label in seat_labels(26, 100)]
    for seat in seats[::7]:
        seat.sell(uuid4())
    for seat in seats[1::5]:
        seat.hold(uuid4(), now + timedelta(seconds=5))
    seat_map = SeatMap.at(uuid4(), seats, now)
    body = views.seat_map_json(seat_map)
    assert body == orjson.dumps(views.seat_map(seat_map))
    decoded = orjson.loads(body)
    assert (decoded["available"], decoded["held"], decoded["sold"]) == (1782, 446, 372)


def test_an_empty_seat_map_encodes_as_the_view_does() -> None:
    """A map with no seats still carries its counts and an empty list."""
    seat_map = SeatMap(uuid4(), ())
    assert views.seat_map_json(seat_map) == orjson.dumps(views.seat_map(seat_map))
