"""What a changed seat map's answer costs the HTTP layer: ``python -m bench.seat_map_body``.

An in-memory 26 × 100 session (2,600 seats) takes ``--changes`` holds of two seats each, spread
over its rows; the map after each hold is made into its answer as ``GET .../seats`` makes it
for a browser (the entity tag and the gzip-coded body), in order, each from the one before.
Printed: this thread's CPU per changed map (``time.thread_time``), the best of ``--rounds``,
and the sizes of the last body. Nothing else runs: no server, no database.
"""

from __future__ import annotations

import argparse
import gzip
import string
import time
from datetime import UTC, datetime, timedelta

from cinema_core import BoxOffice, ManualClock, Money, SeatMap
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from entrypoints.http.routes.sessions import seat_maps

ROWS, PER_ROW = 26, 100


def _maps(changes: int) -> list[SeatMap]:
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    box = BoxOffice(InMemoryReservationRepo(), InMemorySeatLock(clock), clock, timedelta(hours=1))
    room = box.create_room(cinema="Centro", name="Big", layout=["s" * PER_ROW] * ROWS)
    session = box.create_session(
        movie="Seat map body",
        room_id=room.id,
        starts_at=clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
    ).session
    maps = [box.seat_map(session.id)]
    for n in range(changes):
        row = string.ascii_uppercase[n * 7 % ROWS]
        first = n // ROWS * 2 % PER_ROW + 1
        box.reserve(f"buyer-{n}", session.id, [f"{row}{first}", f"{row}{first + 1}"])
        maps.append(box.seat_map(session.id))
    return maps


def _answer(seat_map: SeatMap) -> str:
    """What a browser's read makes of the map: its tag and its gzip form."""
    body = seat_maps.seat_map_body(seat_map)
    assert body.gzipped
    return body.tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1000, help="holds (default 1,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    options = parser.parse_args()
    maps = _maps(min(options.changes, ROWS * PER_ROW // 2))
    best = float("inf")
    for _ in range(options.rounds):
        seat_maps._BODIES.clear()  # each round starts as a fresh process does
        _answer(maps[0])
        started = time.thread_time()
        for seat_map in maps[1:]:
            _answer(seat_map)
        best = min(best, (time.thread_time() - started) / (len(maps) - 1))
    last = seat_maps.seat_map_body(maps[-1])
    assert gzip.decompress(last.gzipped) == last.plain
    print(
        f"{len(maps) - 1} changed maps of {ROWS * PER_ROW} seats: {best * 1e6:.0f} µs of CPU each "
        f"(tag and gzip form, best of {options.rounds}); body {len(last.plain):,} bytes, "
        f"gzip-coded {len(last.gzipped):,}"
    )


if __name__ == "__main__":
    main()
