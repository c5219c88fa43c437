"""The bench's command line (``nox -s bench -- --help``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import attrs

SCENARIOS = ("ceiling", "sellout", "best", "steady", "race", "seatmap")


@attrs.frozen
class Options:
    backend: str = "postgres"
    rabbitmq: bool = False
    workers: int = 2
    duration: float = 10.0
    connections: int = 32
    generators: int = 1
    scenarios: tuple[str, ...] = SCENARIOS
    buyers: int = 1000
    rows: int = 20
    seats_per_row: int = 20
    sellout_timeout: float = 120.0
    steady_users: int = 200
    race_buyers: int = 25
    race_rounds: int = 100
    map_rows: int = 26
    map_seats_per_row: int = 100
    soak_seconds: float = 0.0
    generator_ceiling: bool = True
    price: str = "25.00"
    seed: int = 1
    log_level: str = "WARNING"
    profile: Path | None = None
    profile_scenario: str = "sellout"
    profile_gil: bool = False
    json: Path | None = None
    no_worker: bool = False
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"


def parse(argv: Sequence[str] | None = None) -> Options:
    """Options from the command line (the defaults are the published run's)."""
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Start the box office, drive it with a lean load generator, print a table. "
        "Every run ends with the invariant check; a failed check exits non-zero.",
    )
    p.add_argument(
        "--backend",
        choices=("memory", "postgres"),
        default=d.backend,
        help="memory: everything in process; postgres: PostgreSQL + Redis",
    )
    p.add_argument("--rabbitmq", action="store_true", help="also publish events to RabbitMQ")
    p.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help="server processes (cinema serve --workers; memory mode runs one)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=d.duration,
        help="seconds of steady, seat map and ceiling load each",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=d.connections,
        help="keep-alive connections per generator process",
    )
    p.add_argument(
        "--generators",
        type=int,
        default=d.generators,
        help="load generator processes (their samples are merged)",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(d.scenarios),
        help=f"comma-separated, from {', '.join(SCENARIOS)}",
    )
    p.add_argument("--buyers", type=int, default=d.buyers, help="sell-out buyers")
    p.add_argument("--rows", type=int, default=d.rows, help="sell-out session rows")
    p.add_argument("--seats-per-row", type=int, default=d.seats_per_row)
    p.add_argument("--sellout-timeout", type=float, default=d.sellout_timeout)
    p.add_argument("--steady-users", type=int, default=d.steady_users)
    p.add_argument("--race-buyers", type=int, default=d.race_buyers)
    p.add_argument("--race-rounds", type=int, default=d.race_rounds)
    p.add_argument("--map-rows", type=int, default=d.map_rows)
    p.add_argument("--map-seats-per-row", type=int, default=d.map_seats_per_row)
    p.add_argument("--soak", action="store_true", help="add a 10-minute soak (RSS growth)")
    p.add_argument("--soak-seconds", type=float, default=0.0, help="add a soak this long")
    p.add_argument(
        "--no-generator-ceiling",
        action="store_true",
        help="skip measuring the generator against a null server",
    )
    p.add_argument("--price", default=d.price)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--log-level", default=d.log_level, help="CINEMA_LOG_LEVEL of the servers")
    p.add_argument("--profile", type=Path, help="py-spy record every server process into DIR")
    p.add_argument("--profile-scenario", default=d.profile_scenario, choices=SCENARIOS)
    p.add_argument(
        "--profile-gil",
        action="store_true",
        help="sample only the thread holding the GIL (where Python CPU time goes)",
    )
    p.add_argument(
        "--no-worker",
        action="store_true",
        help="serve with --no-worker (no sweeper, no relay): to measure what they cost",
    )
    p.add_argument("--json", type=Path, help="also write the results to this file")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("CINEMA_BENCH_POSTGRES_URL", d.postgres_url),
        help="an admin connection; the bench creates and drops its own database",
    )
    p.add_argument("--redis-url", default=os.environ.get("CINEMA_BENCH_REDIS_URL", d.redis_url))
    p.add_argument("--amqp-url", default=os.environ.get("CINEMA_BENCH_AMQP_URL", d.amqp_url))
    a = p.parse_args(argv)
    scenarios = tuple(name.strip() for name in a.scenarios.split(",") if name.strip())
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    for name in ("workers", "connections", "generators", "buyers", "race_buyers", "race_rounds"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    soak = a.soak_seconds or (600.0 if a.soak else 0.0)
    return Options(
        backend=a.backend,
        rabbitmq=a.rabbitmq,
        workers=a.workers,
        duration=a.duration,
        connections=a.connections,
        generators=a.generators,
        scenarios=scenarios,
        buyers=a.buyers,
        rows=a.rows,
        seats_per_row=a.seats_per_row,
        sellout_timeout=a.sellout_timeout,
        steady_users=a.steady_users,
        race_buyers=a.race_buyers,
        race_rounds=a.race_rounds,
        map_rows=a.map_rows,
        map_seats_per_row=a.map_seats_per_row,
        soak_seconds=soak,
        generator_ceiling=not a.no_generator_ceiling,
        price=a.price,
        seed=a.seed,
        log_level=a.log_level.upper(),
        profile=a.profile,
        profile_scenario=a.profile_scenario,
        profile_gil=a.profile_gil,
        json=a.json,
        no_worker=a.no_worker,
        postgres_url=a.postgres_url,
        redis_url=a.redis_url,
        amqp_url=a.amqp_url,
    )
