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
from entrypoints.http.routes.sessions.seat_maps import SeatMap, seat_map_body
from tests.unit.conftest import session_in


def test_seat_map_body_is_byte_for_byte_the_encoded_view() -> None:
    """seat_map_body gives exactly the bytes orjson makes of the seat map's dict view."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    room = Room(uuid4(), "C", "R", ("cc_" + "s" * 96 + "x_p",) * 26)
    seats = [Seat(label) for label in room.labels()]
    for seat in seats[::7]:
        seat.sell(uuid4())
    for seat in seats[1::5]:
        seat.hold(uuid4(), now + timedelta(seconds=5), "full")
    seat_map = DomainSeatMap.at(uuid4(), room, seats, now)
    made = seat_map_body(seat_map)
    body, tag = made.plain, made.tag
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
    assert (seat_map_body(seat_map).plain, seat_map_body(seat_map).tag) == (body, tag)


def test_the_entity_tag_changes_with_the_map() -> None:
    """Two maps that differ in one seat have different tags."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    room = Room.rectangle(id=uuid4(), name="R", rows=4, seats_per_row=4)
    seats = [Seat(label) for label in room.labels()]
    session_id = uuid4()
    before = seat_map_body(DomainSeatMap.at(session_id, room, seats, now)).tag
    seats[3].sell(uuid4())
    after = seat_map_body(DomainSeatMap.at(session_id, room, seats, now)).tag
    assert before != after


def test_the_body_of_a_map_patched_after_sales_is_what_a_fresh_process_makes(
    box: BoxOffice, clock: ManualClock
) -> None:
    """Maps read between holds, payments and lapses, each sharing the pairs that did not change
    with the one before, make the bytes of their whole encoding; and the body made from the one
    before (its unchanged chunks shared) has the tag and the gzip form of the body a process that
    never saw the map makes: a tag from one process is current in another, and the gzip form is
    plain gzip."""
    # 8 rows of 41 seats with couples, a blocked seat and gaps: chunks of 100, 100, 100 and 28.
    session = session_in(box, ["cc_" + "s" * 36 + "x_pp"] * 8)
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
        patched = seat_map_body(seat_map)
        assert patched.plain == orjson.dumps(SeatMap.encode(seat_map))
        assert gzip.decompress(patched.gzipped) == patched.plain
        seat_maps._BODIES.clear()  # what another process, which kept no body, starts from
        fresh = seat_map_body(seat_map)
        assert (fresh.plain, fresh.tag, fresh.gzipped) == (
            patched.plain,
            patched.tag,
            patched.gzipped,
        )
        seat_maps._BODIES[id] = patched  # the next map is made from this one, as a process does
