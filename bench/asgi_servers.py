"""uvicorn, as ``cinema serve`` runs it, against granian on the same app and the same work:
``python -m bench.asgi_servers`` (granian is not a dependency: ``pip install granian`` first).

Each server runs ``entrypoints.http.app:app_from_env`` with ``--workers`` processes on a fresh
database (PostgreSQL + Redis + RabbitMQ, the default; ``--memory`` for the in-memory box office
in one process), the servers alternating for ``--rounds`` rounds. Three kinds of request, each
from 32 keep-alive connections for ``--seconds``: ``GET /health``; the seat map of a 26 × 100
session no one is buying (with ``Accept-Encoding: gzip``, as browsers ask: the process's cached
body, after its delta read); and a reservation of a seat another buyer holds (refused with 409
at the Redis seat lock, the commonest request of a sell-out). Printed: requests/s, p99, and
the server processes' CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from .api import User, get, token
from .client import Pool
from .resources import create_database, drop_database, server_url
from .servers import free_port

SECRET = "bench-asgi-servers-" + "x" * 24
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
CONNECTIONS = 32


def _cpu_seconds(pid: int) -> float:
    """CPU of ``pid`` and its children (the servers' worker processes), all threads."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    total = 0
    for one in [pid, *map(int, found.split())]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def _drive(port: int, raw: bytes, seconds: float) -> tuple[int, float]:
    pool = await Pool("127.0.0.1", port, CONNECTIONS).open()
    latencies: list[int] = []
    stop = time.monotonic() + seconds

    async def one_user() -> None:
        while time.monotonic() < stop:
            status, body, ns = await pool.request(raw)
            if status not in (200, 409):
                raise RuntimeError(f"answered {status}: {body[:200]!r}")
            latencies.append(ns)

    try:
        await asyncio.gather(*(one_user() for _ in range(CONNECTIONS)))
    finally:
        pool.close()
    latencies.sort()
    return len(latencies), latencies[int(len(latencies) * 0.99)] / 1e6


def _command(server: str, port: int, workers: int) -> list[str]:
    if server == "uvicorn":
        return [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port),
                "--workers", str(workers)]  # fmt: skip
    granian = str(Path(sys.executable).with_name("granian"))
    return [granian, "--interface", "asgi", "--factory", "--loop", "uvloop", "--no-ws",
            "--workers", str(workers), "--port", str(port), "--log-level", "warning",
            "entrypoints.http.app:app_from_env"]  # fmt: skip


def _measure(server: str, env: dict[str, str], workers: int, seconds: float) -> dict[str, str]:
    port = free_port()
    log = Path(f"/tmp/cinema-asgi-{server}.log")
    with log.open("w") as out:
        process = subprocess.Popen(_command(server, port, workers), env=env, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{server} did not answer; see {log}")
            time.sleep(0.1)
        admin = {"Authorization": f"Bearer {token(SECRET, 'admin-1', 'admin')}"}
        made = httpx.post(
            f"{base}/sessions",
            headers=admin,
            json={
                "movie": "Filme X",
                "room": "Sala 1",
                "starts_at": "2099-01-01T19:00:00Z",
                "price": "25.00",
                "rows": 26,
                "seats_per_row": 100,
            },
        )
        made.raise_for_status()
        session = made.json()["id"]
        holder = {"Authorization": f"Bearer {token(SECRET, 'holder')}"}
        httpx.post(
            f"{base}/reservations", headers=holder, json={"session_id": session, "seats": ["A1"]}
        ).raise_for_status()
        kinds = {
            "GET /health": get("/health"),
            "seat map": get(f"/sessions/{session}/seats", gzip=True),
            "refused hold": User("loser", token(SECRET, "loser")).reserve(session, ["A1"]),
        }
        figures = {}
        for name, raw in kinds.items():
            asyncio.run(_drive(port, raw, 1.0))  # warm: caches, prepared statements, pools
            before = _cpu_seconds(process.pid)
            done, p99 = asyncio.run(_drive(port, raw, seconds))
            cpu = (_cpu_seconds(process.pid) - before) * 1000 / done
            figures[name] = f"{done / seconds:,.0f}/s p99 {p99:.1f} ms, {cpu:.3f} ms CPU"
        return figures
    finally:
        process.terminate()
        process.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memory", action="store_true", help="in memory, one process")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--seconds", type=float, default=5.0, help="of each kind (default 5)")
    parser.add_argument(
        "--servers", default="uvicorn,granian", help="comma-separated (default uvicorn,granian)"
    )
    options = parser.parse_args()
    env = {
        **os.environ,
        "CINEMA_AUTH_SECRET": SECRET,
        # One client address for every request: at the default rates it would be throttled.
        "CINEMA_RATE_LIMIT_USER_PER_SECOND": "1000000000",
        "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "1000000000",
        "PYTHONPATH": os.getcwd(),
    }
    for name in ("CINEMA_DATABASE_URL", "CINEMA_REDIS_URL", "CINEMA_AMQP_URL"):
        env.pop(name, None)
    workers = 1 if options.memory else options.workers
    import uvloop

    uvloop.install()
    for round in range(1, options.rounds + 1):
        for server in options.servers.split(","):
            namespace = f"bench_{uuid.uuid4().hex[:10]}"
            run_env = dict(env)
            if not options.memory:
                create_database(ADMIN_URL, namespace)
                run_env.update(
                    CINEMA_DATABASE_URL=server_url(ADMIN_URL, namespace),
                    CINEMA_REDIS_URL=REDIS_URL,
                    CINEMA_AMQP_URL=AMQP_URL,
                    CINEMA_NAMESPACE=namespace,
                )
                subprocess.run(
                    [sys.executable, "-m", "entrypoints.cli", "migrate"],
                    env=run_env,
                    check=True,
                    capture_output=True,
                )
            try:
                figures = _measure(server, run_env, workers, options.seconds)
            finally:
                if not options.memory:
                    drop_database(ADMIN_URL, namespace)
            print(f"round {round}, {server}: " + "; ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
