"""The one way the PostgreSQL adapters send a statement: ``Executor``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row
from sqlalchemy.engine import Connection

from .driver_errors import constraint_name
from .riders import Riders

# Constraints whose refusal is the caller's mistake, not an outage: raised as ValueError.
REFUSALS = {
    # Only reservations.ADD_RESERVATION can break it (SAVE_RESERVATION upserts).
    "reservations_pkey": "a reservation with this id exists",
    "tickets_live_seat_key": "a seat of this sale already has a ticket",
    "tickets_code_key": "a ticket code was given out twice",
    # Payments (migration 0007); a second pending one is PaymentInProgress (payments.py).
    "payments_reservation_id_fkey": "a payment names no stored reservation",
    "payments_sale_id_fkey": "a payment names no stored sale",
    "payments_sale_id_key": "another payment made this sale",
    "payments_attempt_key_key": "another payment has this attempt key",
    "payments_charge_key": "another payment has this provider's charge",
    "payments_approved_has_sale": "an approved payment names no sale",
    "payments_refunded_within_amount": "a payment refunds more than it took",
    "payments_status_known": "a payment's status is not one of the six",
    "payments_pix_whole": "a payment's Pix is not whole",
}


class Executor:
    """Runs statements on one SQLAlchemy connection, in whatever transaction it is in (or in
    autocommit), with the writes that ride along (``ride``, riders.Riders).

    Every statement's time is bounded by the connection (engine.create_engine: PostgreSQL's
    statement_timeout, and a client-side bound should the server stop answering). Driver errors
    leave here in one shape: a refusal by one of ``REFUSALS`` as ``ValueError``, anything else
    as SQLAlchemy's ``DBAPIError`` (``connection_invalidated`` set when the connection was lost),
    which the stores translate into the domain's errors.

    The SQL texts (``sql``) go straight to psycopg: SQLAlchemy's ``exec_driver_sql`` adds
    ~20-40 us per statement (execution context, result metadata) that fixed statements do not
    need. What it would do is kept: listeners of ``before/after_cursor_execute`` see every
    statement, and a lost connection is handled by SQLAlchemy itself (``_lost``). Queries built
    with SQLAlchemy Core (the cold paths) go through ``core``.
    """

    def __init__(self, connection: Connection):
        self._conn = connection
        self._driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
        self._riders = Riders()

    def execute(
        self, sql: str, params: dict[str, Any], *, mapped: bool = False, carries: bool = False
    ) -> psycopg.Cursor[Any]:
        """Run ``sql``, with the writes held back as its CTEs (``carries``) or just before it;
        rows by column name if ``mapped``."""
        if self._riders:
            if carries:
                sql, params = self._riders.carried_by(sql, params)
            else:
                self.send_riders()
        return self._run(sql, params, mapped=mapped)

    def scalar(self, sql: str, params: dict[str, Any]) -> Any:
        """Run ``sql`` (as ``execute``); the first column of its first row, ``None`` if none."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def core(self, statement: sa.Executable) -> sa.CursorResult[Any]:
        """Run a query built with SQLAlchemy Core, after the writes held back."""
        self.send_riders()
        return self._conn.execute(statement)

    def ride(self, table: str, sql: str, params: dict[str, Any]) -> None:
        """Hold back a write to ``table`` that nothing reads before the next statement: it goes
        out with that statement (riders.Riders), so the transaction always reads its own
        writes."""
        due = self._riders.hold(table, sql, params)
        if due is not None:
            self._run(*due)

    def send_riders(self) -> None:
        """Send the writes held back now, as one statement."""
        due = self._riders.alone()
        if due is not None:
            self._run(*due)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint around the statements run inside: an error inside rolls back to it, and
        the transaction stays usable."""
        self.send_riders()
        with self._conn.begin_nested():
            yield

    def _run(
        self, sql: str, params: dict[str, Any], *, mapped: bool = False
    ) -> psycopg.Cursor[Any]:
        cursor = self._driver.cursor(row_factory=dict_row) if mapped else self._driver.cursor()
        dispatch = self._conn.dispatch
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(self._conn, cursor, sql, params, None, False)
        try:
            cursor.execute(sql, params)
        except psycopg.Error as error:
            refused = REFUSALS.get(constraint_name(error) or "")
            if refused is not None:
                # A write that rode along may have broken it: said by constraint, not statement.
                raise ValueError(refused) from None
            if self._conn.dialect.is_disconnect(
                cast(Any, error), self._conn.connection.dbapi_connection, None
            ):
                self._lost(sql, params, error)
            raise sa.exc.DBAPIError.instance(sql, params, error, psycopg.Error) from error
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(self._conn, cursor, sql, params, None, False)
        return cursor

    def _lost(self, sql: str, params: dict[str, Any], error: psycopg.Error) -> None:
        """Hand a lost connection to SQLAlchemy's own handling: the statement once more through
        it, which fails at once without I/O (psycopg refuses a closed or broken connection), and
        so invalidates this connection and every one the pool opened before it (presumed dead
        too: a server restart), to be replaced on checkout, and raises ``DBAPIError`` with
        ``connection_invalidated`` set."""
        self._conn.exec_driver_sql(sql, params)
        # Not reached while psycopg refuses a dead connection; should it not, still lost.
        self._conn.invalidate(error)
        raise sa.exc.DBAPIError.instance(
            sql, params, error, psycopg.Error, connection_invalidated=True
        ) from error
