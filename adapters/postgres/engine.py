"""Building the SQLAlchemy engine the adapters share: pooled, on psycopg 3, in UTC."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

# Sized for one API process of several on one database (see CINEMA_DATABASE_POOL_SIZE): a
# thread waits for a connection rather than the server refusing one. Opened on demand, then kept.
POOL_SIZE = 10
MAX_OVERFLOW = 5
# A request waiting longer than this for a connection gets StoreUnavailable (503) rather
# than hanging: the pool being exhausted that long means the database is not keeping up.
POOL_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5


def psycopg_url(url: str) -> str:
    """The URL with the psycopg 3 driver named (``postgresql://`` alone would mean psycopg2)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    pooled: bool = True,
) -> Engine:
    """An engine for ``url``; connections run in UTC so instants come back as UTC.

    At most ``pool_size + max_overflow`` connections; once opened they are kept.
    ``pooled=False`` opens a connection per use (one-off commands such as migrations).
    """
    connect_args = {
        "connect_timeout": CONNECT_TIMEOUT,
        # plan_cache_mode: psycopg prepares a statement once it has run a few times on a
        # connection; PostgreSQL would still re-plan the seat statements on every execution
        # (their custom plan, which knows the array's length, always looks cheaper than the
        # generic one), which cost ~0.5-1 ms of PostgreSQL CPU per sale. Every hot statement's
        # generic plan is the same index path (primary keys, the partial indexes).
        "options": "-c timezone=UTC -c plan_cache_mode=force_generic_plan",
        "application_name": "cinema",
    }
    if not pooled:
        return sa.create_engine(psycopg_url(url), poolclass=NullPool, connect_args=connect_args)
    return sa.create_engine(
        psycopg_url(url),
        # Every connection opened is kept (no overflow closed on return): with more threads
        # than pool_size busy (request threads + the worker's), SQLAlchemy closed an overflow
        # connection on every other return and opened a new one soon after, i.e. a PostgreSQL
        # backend forked and its prepared statements lost every few requests.
        pool_size=pool_size + max_overflow,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT,
        # No pre-ping (a round trip on every checkout): a connection the server closed
        # (restart, idle timeout) fails its first statement, SQLAlchemy invalidates the pool's
        # older connections, and PostgresReservationRepo re-runs the work once on a fresh one.
        connect_args=connect_args,
    )


def engine_for(engine_or_url: Engine | str, *, pooled: bool = True) -> tuple[Engine, bool]:
    """The engine to use, and whether the caller built it (and so must dispose of it)."""
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_engine(engine_or_url, pooled=pooled), True
