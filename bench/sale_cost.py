"""What one sale costs the server in CPU, without HTTP: ``python -m bench.sale_cost``.

Builds the box office as ``cinema serve`` does (``bootstrap`` from CINEMA_* settings, on a fresh
database for ``--backend postgres``), then makes ``--sales`` sales one after the other on one
thread, nothing else running: wall and CPU milliseconds per reserve and per pay, and, with
``--profile``, the functions that took the CPU (cProfile, sorted by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from .in_process import large_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sale_cost", description=__doc__)
    parser.add_argument("--backend", choices=("memory", "postgres"), default="postgres")
    parser.add_argument("--sales", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="cProfile the sales")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    with large_session(args.backend) as (box, show, label):
        labels = [f"{chr(65 + i // 100)}{i % 100 + 1}" for i in range(2600)]
        pairs = [labels[i : i + 2] for i in range(0, 2 * args.sales, 2)]
        box.pay(box.reserve("warm", show.id, pairs.pop()).id, "warm")
        # CPU time of this thread only, so the profile and the figures are CPU, not waiting.
        profiler = cProfile.Profile(time.thread_time) if args.profile else None
        spent = {"reserve": [0.0, 0.0], "pay": [0.0, 0.0]}
        if profiler:
            profiler.enable()
        for seats in pairs:
            wall, cpu = time.perf_counter(), time.thread_time()
            hold = box.reserve("cost", show.id, seats)
            spent["reserve"][0] += time.perf_counter() - wall
            spent["reserve"][1] += time.thread_time() - cpu
            wall, cpu = time.perf_counter(), time.thread_time()
            box.pay(hold.id, "cost")
            spent["pay"][0] += time.perf_counter() - wall
            spent["pay"][1] += time.thread_time() - cpu
        if profiler:
            profiler.disable()
    print(f"{len(pairs)} sales of 2 seats, one at a time, in process ({label}):")
    for name, (wall, cpu) in spent.items():
        print(
            f"  {name:8} wall {1000 * wall / len(pairs):6.2f} ms"
            f"   cpu {1000 * cpu / len(pairs):6.2f} ms"
        )
    if profiler:
        stats = pstats.Stats(profiler)
        total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
        print(f"\nthe project's functions by cumulative CPU, share of {total:.2f} s:")
        mine = [
            (row[3], f"{name}:{line}({func})")
            for (name, line, func), row in stats.stats.items()  # type: ignore[attr-defined]
            if "/adapters/" in name or "/cinema_core/" in name or "/entrypoints/" in name
        ]
        for cumulative, where in sorted(mine, reverse=True)[: args.top]:
            print(f"  {100 * cumulative / total:5.1f}%  {where.split('/work/main/')[-1]}")
        print()
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
