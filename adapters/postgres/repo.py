"""The ``ReservationRepo`` port on PostgreSQL: the source of truth of the box office."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cinema_core.after_sale.admissions import Ticket
from cinema_core.counter.shifts import Shift
from cinema_core.events.envelopes import Event
from cinema_core.goods.products import Product
from cinema_core.kernel.pagination import Cursor
from cinema_core.payments.payment import Payment
from cinema_core.ports import OutboxBacklog
from cinema_core.reports.figures import DailySales, SalesFilter, SessionTally
from cinema_core.reports.goods import SoldGoods
from cinema_core.reports.statement import StatementGroup
from cinema_core.rooms.layout import Room, plan
from cinema_core.rooms.seats import Seat
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.sessions.session import Session, SessionFilter

from . import rows
from .after_sale import AfterSaleStatements
from .driver_errors import is_transient, sqlstate, unavailable
from .engine import engine_for, probing
from .executor import Executor
from .fresh_reads import FreshReads
from .payments import PaymentStatements
from .sql import outbox as outbox_sql
from .sql import products as product_sql
from .sql import quotas as quota_sql
from .sql import sales as sales_sql
from .sql import seats as seat_sql
from .sql import sessions as session_sql
from .sql import shifts
from .tables import newest_events, outbox, reservations, rooms, sales, sessions
from .transaction import PostgresTransaction

T = TypeVar("T")
log = logging.getLogger("cinema.postgres")

# pg_try_advisory_xact_lock key of the outbox relay ("outbox" in ASCII).
RELAY_LOCK = 0x6F7574626F78
# Re-runs of a transaction that hit a deadlock or serialization failure, and the base of the
# jittered exponential pause between them. Lock ordering makes these rare; the retry is the net.
ATTEMPTS = 8
BACKOFF = 0.005
# Sessions whose last seat read each process keeps (one 2,600-seat session is ~0.5 MiB).
SEAT_READS_KEPT = 16


# What GET /sessions reads: a session with its room (rows.session_from_row).
_SESSION_WITH_ROOM = sa.select(
    sessions.c.id,
    sessions.c.movie,
    sessions.c.starts_at,
    sessions.c.duration_minutes,
    sessions.c.prices,
    sessions.c.currency,
    sessions.c.ticket_types,
    sessions.c.forbid_single_gaps,
    sessions.c.cancelled_at,
    sessions.c.rating,
    rooms.c.id.label("room_id"),
    rooms.c.cinema.label("room_cinema"),
    rooms.c.name.label("room_name"),
    rooms.c.layout.label("room_layout"),
    rooms.c.private.label("room_private"),
).join_from(sessions, rooms, rooms.c.id == sessions.c.room_id)


@functools.lru_cache(maxsize=256)
def _seats_for_sale(layout: tuple[str, ...]) -> tuple[tuple[Seat, ...], dict[Any, int]]:
    """A layout's seats for sale, each free, in label order, and the position of each by
    (row, number). Rooms never change, so sessions of one room share these; the free seats
    are shared by every read too, which never changes the seats it hands out."""
    free = tuple(Seat(seat.label) for seat in plan(layout).for_sale)
    return free, {(seat.label.row, seat.label.number): index for index, seat in enumerate(free)}


# A kept read of a session's seats: its snapshot, the seats, and its layout's free seats and
# positions (_seats_for_sale).
_SeatRead = tuple[str, list[Seat], tuple[Seat, ...], dict[Any, int]]


def _changed(
    seats: list[Seat],
    free: tuple[Seat, ...],
    position: dict[Any, int],
    found: Sequence[Any],
) -> list[Seat]:
    """``seats`` with each seat of ``found`` put in its place: a free one as the layout's free
    seat, the others as read. Seat rows are those whose first column is NULL (the head row of
    the statement, wherever it comes, is not), and end in sql.seats.COLUMNS."""
    for head, *_, row, number, held_by, hold_expires_at, sale_id, ticket in found:
        if head is not None:
            continue
        index = position[(row, number)]
        if held_by is None and sale_id is None and ticket is None and hold_expires_at is None:
            seats[index] = free[index]
        else:
            seats[index] = Seat(free[index].label, held_by, hold_expires_at, sale_id, ticket)
    return seats


def _like_pattern(text: str) -> str:
    """A LIKE pattern for ``text`` anywhere in a string, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PostgresReservationRepo:
    """The ``ReservationRepo`` port on PostgreSQL (SQLAlchemy Core over psycopg 3).

    ``engine_or_url``: an engine to share, or a URL to build (and later dispose of) one.
    Every statement goes through an ``executor.Executor``: the transactions' (``atomic``) and
    the reads', each read one autocommit statement.
    """

    # The unit of work ``atomic`` hands out, on its connection.
    transaction: type[PostgresTransaction] = PostgresTransaction

    def __init__(
        self,
        engine_or_url: Engine | str,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
    ):
        self.engine, self._owns_engine = engine_for(engine_or_url)
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._attempts = attempts
        self._backoff = backoff
        # The last read of each session's seats: the snapshot it was taken at (sql.seats
        # CHANGED_SEATS) and the seats (see seats()). Callers never change the list they are
        # handed.
        self._seat_reads: dict[UUID, _SeatRead] = {}
        self._fresh_seats: FreshReads[UUID, list[Seat]] = FreshReads()
        # Called after each commit that recorded events (e.g. to wake the relay at once).
        self.on_commit: list[Callable[[], None]] = []
        # The current trace's W3C traceparent, stamped on the events a transaction records
        # (bootstrap sets it when tracing is on; None: the outbox carries none).
        self.traceparent: Callable[[], str | None] | None = None

    def atomic(self, work: Callable[[PostgresTransaction], T]) -> T:
        """Run ``work`` in one transaction on one connection; see ``ReservationRepo.atomic``.

        Deadlocks and serialization failures re-run it (up to ``attempts`` times in all);
        connection failures raise ``StoreUnavailable``; errors ``work`` raises pass unchanged.
        """
        # READ COMMITTED is enough: every row a decision depends on is locked first (seats and
        # the reservation FOR UPDATE), and a locked row is always read at its newest committed
        # version; the rest (sale_seats, sales.reservation_id) is guarded by constraints. A
        # stricter level would only turn waits into serialization failures to retry.
        attempt = 1
        reconnected = False
        while True:
            committing = False
            try:
                with self.engine.connect() as connection, connection.begin():
                    tx = self.transaction(connection)
                    result = work(tx)
                    tx.flush(None if self.traceparent is None else self.traceparent())
                    committing = True
            except sa.exc.DBAPIError as error:
                if error.connection_invalidated and not committing and not reconnected:
                    # The connection was dead (server restart, idle timeout): nothing was
                    # committed, and SQLAlchemy has invalidated the pool's older connections, so
                    # one more run on a fresh one is safe. This replaces a pre-ping, which cost
                    # a round trip on every checkout. A failure during COMMIT is not re-run:
                    # the commit may have happened.
                    reconnected = True
                    continue
                if is_transient(error) and attempt < self._attempts:
                    log.info(
                        "transaction conflict (%s), retrying",
                        sqlstate(error),
                        extra={"sqlstate": sqlstate(error), "attempt": attempt},
                    )
                    time.sleep(random.uniform(0, self._backoff * 2**attempt))
                    attempt += 1
                    continue
                raise self._failed(error, "running a transaction") from error
            except sa.exc.SQLAlchemyError as error:
                raise self._failed(error, "running a transaction") from error
            if tx.emitted:
                for callback in self.on_commit:
                    callback()
            return result

    def get_room(self, room_id: UUID) -> Room | None:
        query = sa.select(rooms).where(rooms.c.id == room_id)
        row = self._read("reading a room", lambda db: db.core(query).mappings().first())
        return rows.room_from_row(row) if row else None

    def list_products(self) -> list[Product]:
        found = self._read(
            "reading the products",
            lambda db: db.execute(product_sql.ALL_PRODUCTS, {}, mapped=True).fetchall(),
        )
        return [rows.product_from_row(row) for row in found]

    def list_rooms(self, cinema: str | None) -> list[Room]:
        # Code-point order, as Python sorts strings (and the in-memory store lists rooms),
        # whatever the database's collation; rooms_cinema_name_key is in that order too.
        query = (
            sa.select(rooms)
            .where(sa.not_(rooms.c.private))
            .order_by(rooms.c.cinema.collate("C"), rooms.c.name.collate("C"), rooms.c.id)
        )
        if cinema is not None:
            query = query.where(rooms.c.cinema == cinema)
        found = self._read("listing rooms", lambda db: db.core(query).mappings().all())
        return [rows.room_from_row(row) for row in found]

    def get_session(self, session_id: UUID) -> Session | None:
        row = self._read(
            "reading a session",
            lambda db: db.execute(
                session_sql.GET_SESSION, {"id": session_id}, mapped=True
            ).fetchone(),
        )
        return rows.session_from_row(row) if row else None

    def list_sessions(
        self, after: Cursor | None, limit: int, where: SessionFilter
    ) -> list[Session]:
        # Each filter has its index: cinema (cinema, starts_at, id), movie the trigrams of
        # movie_lower, the bounds and the cursor (starts_at, id).
        query = _SESSION_WITH_ROOM.order_by(sessions.c.starts_at, sessions.c.id).limit(limit)
        if after is not None:
            query = query.where(
                sa.tuple_(sessions.c.starts_at, sessions.c.id) > sa.tuple_(after.at, after.id)
            )
        if where.cinema is not None:
            query = query.where(sessions.c.cinema == where.cinema)
        if where.on_sale_at is not None:
            # SessionFilter.admits's rule (Session.status_at), pinned to it by the repo contract.
            close = sa.func.least(
                sessions.c.starts_at + sa.literal(where.sales_close), sessions.c.ends_at
            )
            query = query.where(sessions.c.cancelled_at.is_(None), close > where.on_sale_at)
        if where.movie is not None:
            # Both sides lowered by Python, as SessionFilter.admits compares them.
            query = query.where(
                sessions.c.movie_lower.like(_like_pattern(where.movie.lower()), escape="\\")
            )
        if where.starts_from is not None:
            query = query.where(sessions.c.starts_at >= where.starts_from)
        if where.starts_to is not None:
            query = query.where(sessions.c.starts_at <= where.starts_to)
        found = self._read("listing sessions", lambda db: db.core(query).mappings().all())
        return [rows.session_from_row(row) for row in found]

    def available_counts(self, session_ids: Sequence[UUID], now: datetime) -> dict[UUID, int]:
        if not session_ids:
            return {}
        # The rule in SQL, counted from the partial index of taken seats: sql/seats.py.
        found = self._read(
            "counting available seats",
            lambda db: db.execute(
                seat_sql.AVAILABLE_COUNTS, {"ids": list(session_ids), "now": now}
            ).fetchall(),
        )
        return {id: int(available) for id, available in found}

    def ticket_counts(
        self, session_ids: Sequence[UUID], now: datetime
    ) -> dict[UUID, dict[str, int]]:
        if not session_ids:
            return {}
        rows_found = self._read(
            "counting tickets",
            lambda db: db.execute(
                quota_sql.TICKET_COUNTS, {"ids": list(session_ids), "now": now}
            ).fetchall(),
        )
        counts: dict[UUID, dict[str, int]] = {id: {} for id in session_ids}
        for id, ticket, count in rows_found:
            counts[id][ticket] = int(count)
        return counts

    def seats(self, session_id: UUID) -> list[Seat]:
        # The readers of one session that ask while its read runs share the next one.
        return self._fresh_seats.read(session_id, lambda: self._read_seats(session_id))

    def _read_seats(self, session_id: UUID) -> list[Seat]:
        last = self._seat_reads.get(session_id)
        if last is not None:
            return self._seats_since(session_id, *last)
        found = self._read(
            "reading the seat map",
            lambda db: db.execute(seat_sql.TOUCHED_SEATS, {"session_id": session_id}).fetchall(),
        )
        head = next((row for row in found if row[0] is not None), None)
        if head is None:
            return []
        layout, snapshot = head[:2]
        free, position = _seats_for_sale(tuple(layout))
        # Only the seats that are not plainly free come from the database, with the room's
        # layout; every other seat for sale is a free seat. add_session stores exactly the
        # room's seats for sale, so this is every seat of the session, in label order, as stored.
        every = _changed(list(free), free, position, found)
        self._keep_seats(session_id, (snapshot, every, free, position))
        return every

    def _seats_since(
        self,
        session_id: UUID,
        since: str,
        kept: list[Seat],
        free: tuple[Seat, ...],
        position: dict[Any, int],
    ) -> list[Seat]:
        found = self._read(
            "checking the seat map",
            lambda db: db.execute(
                seat_sql.CHANGED_SEATS, {"session_id": session_id, "since": since}
            ).fetchall(),
        )
        snapshot = next(row[0] for row in found if row[0] is not None)
        # Nothing changed: the same list of the same seats, which lets SeatMaps.seat_map hand
        # out its last map (and the HTTP layer its encoded body) instead of rebuilding it. A
        # change hands back every other seat as the very object it handed before, so the map
        # is patched at the changed seats alone.
        every = _changed(kept.copy(), free, position, found) if len(found) > 1 else kept
        self._keep_seats(session_id, (snapshot, every, free, position))
        return every

    def _keep_seats(self, session_id: UUID, read: _SeatRead) -> None:
        if session_id not in self._seat_reads and len(self._seat_reads) >= SEAT_READS_KEPT:
            self._seat_reads.clear()  # atomic, unlike evicting one while other threads write
        self._seat_reads[session_id] = read

    def get_reservation(self, reservation_id: UUID) -> Reservation | None:
        query = sa.select(reservations).where(reservations.c.id == reservation_id)
        row = self._read("reading a reservation", lambda db: db.core(query).mappings().first())
        return rows.reservation_from_row(row) if row else None

    def get_sale(self, sale_id: UUID) -> Sale | None:
        query = sa.select(sales).where(sales.c.id == sale_id)
        row = self._read("reading a sale", lambda db: db.core(query).mappings().first())
        return rows.sale_from_row(row) if row else None

    def purchases(self, user_id: str, before: Cursor | None, limit: int) -> list[Sale]:
        query = (
            sa.select(sales)
            .where(sales.c.user_id == user_id)
            .order_by(sales.c.paid_at.desc(), sales.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(
                sa.tuple_(sales.c.paid_at, sales.c.id) < sa.tuple_(before.at, before.id)
            )
        found = self._read("reading purchases", lambda db: db.core(query).mappings().all())
        return [rows.sale_from_row(row) for row in found]

    def tickets(self, sale_id: UUID) -> list[Ticket]:
        return self._read("reading tickets", lambda db: AfterSaleStatements(db).tickets(sale_id))

    def get_ticket(self, ticket_id: UUID) -> Ticket | None:
        return self._read(
            "reading a ticket", lambda db: AfterSaleStatements(db).get_ticket(ticket_id)
        )

    def session_tally(self, session_id: UUID, now: datetime) -> SessionTally:
        return self._read(
            "counting a session's report",
            lambda db: AfterSaleStatements(db).session_tally(session_id, now),
        )

    def statement_groups(self, session_id: UUID) -> list[StatementGroup]:
        return self._read(
            "counting a session's statement",
            lambda db: AfterSaleStatements(db).statement_groups(session_id),
        )

    def sales_by_day(self, where: SalesFilter) -> list[DailySales]:
        return self._read(
            "counting sales by day", lambda db: AfterSaleStatements(db).sales_by_day(where)
        )

    def sales_with_goods(self, where: SalesFilter) -> list[SoldGoods]:
        carrying = sa.or_(
            sales.c.products != sa.text("'[]'::jsonb"), sales.c.promo_code.is_not(None)
        )
        query = (
            sa.select(sales, sessions.c.cinema, sessions.c.movie)
            .join(sessions, sessions.c.id == sales.c.session_id)
            .where(carrying)
            .order_by(sales.c.paid_at, sales.c.id)
        )
        if where.paid_from is not None:
            query = query.where(sales.c.paid_at >= where.paid_from)
        if where.paid_before is not None:
            query = query.where(sales.c.paid_at < where.paid_before)
        if where.cinema is not None:
            query = query.where(sessions.c.cinema == where.cinema)
        if where.session_id is not None:
            query = query.where(sales.c.session_id == where.session_id)
        found = self._read("reading the goods of sales", lambda db: db.core(query).mappings().all())
        return [SoldGoods(rows.sale_from_row(row), row["cinema"], row["movie"]) for row in found]

    def get_payment(self, payment_id: UUID) -> Payment | None:
        return self._read(
            "reading a payment", lambda db: PaymentStatements(db).get_payment(payment_id)
        )

    def get_shift(self, shift_id: UUID) -> Shift | None:
        def read(db: Executor) -> Shift | None:
            row = db.execute(shifts.GET_SHIFT, {"id": shift_id}, mapped=True).fetchone()
            return rows.shift_from_row(row) if row else None

        return self._read("reading a shift", read)

    def open_shift(self, operator: str) -> Shift | None:
        def read(db: Executor) -> Shift | None:
            row = db.execute(shifts.OPEN_SHIFT, {"operator": operator}, mapped=True).fetchone()
            return rows.shift_from_row(row) if row else None

        return self._read("reading an operator's open shift", read)

    def shift_sales(self, shift_id: UUID) -> list[Sale]:
        def read(db: Executor) -> list[Sale]:
            found = db.execute(sales_sql.SHIFT_SALES, {"shift_id": shift_id}, mapped=True)
            return [rows.sale_from_row(row) for row in found]

        return self._read("reading a shift's sales", read)

    def payment_of_sale(self, sale_id: UUID) -> Payment | None:
        return self._read(
            "reading a sale's payment", lambda db: PaymentStatements(db).payment_of_sale(sale_id)
        )

    def payments_of_reservation(self, reservation_id: UUID) -> list[Payment]:
        return self._read(
            "reading a reservation's payments",
            lambda db: PaymentStatements(db).payments_of_reservation(reservation_id),
        )

    def events(
        self,
        *,
        type: str | None,
        session_id: UUID | None,
        before: int | None,
        limit: int,
        published_only: bool = False,
    ) -> list[tuple[int, Event]]:
        query = newest_events(
            type=type,
            session_id=None if session_id is None else str(session_id),
            before=before,
            limit=limit,
            published_only=published_only,
        )
        found = self._read("reading events", lambda db: db.core(query).mappings().all())
        return [(row["seq"], rows.event_from_row(row)) for row in found]

    def relay_outbox(self, publish: Callable[[Sequence[Event]], None], limit: int) -> int:
        try:
            with self.engine.connect() as connection, connection.begin():
                db = Executor(connection)
                # One relay at a time across every process: the others return at once rather
                # than queue, and the lock goes with the transaction however it ends.
                if not db.scalar(outbox_sql.TRY_RELAY_LOCK, {"key": RELAY_LOCK}):
                    return 0
                batch = db.execute(
                    outbox_sql.UNPUBLISHED_EVENTS, {"limit": limit}, mapped=True
                ).fetchall()
                if not batch:
                    return 0
                # If publishing raises, the transaction rolls back and the events stay
                # unpublished for the next call.
                publish([rows.event_from_row(row) for row in batch])
                db.execute(
                    outbox_sql.MARK_PUBLISHED, {"seqs": rows.array(row["seq"] for row in batch)}
                )
                return len(batch)
        except sa.exc.SQLAlchemyError as error:
            raise self._failed(error, "relaying the outbox") from error

    def outbox_backlog(self) -> OutboxBacklog:
        row = self._read(
            "reading the outbox backlog",
            lambda db: db.execute(outbox_sql.BACKLOG, {}, mapped=True).fetchone(),
        )
        assert row is not None  # an aggregate always has its one row
        return OutboxBacklog(int(row["count"]), row["oldest_at"])

    def ping(self) -> None:
        with probing():
            self._read("answering a ping", lambda db: db.scalar("SELECT 1", {}))

    def close(self) -> None:
        """Dispose of the engine if this repo built it."""
        if self._owns_engine:
            self.engine.dispose()

    def unpublished(self) -> int:
        """How many recorded events the relay has not yet published."""
        query = (
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
        return int(
            self._read("counting unpublished events", lambda db: db.core(query).scalar_one())
        )

    def _read(self, doing: str, read: Callable[[Executor], T]) -> T:
        # Autocommit: the read is its one statement, with no BEGIN and no ROLLBACK; a rollback
        # would also make psycopg drop the statements it prepared on the connection.
        try:
            try:
                with self._reader.connect() as connection:
                    return read(Executor(connection))
            except sa.exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # A dead connection (see atomic): once more on a fresh one; reads are safe to
                # repeat.
                with self._reader.connect() as connection:
                    return read(Executor(connection))
        except sa.exc.SQLAlchemyError as error:
            raise self._failed(error, doing) from error

    @staticmethod
    def _failed(error: sa.exc.SQLAlchemyError, doing: str) -> Exception:
        if not isinstance(error, sa.exc.OperationalError | sa.exc.TimeoutError):
            # Not an outage: a bug or a schema that does not match. Loud in the logs.
            log.error("database error while %s", doing, exc_info=error)
        return unavailable(error, doing)
