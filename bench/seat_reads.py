"""What reading a kept seat map costs, by how many of its seats are touched:
``python -m bench.seat_reads``.

A 26 × 100 session (2,600 seats for sale) with ``--touched`` seats held, read ``--reads`` times
through the PostgreSQL repo while nothing changes (what most seat-map reads find: the process
serves its kept map). Printed per read: this thread's CPU (``time.thread_time``: the driver and
the repo) and the CPU of PostgreSQL's backends serving the database, both in µs. Then what a
write of one seat costs PostgreSQL (``--reads`` single-seat updates, each its own transaction,
as a hold's seats are written): the price every write pays for the reads' bookkeeping. A fresh
database is created on ``--postgres-url`` and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta
from uuid import uuid4

import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, upgrade
from cinema_core import BoxOffice, Money, SystemClock
from cinema_core.memory import InMemorySeatLock

from .options import Options
from .process_cpu import cpu_seconds, database_backends
from .resources import create_database, drop_database, server_url


def _backends_cpu(admin_url: str, database: str) -> float:
    return sum(cpu_seconds(pid) or 0.0 for pid in database_backends(admin_url, database))


def _touch(url: str, session_id: object, count: int) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE seats SET held_by = gen_random_uuid(), "
                    "hold_expires_at = now() + interval '1 day' "
                    'WHERE (session_id, "row", number) IN ('
                    '  SELECT session_id, "row", number FROM seats WHERE session_id = :id'
                    '  ORDER BY "row", number LIMIT :count)'
                ),
                {"id": session_id, "count": count},
            )
    finally:
        engine.dispose()


def _writes(url: str, admin_url: str, database: str, session_id: object, count: int) -> float:
    """PostgreSQL's CPU seconds for ``count`` single-seat updates, one transaction each."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    write = sa.text(
        "UPDATE seats SET held_by = :owner, hold_expires_at = now() + interval '1 day' "
        "WHERE session_id = :id AND \"row\" = 'Z' AND number = :number"
    )
    try:
        with engine.connect() as conn:
            started = _backends_cpu(admin_url, database)
            for at in range(count):
                conn.execute(write, {"owner": uuid4(), "id": session_id, "number": at % 100 + 1})
                conn.commit()
            return _backends_cpu(admin_url, database) - started
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CINEMA_BENCH_POSTGRES_URL", Options().postgres_url),
    )
    parser.add_argument("--touched", default="0,500,2600", help="comma-separated counts")
    parser.add_argument("--reads", type=int, default=2000)
    options = parser.parse_args()
    name = create_database(options.postgres_url, f"bench_reads_{uuid4().hex[:8]}")
    url = server_url(options.postgres_url, name)
    try:
        upgrade(url)
        repo = PostgresReservationRepo(url)
        try:
            box = BoxOffice(repo, InMemorySeatLock(), SystemClock(), timedelta(minutes=10))
            print(f"{'touched':>8}  {'API µs/read':>12}  {'PostgreSQL µs/read':>19}")
            for count in (int(part) for part in options.touched.split(",")):
                session = box.create_session(
                    movie="Seat reads",
                    room=f"Sala {count}",
                    starts_at=box.clock.now() + timedelta(days=1),
                    price=Money.parse("25.00"),
                    rows=26,  # rows A to Z: the writes go to row Z
                    seats_per_row=100,
                ).session
                _touch(url, session.id, count)
                repo.seats(session.id)  # the whole read, which the process then keeps
                database = _backends_cpu(options.postgres_url, name)
                started = time.thread_time()
                for _ in range(options.reads):
                    repo.seats(session.id)
                api = time.thread_time() - started
                database = _backends_cpu(options.postgres_url, name) - database
                per = 1e6 / options.reads
                print(f"{count:>8}  {api * per:>12.0f}  {database * per:>19.0f}")
            written = _writes(url, options.postgres_url, name, session.id, options.reads)
            print(f"one seat written: {written * 1e6 / options.reads:.0f} µs of PostgreSQL")
        finally:
            repo.close()
    finally:
        drop_database(options.postgres_url, name)


if __name__ == "__main__":
    main()
