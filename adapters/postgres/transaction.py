"""One unit of work on one PostgreSQL connection: the ``Transaction`` port.

Every decision the use cases take is taken on rows this transaction has locked (seats FOR
UPDATE, the reservation FOR UPDATE), and the database's own constraints (``sale_seats``'s
primary key, ``sales.reservation_id`` unique) refuse a second sale whatever the code above does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection

from cinema_core.errors import SeatsUnavailable
from cinema_core.events import Event
from cinema_core.reservations import Reservation, ReservationStatus, Sale
from cinema_core.seats import Seat, SeatLabel
from cinema_core.sessions import Session

from . import rows
from .driver_errors import UNIQUE_VIOLATION, constraint_name, sqlstate
from .tables import outbox, reservations, sale_seats, sales, seats, sessions

_SEAT_KEY = sa.tuple_(seats.c.row, seats.c.number)


class PostgresTransaction:
    """The ``Transaction`` port on an open connection inside ``PostgresReservationRepo.atomic``."""

    def __init__(self, connection: Connection, *, row_locks: bool = True):
        self._conn = connection
        self._row_locks = row_locks
        self._events: list[Event] = []
        self._emitted = 0

    def add_session(self, session: Session) -> None:
        self._conn.execute(sessions.insert().values(rows.session_values(session)))
        # Every seat in one statement: the labels (Session.labels(), the one place that names
        # seats) go as two arrays that unnest() zips into rows. A 2,600-seat room is one round
        # trip, not 2,600 parameter sets.
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

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        if not labels:
            return []
        query = (
            sa.select(seats)
            .where(
                seats.c.session_id == session_id,
                _SEAT_KEY.in_(sorted({(label.row, label.number) for label in labels})),
            )
            .order_by(seats.c.row, seats.c.number)
        )
        if self._row_locks:
            # Rows are locked as they leave the sort, i.e. in label order: two requests for
            # crossed seats ([A1, A3] and [A3, A1]) queue on A1 instead of deadlocking. Under
            # READ COMMITTED a locked row is re-read at its newest committed version, so a
            # request that waited sees the hold or sale the winner made.
            query = query.with_for_update()
        return [rows.seat_from_row(row) for row in self._conn.execute(query).mappings()]

    def save_seats(self, session_id: UUID, seats_: Sequence[Seat]) -> None:
        if not seats_:
            return
        # One statement for all of them: UPDATE ... FROM (VALUES ...). The casts are needed
        # because a column of NULLs (every hold released) would otherwise read as text.
        values = sa.values(
            sa.column("row", sa.CHAR(1)),
            sa.column("number", sa.Integer),
            sa.column("held_by", pg.UUID(as_uuid=True)),
            sa.column("hold_expires_at", sa.DateTime(timezone=True)),
            sa.column("sale_id", pg.UUID(as_uuid=True)),
            name="v",
        ).data(
            [(s.label.row, s.label.number, s.held_by, s.hold_expires_at, s.sale_id) for s in seats_]
        )
        self._conn.execute(
            seats.update()
            .where(
                seats.c.session_id == session_id,
                seats.c.row == values.c.row,
                seats.c.number == values.c.number,
            )
            .values(
                held_by=sa.cast(values.c.held_by, pg.UUID(as_uuid=True)),
                hold_expires_at=sa.cast(values.c.hold_expires_at, sa.DateTime(timezone=True)),
                sale_id=sa.cast(values.c.sale_id, pg.UUID(as_uuid=True)),
            )
        )

    def add_reservation(self, reservation: Reservation) -> None:
        try:
            self._conn.execute(reservations.insert().values(rows.reservation_values(reservation)))
        except sa.exc.IntegrityError as error:
            if constraint_name(error) == "reservations_pkey":
                raise ValueError(f"reservation {reservation.id} exists") from None
            raise

    def lock_reservation(self, reservation_id: UUID) -> Reservation | None:
        row = (
            self._conn.execute(
                sa.select(reservations).where(reservations.c.id == reservation_id).with_for_update()
            )
            .mappings()
            .first()
        )
        return rows.reservation_from_row(row) if row else None

    def save_reservation(self, reservation: Reservation) -> None:
        values = rows.reservation_values(reservation)
        insert = pg.insert(reservations).values(values)
        self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=[reservations.c.id],
                set_={name: insert.excluded[name] for name in values if name != "id"},
            )
        )

    def add_sale(self, sale: Sale) -> None:
        # A savepoint, so that a refused sale leaves this transaction usable (as the in-memory
        # store does) and its other work intact.
        try:
            with self._conn.begin_nested():
                self._conn.execute(sales.insert().values(rows.sale_values(sale)))
                self._conn.execute(
                    sale_seats.insert(),
                    [
                        {
                            "session_id": sale.session_id,
                            "row": label.row,
                            "number": label.number,
                            "sale_id": sale.id,
                        }
                        for label in sale.seats
                    ],
                )
        except sa.exc.IntegrityError as error:
            if sqlstate(error) != UNIQUE_VIOLATION:
                raise
            if constraint_name(error) == "sales_reservation_id_key":
                raise ValueError(f"reservation {sale.reservation_id} is already sold") from None
            raise SeatsUnavailable(
                self._sold(sale.session_id, sale.seats), "A seat of this sale is already sold."
            ) from None

    def _sold(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[SeatLabel]:
        key = sa.tuple_(sale_seats.c.row, sale_seats.c.number)
        found = self._conn.execute(
            sa.select(sale_seats.c.row, sale_seats.c.number).where(
                sale_seats.c.session_id == session_id,
                key.in_([(label.row, label.number) for label in labels]),
            )
        )
        return [SeatLabel(row, number) for row, number in found]

    def get_sale(self, sale_id: UUID) -> Sale | None:
        row = self._conn.execute(sa.select(sales).where(sales.c.id == sale_id)).mappings().first()
        return rows.sale_from_row(row) if row else None

    def lock_lapsed(self, now: datetime, limit: int) -> list[Reservation]:
        # SKIP LOCKED: a reservation another sweeper (or its payer) holds is left to them, so
        # each lapsed reservation is expired exactly once however many sweepers run.
        query = (
            sa.select(reservations)
            .where(
                reservations.c.status == ReservationStatus.PENDING.value,
                reservations.c.expires_at <= now,
            )
            .order_by(reservations.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [rows.reservation_from_row(row) for row in self._conn.execute(query).mappings()]

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
            self._conn.execute(outbox.insert().values([rows.event_values(e) for e in self._events]))
            self._emitted += len(self._events)
            self._events.clear()
