"""Building the SQLAlchemy engine the adapters share: pooled, on psycopg 3, in UTC."""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg.errors
import sqlalchemy as sa
from psycopg.connection import _WAIT_INTERVAL
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

# Sized for one API process of several on one database (see CINEMA_DATABASE_POOL_SIZE): a
# thread waits for a connection rather than the server refusing one. Opened on demand, then kept.
POOL_SIZE = 10
MAX_OVERFLOW = 5
# How long the database may take (CINEMA_DATABASE_TIMEOUT_SECONDS): to open a connection, to run
# a statement (PostgreSQL's statement_timeout), and to hand out a pooled connection. Past it a
# request gets StoreUnavailable (503 with Retry-After) instead of hanging with the database.
TIMEOUT = 5.0
# A server that stops answering altogether (a stalled network, a frozen host) never reports its
# statement_timeout: the client gives up on its own this much later.
CLIENT_GRACE = 1.0
# After a connection waited out its bound (or one could not be opened), new connections are
# refused at once for this long: the pool's other connections are invalidated with the timed-out
# one, so without this every retry and every later statement of the same request would wait out
# a connect timeout of its own, and a request would take two or three bounds instead of one.
STALL_PAUSE = 1.0


_PROBING = contextvars.ContextVar("cinema_database_probing", default=False)


@contextlib.contextmanager
def probing() -> Iterator[None]:
    """Connect even while the database rests after a stall: a readiness ping must ask the
    database itself (and read ``timeout`` while it stalls), not the pause."""
    reset = _PROBING.set(True)
    try:
        yield
    finally:
        _PROBING.reset(reset)


class StallWatch:
    """When the database last stopped answering; connecting is refused for ``pause`` after."""

    def __init__(self, pause: float = STALL_PAUSE):
        self._pause = pause
        self._until = 0.0
        self._mutex = threading.Lock()

    def stalled(self) -> None:
        with self._mutex:
            self._until = time.monotonic() + self._pause

    def resting(self) -> bool:
        with self._mutex:
            return time.monotonic() < self._until


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most ``answer_within`` seconds for the server.

    Every exchange with the server (a statement, a commit, a rollback) goes through ``wait``;
    when the server sends nothing for that long, the connection is closed (its state is
    unknown) and ``OperationalError`` raised, which SQLAlchemy reads as a lost connection.
    """

    answer_within: float | None = None
    watch: StallWatch | None = None

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        try:
            return super().wait(
                gen, interval, timeout if timeout is not None else self.answer_within
            )
        except psycopg.errors._WaitTimeout:
            self.pgconn.finish()
            if self.watch is not None:
                self.watch.stalled()
            raise psycopg.OperationalError(
                f"the database did not answer within {self.answer_within} s"
            ) from None


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
    timeout: float | None = TIMEOUT,
) -> Engine:
    """An engine for ``url``; connections run in UTC so instants come back as UTC.

    At most ``pool_size + max_overflow`` connections; once opened they are kept.
    ``pooled=False`` opens a connection per use (one-off commands such as migrations).
    ``timeout`` bounds connecting, each statement and the wait for a pooled connection;
    ``None`` for work that may legitimately take long (migrations, which wait on each other).
    """
    options = "-c timezone=UTC -c plan_cache_mode=force_generic_plan"
    if timeout is not None:
        options += f" -c statement_timeout={int(timeout * 1000)}"
    connect_args = {
        # libpq counts whole seconds, and at least 2.
        "connect_timeout": max(2, math.ceil(timeout if timeout is not None else 10)),
        # plan_cache_mode: psycopg prepares a statement once it has run a few times on a
        # connection; PostgreSQL would still re-plan the seat statements on every execution
        # (their custom plan, which knows the array's length, always looks cheaper than the
        # generic one), which cost ~0.5-1 ms of PostgreSQL CPU per sale. Every hot statement's
        # generic plan is the same index path (primary keys, the partial indexes).
        "options": options,
        "application_name": "cinema",
    }
    if not pooled:
        engine = sa.create_engine(psycopg_url(url), poolclass=NullPool, connect_args=connect_args)
    else:
        engine = sa.create_engine(
            psycopg_url(url),
            # Every connection opened is kept (no overflow closed on return): with more threads
            # than pool_size busy (request threads + the worker's), SQLAlchemy closed an overflow
            # connection on every other return and opened a new one soon after, i.e. a
            # PostgreSQL backend forked and its prepared statements lost every few requests.
            pool_size=pool_size + max_overflow,
            max_overflow=0,
            pool_timeout=timeout if timeout is not None else 30.0,
            # No pre-ping (a round trip on every checkout): a connection the server closed
            # (restart, idle timeout) fails its first statement, SQLAlchemy invalidates the
            # pool's older connections, and PostgresReservationRepo re-runs the work once on a
            # fresh one.
            connect_args=connect_args,
        )
    if timeout is not None:
        answer_within = timeout + CLIENT_GRACE
        watch = StallWatch()

        @sa.event.listens_for(engine, "do_connect")
        def _bounded(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
            if watch.resting() and not _PROBING.get():
                raise psycopg.OperationalError(
                    "the database did not answer a moment ago; not connecting again yet"
                )
            try:
                connection = BoundedConnection.connect(*cargs, **cparams)
            except psycopg.OperationalError:
                watch.stalled()
                raise
            connection.answer_within = answer_within
            connection.watch = watch
            return connection

    return engine


def engine_for(
    engine_or_url: Engine | str, *, pooled: bool = True, timeout: float | None = TIMEOUT
) -> tuple[Engine, bool]:
    """The engine to use, and whether the caller built it (and so must dispose of it)."""
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return create_engine(engine_or_url, pooled=pooled, timeout=timeout), True
