"""What a changed seat map costs to read, past the store: ``python -m bench.seat_map_body``.

An in-memory 26 × 100 session (2,600 seats) takes ``--changes`` holds of two seats each, spread
over its rows, one ticket in four half price (the meia quota's count moves too). After each
hold the map is read as ``GET .../seats`` reads it for a browser: the box office's map (made
from the one before) and its answer (the entity tag and the gzip-coded body, from the one
before). Printed: this thread's CPU per changed map for each (``time.thread_time``), the best of
``--rounds`` (each on a fresh box office), and the sizes of the last body. No server, no
database: the store's own read is what ``bench.seat_reads`` measures.
"""

from __future__ import annotations

import argparse
import gzip
import string
import time
from datetime import UTC, datetime, timedelta

from cinema_core import BoxOffice, ManualClock, Money
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from entrypoints.http.routes.sessions import seat_maps

ROWS, PER_ROW = 26, 100


def _round(changes: int) -> tuple[float, float, seat_maps.SeatMapBody]:
    """CPU seconds per changed map: the box office's, the answer's; and the last answer."""
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    box = BoxOffice(InMemoryReservationRepo(), InMemorySeatLock(clock), clock, timedelta(hours=1))
    room = box.create_room(cinema="Centro", name="Big", layout=["s" * PER_ROW] * ROWS)
    session = box.create_session(
        movie="Seat map body",
        room_id=room.id,
        starts_at=clock.now() + timedelta(days=1),
        price=Money.parse("25.00"),
    ).session
    seat_maps._BODIES.clear()  # each round starts as a fresh process does
    answer = seat_maps.seat_map_body(box.seat_map(session.id))
    core = http = 0.0
    for n in range(changes):
        row = string.ascii_uppercase[n * 7 % ROWS]
        first = n // ROWS * 2 % PER_ROW + 1
        tickets = {"half": 1, "full": 1} if n % 2 else {"full": 2}
        box.reserve(f"buyer-{n}", session.id, [f"{row}{first}", f"{row}{first + 1}"], tickets)
        started = time.thread_time()
        seat_map = box.seat_map(session.id)
        made = time.thread_time()
        answer = seat_maps.seat_map_body(seat_map)
        assert answer.gzipped
        http += time.thread_time() - made
        core += made - started
    return core / changes, http / changes, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1000, help="holds (default 1,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    options = parser.parse_args()
    changes = min(options.changes, ROWS * PER_ROW // 2)
    rounds = [_round(changes) for _ in range(options.rounds)]
    core, http = min(r[0] for r in rounds), min(r[1] for r in rounds)
    last = rounds[-1][2]
    assert gzip.decompress(last.gzipped) == last.plain
    print(
        f"{changes} changed maps of {ROWS * PER_ROW} seats, µs of CPU each (best of "
        f"{options.rounds}): box office's map {core * 1e6:.0f}, its answer (tag and gzip form) "
        f"{http * 1e6:.0f}; body {len(last.plain):,} bytes, gzip-coded {len(last.gzipped):,}"
    )


if __name__ == "__main__":
    main()
