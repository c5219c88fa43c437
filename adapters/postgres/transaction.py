"""One unit of work on one PostgreSQL connection: the ``Transaction`` port.

Every decision the use cases take is taken on rows this transaction has locked (seats FOR
UPDATE, the reservation FOR UPDATE, the session's quotas FOR NO KEY UPDATE), and the database's
own constraints refuse what must never happen whatever the code above does: a second sale of a
seat (``sale_seats``' primary key) or of a reservation (``sales.reservation_id`` unique), two
sessions of a room at once (``sessions_room_no_overlap``), two rooms of a name in a cinema
(``rooms_cinema_name_key``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import attrs
import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection

from cinema_core.errors import RoomBusy, RoomExists, SeatsUnavailable, SessionNotFound
from cinema_core.events import Event
from cinema_core.ports import SessionLockMode
from cinema_core.reservations import Reservation, Sale
from cinema_core.rooms import Room
from cinema_core.seats import Seat, SeatLabel
from cinema_core.sessions import Session

from . import rows, statements
from .after_sale import AfterSaleTransaction
from .driver_errors import constraint_name
from .tables import seats, sessions

# Constraints whose refusal is the caller's mistake, not an outage: raised as ValueError.
_REFUSALS = {
    # Only ADD_RESERVATION can break it (SAVE_RESERVATION upserts).
    "reservations_pkey": "a reservation with this id exists",
    "tickets_live_seat_key": "a seat of this sale already has a ticket",
    "tickets_code_key": "a ticket code was given out twice",
}


class PostgresTransaction(AfterSaleTransaction):
    """The ``Transaction`` port on an open connection inside ``PostgresReservationRepo.atomic``."""

    def __init__(self, connection: Connection, *, row_locks: bool = True, quota_locks: bool = True):
        self._conn = connection
        self._driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
        self._row_locks = row_locks
        self._quota_locks = quota_locks
        self._events: list[Event] = []
        self._emitted = 0
        # Writes held back to ride along with the next statement (see _ride), by table.
        self._riders: list[tuple[str, str, dict[str, Any]]] = []

    def add_room(self, room: Room) -> None:
        added = self._execute(statements.ADD_ROOM, rows.room_values(room)).fetchone()
        if added is None:
            # rooms_cinema_name_key skipped it (statements.ADD_ROOM); the transaction goes on.
            raise RoomExists()

    def add_session(self, session: Session) -> None:
        if session.room.private:
            self.add_room(session.room)
        self._send_riders()  # the statements below go through SQLAlchemy
        # Skipped, not raised, when sessions_room_no_overlap refuses it (as ADD_SALE does with
        # its keys): the transaction stays usable to name the other session. Untargeted, so
        # that the race tests' control run (which drops the constraint) shows what it prevents.
        added = self._conn.execute(
            pg.insert(sessions)
            .values(rows.session_values(session))
            .on_conflict_do_nothing()
            .returning(sessions.c.id)
        ).first()
        if added is None:
            other = self._execute(
                statements.OVERLAPPING_SESSION,
                {
                    "id": session.id,
                    "room_id": session.room.id,
                    "starts_at": session.starts_at,
                    "ends_at": session.ends_at,
                },
            ).fetchone()
            if other is None:
                raise ValueError(f"session {session.id} exists")
            raise RoomBusy(other[0])
        # Every seat for sale in one statement: the labels (Session.labels(), the one place
        # that names them; blocked seats are never stored) go as two arrays that unnest() zips
        # into rows. A 2,600-seat room is one round trip, not 2,600 parameter sets.
        labels = session.labels()
        label = (
            sa.func.unnest(
                sa.literal([label.row for label in labels], pg.ARRAY(sa.CHAR(1))),
                sa.literal([label.number for label in labels], pg.ARRAY(sa.Integer)),
            )
            .table_valued("row", "number")
            .render_derived(name="label")
        )
        self._conn.execute(
            seats.insert().from_select(
                ["session_id", "row", "number"],
                sa.select(
                    sa.literal(session.id, pg.UUID(as_uuid=True)), label.c.row, label.c.number
                ),
            )
        )

    def lock_session(self, session: Session, *, mode: SessionLockMode = "purchase") -> Session:
        row = self._execute(statements.LOCK_SESSION[mode], {"id": session.id}, mapped=True)
        found = row.fetchone()
        if found is None:
            raise SessionNotFound()
        return attrs.evolve(session, **found)

    def lock_session_and_seats(
        self, session: Session, labels: Sequence[SeatLabel], *, skip_locked: bool = False
    ) -> tuple[Session, list[Seat]]:
        if not self._row_locks:
            sql = statements.LOCK_SESSION_READ_SEATS
        elif skip_locked:
            sql = statements.TRY_LOCK_SESSION_AND_SEATS
        else:
            sql = statements.LOCK_SESSION_AND_SEATS
        keys = sorted({(label.row, label.number) for label in labels})
        found = self._execute(
            sql,
            {
                "session_id": session.id,
                "rows": rows.array(row for row, _ in keys),
                "numbers": rows.array(number for _, number in keys),
            },
            mapped=True,
        ).fetchall()
        if not found:
            raise SessionNotFound()
        seats_ = [
            Seat(
                SeatLabel(row["row"], row["number"]),
                row["held_by"],
                row["hold_expires_at"],
                row["sale_id"],
                row["ticket"],
            )
            for row in found
            if row["row"] is not None
        ]
        return _current(session, found[0]), seats_

    def lock_session_reservation_and_seats(
        self, reservation_id: UUID, kept: Callable[[UUID], Session]
    ) -> tuple[Session, Reservation, list[Seat]] | None:
        sql = (
            statements.LOCK_SESSION_RESERVATION_AND_SEATS
            if self._row_locks
            else statements.LOCK_SESSION_RESERVATION_READ_SEATS
        )
        found = self._execute(sql, {"id": reservation_id}, mapped=True).fetchall()
        if not found:
            return None
        reservation, seats_ = _reservation_with_seats(found)
        return _current(kept(reservation.session_id), found[0]), reservation, seats_

    def save_session(self, session: Session) -> None:
        values = rows.session_values(session)
        params = {
            name: values[name]
            for name in (
                "id",
                "movie",
                "movie_lower",
                "starts_at",
                "duration_minutes",
                "ends_at",
                "cancelled_at",
            )
        }
        self._send_riders()
        # A savepoint, so that a refusal by sessions_room_no_overlap leaves the transaction
        # usable to name the other session.
        try:
            with self._conn.begin_nested():
                self._execute(statements.SAVE_SESSION, params)
        except sa.exc.DBAPIError as error:
            if constraint_name(error.orig) != "sessions_room_no_overlap":
                raise
            refused = error
        else:
            return
        other = self._execute(
            statements.OVERLAPPING_SESSION,
            {
                "id": session.id,
                "room_id": session.room.id,
                "starts_at": session.starts_at,
                "ends_at": session.ends_at,
            },
        ).fetchone()
        if other is None:
            raise refused
        raise RoomBusy(other[0])

    def lock_pending(self, session_id: UUID) -> list[Reservation]:
        found = self._execute(
            statements.LOCK_PENDING, {"session_id": session_id}, mapped=True
        ).fetchall()
        return [rows.reservation_from_row(row) for row in found]

    def session_sales(self, session_id: UUID) -> list[Sale]:
        found = self._execute(
            statements.SESSION_SALES, {"session_id": session_id}, mapped=True
        ).fetchall()
        return [rows.sale_from_row(row) for row in found]

    def quota_usage(
        self, session_id: UUID, tickets: Sequence[str], now: datetime
    ) -> dict[str, int]:
        if not tickets:
            return {}
        params = {"session_id": session_id, "tickets": rows.array(tickets), "now": now}
        if self._quota_locks:
            # Two statements on purpose. Under READ COMMITTED each statement reads from a
            # snapshot taken when it starts; the lock may be granted only once the previous
            # holder commits, so the count must start after that, in a statement of its own,
            # to see the seats the previous holder just took. Counted in one statement with the
            # lock, it would count from before the wait and let the quota be passed.
            self._execute(statements.LOCK_QUOTAS, params)
        found = self._execute(statements.QUOTA_USAGE, params).fetchall()
        counts = dict.fromkeys(tickets, 0)
        counts.update({ticket: int(count) for ticket, count in found})
        return counts

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        return self._seats(
            statements.LOCK_SEATS if self._row_locks else statements.READ_SEATS_UNLOCKED,
            session_id,
            labels,
        )

    def try_lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        return self._seats(
            statements.TRY_LOCK_SEATS if self._row_locks else statements.READ_SEATS_UNLOCKED,
            session_id,
            labels,
        )

    def _seats(self, sql: str, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        if not labels:
            return []
        keys = sorted({(label.row, label.number) for label in labels})
        found = self._execute(
            sql,
            {
                "session_id": session_id,
                "rows": rows.array(row for row, _ in keys),
                "numbers": rows.array(number for _, number in keys),
            },
        )
        return [
            Seat(SeatLabel(row, number), held_by, hold_expires_at, sale_id, ticket)
            for row, number, held_by, hold_expires_at, sale_id, ticket in found
        ]

    def save_seats(self, session_id: UUID, seats_: Sequence[Seat]) -> None:
        if not seats_:
            return
        # One statement for all of them, the seats as parallel arrays (statements.SAVE_SEATS),
        # riding along with the next one.
        self._ride(
            "seats",
            statements.SAVE_SEATS,
            {
                "session_id": session_id,
                "rows": rows.array(seat.label.row for seat in seats_),
                "numbers": rows.array(seat.label.number for seat in seats_),
                "held_by": rows.array(seat.held_by for seat in seats_),
                "hold_expires_at": rows.array(seat.hold_expires_at for seat in seats_),
                "sale_ids": rows.array(seat.sale_id for seat in seats_),
                "tickets": rows.array(seat.ticket for seat in seats_),
            },
        )

    def add_reservation(self, reservation: Reservation) -> None:
        # A second reservation with this id is refused by reservations_pkey, as ValueError
        # (_execute), when the insert goes out.
        self._ride("reservations", statements.ADD_RESERVATION, rows.reservation_values(reservation))

    def lock_reservation(self, reservation_id: UUID) -> Reservation | None:
        row = self._execute(
            statements.LOCK_RESERVATION, {"id": reservation_id}, mapped=True
        ).fetchone()
        return rows.reservation_from_row(row) if row else None

    def lock_reservation_and_seats(
        self, reservation_id: UUID
    ) -> tuple[Reservation, list[Seat]] | None:
        sql = (
            statements.LOCK_RESERVATION_AND_SEATS
            if self._row_locks
            else statements.LOCK_RESERVATION_READ_SEATS
        )
        found = self._execute(sql, {"id": reservation_id}, mapped=True).fetchall()
        return _reservation_with_seats(found) if found else None

    def save_reservation(self, reservation: Reservation) -> None:
        self._ride(
            "reservations", statements.SAVE_RESERVATION, rows.reservation_values(reservation)
        )

    def add_sale(self, sale: Sale) -> None:
        labels = sorted(set(sale.seats))
        values = rows.sale_values(sale)
        values["rows"] = rows.array(label.row for label in labels)
        values["numbers"] = rows.array(label.number for label in labels)
        # One statement; a refusal by the constraints comes back as counts, not as an error,
        # so the transaction stays usable (as with the in-memory store). See statements.ADD_SALE.
        added = self._execute(statements.ADD_SALE, values, carries=True).fetchone()
        assert added is not None  # the statement's SELECT always returns its one row
        sales_added, seats_sold = int(added[0]), set(added[1])
        if sales_added == 0:
            raise ValueError(f"reservation {sale.reservation_id} is already sold")
        if len(seats_sold) < len(labels):
            self._execute(statements.UNDO_SALE_SEATS, {"id": sale.id})
            self._execute(statements.UNDO_SALE, {"id": sale.id})
            raise SeatsUnavailable(
                [label for label in labels if str(label) not in seats_sold],
                "A seat of this sale is already sold.",
            )

    def get_sale(self, sale_id: UUID) -> Sale | None:
        row = self._execute(statements.GET_SALE, {"id": sale_id}, mapped=True).fetchone()
        return rows.sale_from_row(row) if row else None

    def lock_lapsed(self, now: datetime, limit: int) -> list[Reservation]:
        # SKIP LOCKED (statements.LOCK_LAPSED): each lapsed reservation is expired exactly once
        # however many sweepers run.
        found = self._execute(statements.LOCK_LAPSED, {"now": now, "limit": limit}, mapped=True)
        return [rows.reservation_from_row(row) for row in found]

    def _ride(self, table: str, sql: str, params: dict[str, Any]) -> None:
        """Hold back a write that nothing reads before the next statement: it goes out as a CTE
        of the next statement that carries (the sale, the outbox INSERT), or before any other
        statement, so the transaction always reads its own writes (statements.riding). Two
        writes to one table never share a statement: a row written twice in one statement is
        an error."""
        if any(rider[0] == table for rider in self._riders):
            self._send_riders()
        self._riders.append((table, sql, params))

    def _send_riders(self) -> None:
        if self._riders:
            self._execute(*self._with_riders(None, {}))

    def _with_riders(self, sql: str | None, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        riders, self._riders = self._riders, []
        params = dict(params)
        for index, (_, _, values) in enumerate(riders):
            if sql is not None or index < len(riders) - 1:
                params.update({f"w{index}_{name}": value for name, value in values.items()})
            else:
                params.update(values)  # the last rider is the statement itself
        return statements.riding(tuple(rider[1] for rider in riders), sql), params

    def _execute(
        self, sql: str, params: dict[str, Any], *, mapped: bool = False, carries: bool = False
    ) -> psycopg.Cursor[Any]:
        """Run one of ``statements`` on the driver's connection, under this transaction, with
        the writes held back (``carries``: as its CTEs; otherwise just before it).

        Straight to psycopg: SQLAlchemy's ``exec_driver_sql`` adds ~20-40 us per statement
        (execution context, result metadata) that these fixed statements do not need. What
        it would do is kept: listeners of ``before/after_cursor_execute`` still see every
        statement, errors arrive as SQLAlchemy's ``DBAPIError`` subclasses, and a lost
        connection is invalidated (``connection_invalidated``, which ``atomic`` acts on).
        """
        if self._riders:
            if carries:
                sql, params = self._with_riders(sql, params)
            else:
                self._send_riders()
        cursor = self._driver.cursor(row_factory=dict_row) if mapped else self._driver.cursor()
        dispatch = self._conn.dispatch
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(self._conn, cursor, sql, params, None, False)
        try:
            cursor.execute(sql, params)
        except psycopg.Error as error:
            refused = _REFUSALS.get(constraint_name(error) or "")
            if refused is not None:
                # A write that rode along may have broken it: said by constraint, not statement.
                raise ValueError(refused) from None
            lost = self._conn.dialect.is_disconnect(
                cast(Any, error), self._conn.connection.dbapi_connection, None
            )
            if lost:
                # As SQLAlchemy does on a disconnect: every connection the pool opened before
                # this one is presumed dead too (a server restart), and is replaced on checkout.
                self._conn.engine.pool._invalidate(self._conn.connection, error)
                self._conn.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                sql, params, error, psycopg.Error, connection_invalidated=lost
            ) from error
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(self._conn, cursor, sql, params, None, False)
        return cursor

    def emit(self, event: Event) -> None:
        # Held until flush(), just before the commit: the events of a unit of work (two for a
        # cancellation or an expiry) then cost one INSERT. Nothing in a transaction reads them.
        self._events.append(event)

    @property
    def emitted(self) -> int:
        return self._emitted

    def flush(self) -> None:
        """Write the emitted events to the outbox; ``atomic`` calls it right before committing."""
        if self._events:
            # One INSERT for all of them, whatever their number: the events as one JSON array.
            self._execute(
                statements.ADD_EVENTS, {"events": rows.events_json(self._events)}, carries=True
            )
            self._emitted += len(self._events)
            self._events.clear()
        self._send_riders()


def _current(session: Session, row: dict[str, Any]) -> Session:
    """The kept ``session`` with what may have changed of it read from ``row`` (se_ columns)."""
    return attrs.evolve(
        session,
        movie=row["se_movie"],
        starts_at=row["se_starts_at"],
        duration_minutes=row["se_duration_minutes"],
        cancelled_at=row["se_cancelled_at"],
    )


def _reservation_with_seats(found: Sequence[dict[str, Any]]) -> tuple[Reservation, list[Seat]]:
    """A reservation and its seats from the rows of statements._reservation_and_seats."""
    seats_ = [
        Seat(
            SeatLabel(row["seat_row"], row["seat_number"]),
            row["seat_held_by"],
            row["seat_hold_expires_at"],
            row["seat_sale_id"],
            row["seat_ticket"],
        )
        for row in found
        if row["seat_row"] is not None
    ]
    return rows.reservation_from_row(found[0]), seats_
