"""Where one seat-map read of a 2,600-seat session spends its time, stage by stage, in process:
``python -m bench.seat_map_cost [--backend memory|postgres]``.

Builds the box office the way ``cinema serve`` does (``bootstrap`` from CINEMA_* settings) on a
fresh database, sells a tenth of the seats, then times each stage of ``GET
/sessions/{id}/seats`` on one thread with nothing else running: reading the seats from the
store, ``SeatMap.at``, the JSON view, encoding.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .in_process import large_session


def _timed(name: str, work: Callable[[], Any], times: int) -> Any:
    work()
    started = time.perf_counter()
    for _ in range(times):
        result = work()
    each = (time.perf_counter() - started) / times * 1000
    print(f"  {name:48} {each:7.2f} ms")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seat_map_cost", description=__doc__)
    parser.add_argument("--backend", choices=("memory", "postgres"), default="postgres")
    parser.add_argument("--times", type=int, default=50)
    args = parser.parse_args(argv)
    from entrypoints.http import views
    from entrypoints.http.responses import dump

    with large_session(args.backend) as (box, show, label):
        for row in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:26]:
            hold = box.reserve("cost", show.id, [f"{row}{n}" for n in range(1, 11)])
            box.pay(hold.id, "cost")
        print(f"GET /sessions/{{id}}/seats of a 2,600-seat session ({label}), per read:")
        seats = _timed("store: repo.seats(id)", lambda: box.repo.seats(show.id), args.times)
        now = datetime.now(UTC)
        from cinema_core import SeatMap

        seat_map = _timed(
            "model: SeatMap.at(…) (sorts, status per seat)",
            lambda: SeatMap.at(show.id, seats, now),
            args.times,
        )
        view = _timed(
            "view: views.seat_map(…) (dicts)", lambda: views.seat_map(seat_map), args.times
        )
        _timed("encode: orjson via responses.dump", lambda: dump(view), args.times)
        _timed(
            "view+encode: views.seat_map_json (the route's)",
            lambda: views.seat_map_json(seat_map),
            args.times,
        )
        _timed(
            "all of it (box.seat_map → seat_map_json)",
            lambda: views.seat_map_json(box.seat_map(show.id)),
            args.times,
        )
        print(f"  body: {len(dump(view)):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
