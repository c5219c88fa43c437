"""The bench's command line (``nox -s bench -- --help``). Its defaults are what a user runs:
PostgreSQL + Redis + RabbitMQ, ``cinema serve --workers 2`` with default settings."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import attrs

# Where Debian's PostgreSQL writes its log (the statement count of --profile reads it).
POSTGRES_LOG = "/var/log/postgresql/postgresql-15-main.log"


@attrs.frozen
class Options:
    backend: str = "postgres"
    broker: bool = True
    workers: int = 2
    # Run the sweeper and relay in a `cinema worker` process instead of inside the API's.
    worker: bool = False
    # CINEMA_LOG_LEVEL for the servers; None leaves it unset (cinema's default, INFO).
    log_level: str | None = None
    rate_limits: bool = True
    duration: float = 10.0
    connections: int = 32
    generators: int = 1
    scenarios: tuple[str, ...] = ()
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
    queue_arrivals: int = 100_000
    queue_burst: int = 5_000
    queue_per_minute: int = 30_000
    queue_window: float = 10.0
    price: str = "25.00"
    seed: int = 1
    profile: Path | None = None
    profile_scenario: str = "sellout"
    profile_gil: bool = False
    profile_top: int = 15
    postgres_log: Path = Path(POSTGRES_LOG)
    json: Path | None = None
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"


def parse(names: Sequence[str], argv: Sequence[str] | None = None) -> Options:
    """Options from the command line; ``names`` are the scenarios there are, in the order a
    run plays them (the harness knows them, the options do not)."""
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Start the box office as a user runs it, drive it with a lean load "
        "generator, print a table. Every run ends with the invariant check; a failed check "
        "exits non-zero. See bench/README.md.",
    )
    stack = p.add_argument_group("the stack under test (defaults: what `cinema serve` runs)")
    stack.add_argument(
        "--backend",
        choices=("memory", "postgres"),
        default=d.backend,
        help="postgres: PostgreSQL + Redis (+ RabbitMQ); memory: the in-memory box office, "
        "one process (default %(default)s)",
    )
    stack.add_argument(
        "--no-broker",
        dest="broker",
        action="store_false",
        help="no CINEMA_AMQP_URL: events stay in each process (default: RabbitMQ)",
    )
    stack.add_argument(
        "--workers", type=int, default=d.workers, help="cinema serve --workers (default 2)"
    )
    stack.add_argument(
        "--worker",
        action="store_true",
        help="serve with --no-worker and run the sweeper and relay in a `cinema worker` "
        "process of their own (default: inside the API processes)",
    )
    stack.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        type=str.upper,
        help="CINEMA_LOG_LEVEL of the servers (default: unset, i.e. INFO)",
    )
    stack.add_argument(
        "--no-rate-limits",
        dest="rate_limits",
        action="store_false",
        help="switch the rate limits off (default: on, at a rate no bench reaches)",
    )
    load = p.add_argument_group("the load")
    load.add_argument(
        "--scenarios",
        default=",".join(names),
        help=f"comma-separated, from {', '.join(names)} (default: all)",
    )
    load.add_argument(
        "--duration",
        type=float,
        default=d.duration,
        help="seconds of ceiling, steady and seat map load each (default %(default)s)",
    )
    load.add_argument(
        "--connections",
        type=int,
        default=d.connections,
        help="keep-alive connections per generator process (default %(default)s)",
    )
    load.add_argument(
        "--generators",
        type=int,
        default=d.generators,
        help="load generator processes, their samples merged (default %(default)s)",
    )
    load.add_argument("--buyers", type=int, default=d.buyers, help="sell-out buyers (1000)")
    load.add_argument("--rows", type=int, default=d.rows, help="sell-out room rows (20)")
    load.add_argument(
        "--seats-per-row", type=int, default=d.seats_per_row, help="sell-out room seats a row (20)"
    )
    load.add_argument(
        "--sellout-timeout",
        type=float,
        default=d.sellout_timeout,
        help="seconds a sell-out may take (120)",
    )
    load.add_argument(
        "--steady-users", type=int, default=d.steady_users, help="steady's buyers (200)"
    )
    load.add_argument(
        "--race-buyers", type=int, default=d.race_buyers, help="buyers per race round (25)"
    )
    load.add_argument("--race-rounds", type=int, default=d.race_rounds, help="race rounds (100)")
    load.add_argument("--map-rows", type=int, default=d.map_rows, help="seat map rows (26)")
    load.add_argument(
        "--map-seats-per-row",
        type=int,
        default=d.map_seats_per_row,
        help="seat map seats a row (100)",
    )
    load.add_argument(
        "--queue-arrivals", type=int, default=d.queue_arrivals, help="queue's arrivals (100000)"
    )
    load.add_argument(
        "--queue-burst", type=int, default=d.queue_burst, help="queue's arrivals a burst (5000)"
    )
    load.add_argument(
        "--queue-per-minute",
        type=int,
        default=d.queue_per_minute,
        help="queue's admissions a minute (30000)",
    )
    load.add_argument(
        "--queue-window",
        type=float,
        default=d.queue_window,
        help="seconds of each window the queue's rate is counted over, a shortened minute (10)",
    )
    load.add_argument("--soak", action="store_true", help="add a 10-minute soak (RSS growth)")
    load.add_argument("--soak-seconds", type=float, default=0.0, help="add a soak this long")
    load.add_argument("--price", default=d.price, help="standard seat price (25.00)")
    load.add_argument("--seed", type=int, default=d.seed, help="of the buyers' choices (1)")
    profile = p.add_argument_group("profiling (--profile DIR)")
    profile.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also measure the generator against a null server, py-spy the servers during "
        "--profile-scenario (raw stacks into DIR, hot spots in the report) and count the SQL "
        "statements each kind of request sends",
    )
    profile.add_argument(
        "--profile-scenario",
        choices=names,
        help="the scenario py-spy samples (default: sellout, or the first one played)",
    )
    profile.add_argument(
        "--profile-gil",
        action="store_true",
        help="sample only the thread holding the GIL (where Python CPU time goes)",
    )
    profile.add_argument(
        "--profile-top",
        type=int,
        default=d.profile_top,
        help="functions shown per hot-spot table (default %(default)s)",
    )
    profile.add_argument(
        "--postgres-log",
        type=Path,
        default=d.postgres_log,
        help="PostgreSQL's log file, for the statement count (default %(default)s)",
    )
    out = p.add_argument_group("output and services")
    out.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    out.add_argument(
        "--postgres-url",
        default=os.environ.get("CINEMA_BENCH_POSTGRES_URL", d.postgres_url),
        help="an admin connection; the bench creates and drops its own database "
        "(or CINEMA_BENCH_POSTGRES_URL)",
    )
    out.add_argument(
        "--redis-url",
        default=os.environ.get("CINEMA_BENCH_REDIS_URL", d.redis_url),
        help="(or CINEMA_BENCH_REDIS_URL); the run's keys are deleted at the end",
    )
    out.add_argument(
        "--amqp-url",
        default=os.environ.get("CINEMA_BENCH_AMQP_URL", d.amqp_url),
        help="(or CINEMA_BENCH_AMQP_URL); the run's exchange and queues are deleted at the end",
    )
    a = p.parse_args(argv)
    scenarios = tuple(name.strip() for name in a.scenarios.split(",") if name.strip())
    unknown = [name for name in scenarios if name not in names]
    if unknown:
        p.error(f"unknown scenarios {unknown}; choose from {', '.join(names)}")
    for name in ("workers", "connections", "generators", "buyers", "race_buyers", "race_rounds"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if a.profile_scenario and a.profile_scenario not in scenarios:
        p.error(f"--profile-scenario {a.profile_scenario} is not among --scenarios")
    if not a.profile_scenario:
        first = scenarios[0] if scenarios else d.profile_scenario
        a.profile_scenario = d.profile_scenario if d.profile_scenario in scenarios else first
    if a.worker and a.backend == "memory":
        p.error("--worker needs --backend postgres: in memory a worker process has no sales")
    a.scenarios = scenarios
    a.soak_seconds = a.soak_seconds or (600.0 if a.soak else 0.0)
    return Options(**{field.name: getattr(a, field.name) for field in attrs.fields(Options)})
