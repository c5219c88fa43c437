"""The seat map's JSON as the API sends it: spliced from fragments, equal to encoding the view."""

from __future__ import annotations

import contextlib
import gzip
import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import orjson

from cinema_core import BoxOffice, CinemaError, ManualClock, Room, Seat
from cinema_core import SeatMap as DomainSeatMap
from entrypoints.http.routes.sessions import seat_maps
from entrypoints.http.routes.sessions.seat_maps import SeatMap, seat_map_body, seat_map_json
from tests.unit.conftest import session_in


def test_seat_map_json_is_byte_for_byte_the_encoded_view() -> None:
    """seat_map_json gives exactly the bytes orjson makes of the seat map's dict view."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    room = Room(uuid4(), "C", "R", ("cc_" + "s" * 96 + "x_p",) * 26)
    seats = [Seat(label) for label in room.labels()]
    for seat in seats[::7]:
        seat.sell(uuid4())
    for seat in seats[1::5]:
        seat.hold(uuid4(), now + timedelta(seconds=5), "full")
    seat_map = DomainSeatMap.at(uuid4(), room, seats, now)
    body, tag = seat_map_json(seat_map)
    assert body == orjson.dumps(SeatMap.encode(seat_map))
    decoded = orjson.loads(body)
    assert (decoded["available"], decoded["held"], decoded["sold"], decoded["blocked"]) == (
        1764,
        442,
        368,
        26,
    )
    assert (decoded["rows"], decoded["columns"]) == (26, 102)
    assert decoded["seats"][0] == {
        "label": "A1",
        "row": "A",
        "number": 1,
        "column": 1,
        "category": "couple",
        "status": "sold",
        "pair": "A2",
    }
    assert decoded["seats"][99]["column"] == 102
    assert seat_map_json(seat_map) == (body, tag)


def test_the_entity_tag_changes_with_the_map() -> None:
    """Two maps that differ in one seat have different tags."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    room = Room.rectangle(id=uuid4(), name="R", rows=4, seats_per_row=4)
    seats = [Seat(label) for label in room.labels()]
    session_id = uuid4()
    _, before = seat_map_json(DomainSeatMap.at(session_id, room, seats, now))
    seats[3].sell(uuid4())
    _, after = seat_map_json(DomainSeatMap.at(session_id, room, seats, now))
    assert before != after


def test_the_body_of_a_map_patched_after_sales_is_the_encoded_view(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Maps read between holds, payments and lapses, each sharing the pairs that did not change
    with the one before, make the bytes of their whole encoding."""
    session = session_in(box, ["cc_ssxs_pp", "sxss_ss_ss", "ssss_ss_ss"])
    id = session.session.id
    free = [str(label) for label, status in box.seat_map(id).seats if status.value == "available"]
    chooser = random.Random(3)
    for n in range(120):
        with contextlib.suppress(CinemaError):
            hold = box.reserve(f"u{n}", id, chooser.sample(free, chooser.randint(1, 3)))
            if chooser.random() < 0.5:
                box.pay(hold.id, hold.user_id)
        if chooser.random() < 0.2:
            clock.advance(chooser.choice([30, 300]))
        seat_map = box.seat_map(id)
        assert seat_map_json(seat_map)[0] == orjson.dumps(SeatMap.encode(seat_map))


def test_a_patched_body_is_what_a_fresh_process_makes_of_the_same_map(
    box: BoxOffice, clock: ManualClock
) -> None:
    """After each change, the body made from the one before (its unchanged chunks shared) has
    the bytes, the tag and the gzip form of the body a process that never saw the map before
    makes: a tag from one process is current in another, and the gzip form is plain gzip."""
    session = session_in(box, ["s" * 40] * 8)  # 320 seats: chunks of 100, 100, 100 and 20
    id = session.session.id
    labels = [str(label) for label, _ in box.seat_map(id).seats]
    chooser = random.Random(5)
    for n in range(60):
        with contextlib.suppress(CinemaError):
            hold = box.reserve(f"u{n}", id, chooser.sample(labels, chooser.randint(1, 4)))
            if chooser.random() < 0.5:
                box.pay(hold.id, hold.user_id)
        if chooser.random() < 0.2:
            clock.advance(300)
        seat_map = box.seat_map(id)
        patched = seat_map_body(seat_map)
        seat_maps._BODIES.clear()  # what another process, which kept no body, starts from
        fresh = seat_map_body(seat_map)
        assert patched is not fresh
        assert (patched.plain, patched.tag) == (fresh.plain, fresh.tag)
        assert patched.plain == orjson.dumps(SeatMap.encode(seat_map))
        assert gzip.decompress(patched.gzipped) == patched.plain
        assert gzip.decompress(fresh.gzipped) == fresh.plain
