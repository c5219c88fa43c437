"""What the thread-pool hop costs a trivial route: ``python -m bench.thread_hop``.

Serves a two-route Starlette app with uvicorn (as ``cinema serve`` does, one process): the same
fixed answer returned inline on the event loop, and through ``run_in_threadpool`` as every
operation of the API is. The generator drives each in turn, several times, interleaved so that
a machine whose load changes affects both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .api import get
from .client import Pool
from .servers import HOST, answers, free_port


def _answer() -> Response:
    return Response(b'{"status":"ok"}', 200, media_type="application/json")


async def _inline(request: Request) -> Response:
    return _answer()


async def _pooled(request: Request) -> Response:
    return await run_in_threadpool(_answer)


app = Starlette(routes=[Route("/inline", _inline), Route("/pooled", _pooled)])


async def _rate(port: int, path: str, seconds: float, connections: int) -> float:
    pool = await Pool(HOST, port, connections).open()
    raw = get(path)
    done = 0
    end = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < end:
            status, _, _ = await pool.request(raw)
            done += status == 200

    await asyncio.gather(*(client() for _ in range(connections)))
    pool.close()
    return done / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.thread_hop", description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.thread_hop:app", "--host", HOST,
         "--port", str(port), "--log-level", "warning", "--no-access-log"]
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not answers(port, "/inline") and time.monotonic() < deadline:
            time.sleep(0.2)
        rates: dict[str, list[float]] = {"/inline": [], "/pooled": []}
        for _ in range(args.rounds):
            for path, found in rates.items():
                found.append(asyncio.run(_rate(port, path, args.seconds, args.connections)))
    finally:
        server.terminate()
        server.wait(10)
    for path, found in rates.items():
        print(f"  {path:8} " + "  ".join(f"{rate:8,.0f}/s" for rate in found))
    ratios = [a / b for a, b in zip(rates["/inline"], rates["/pooled"], strict=True)]
    print("  inline / pooled: " + "  ".join(f"{r:.2f}" for r in ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
