"""One unit of work on one PostgreSQL connection: the ``Transaction`` port.

Every decision the use cases take is taken on rows this transaction has locked (seats FOR
UPDATE, the reservation FOR UPDATE, the session's quotas FOR NO KEY UPDATE), and the database's
own constraints refuse what must never happen whatever the code above does: a second sale of a
seat (``sale_seats``' primary key) or of a reservation (``sales.reservation_id`` unique), two
sessions of a room at once (``sessions_room_no_overlap``), two rooms of a name in a cinema
(``rooms_cinema_name_key``). Every statement goes through one ``executor.Executor``; the writes
nothing reads back ride along with the next statement (riders.Riders).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinema_core.after_sale.admissions import Ticket
from cinema_core.after_sale.refunds import Refund
from cinema_core.counter.shifts import Shift
from cinema_core.errors import (
    ProductExists,
    ProductSoldOut,
    PromoCodeExists,
    RoomBusy,
    RoomExists,
    SeatsUnavailable,
    SessionNotFound,
    ShiftOpen,
    UnknownProduct,
)
from cinema_core.events.envelopes import Event
from cinema_core.goods.products import Product
from cinema_core.goods.promo_codes import PromoCode
from cinema_core.kernel.money import Money
from cinema_core.payments.payment import Payment
from cinema_core.ports import SessionLockMode
from cinema_core.rooms.layout import Room
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.sessions.session import Session

from . import rows
from .after_sale import AfterSaleStatements
from .driver_errors import constraint_name
from .executor import Executor
from .payments import PaymentStatements
from .sql import (
    outbox,
    products,
    promo_codes,
    quotas,
    reservations,
    rooms,
    sales,
    seats,
    sessions,
    shifts,
)


class PostgresTransaction:
    """The ``Transaction`` port on an open connection inside ``PostgresReservationRepo.atomic``.

    The statements that take the row locks are class attributes, so that what each method
    locks is read in one place; those after the sale are ``after_sale``'s, which the tickets,
    refunds and check-ins are handed to on this transaction's executor.
    """

    LOCK_SEATS: ClassVar[str] = seats.LOCK_SEATS
    TRY_LOCK_SEATS: ClassVar[str] = seats.TRY_LOCK_SEATS
    LOCK_SESSION_AND_SEATS: ClassVar[str] = sessions.LOCK_SESSION_AND_SEATS
    TRY_LOCK_SESSION_AND_SEATS: ClassVar[str] = sessions.TRY_LOCK_SESSION_AND_SEATS
    LOCK_RESERVATION_AND_SEATS: ClassVar[str] = reservations.LOCK_RESERVATION_AND_SEATS
    LOCK_SESSION_RESERVATION_AND_SEATS: ClassVar[str] = (
        reservations.LOCK_SESSION_RESERVATION_AND_SEATS
    )
    TAKE_STOCK: ClassVar[str] = products.TAKE_STOCK
    LOCK_PROMO_CODE: ClassVar[str] = promo_codes.LOCK_PROMO_CODE
    LOCK_SHIFT: ClassVar[str] = shifts.LOCK_SHIFT
    LOCK_SHIFT_SHARED: ClassVar[str] = shifts.LOCK_SHIFT_SHARED
    after_sale: ClassVar[type[AfterSaleStatements]] = AfterSaleStatements
    payments: ClassVar[type[PaymentStatements]] = PaymentStatements

    def __init__(self, connection: Connection):
        self._db = Executor(connection)
        self._after_sale = self.after_sale(self._db)
        self._payments = self.payments(self._db)
        self._events: list[Event] = []
        self._emitted = 0

    def add_room(self, room: Room) -> None:
        added = self._db.execute(rooms.ADD_ROOM, rows.room_values(room)).fetchone()
        if added is None:
            # rooms_cinema_name_key skipped it (sql.rooms.ADD_ROOM); the transaction goes on.
            raise RoomExists()

    def add_session(self, session: Session) -> None:
        if session.room.private:
            self.add_room(session.room)
        values = rows.session_values(session)
        values["prices"] = json.dumps(values["prices"])
        values["ticket_types"] = json.dumps(values["ticket_types"])
        # Skipped, not raised, when sessions_room_no_overlap refuses it (sql.sessions.ADD_SESSION).
        if self._db.execute(sessions.ADD_SESSION, values).fetchone() is None:
            other = self._db.execute(
                sessions.OVERLAPPING_SESSION,
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
        # Every seat for sale (Session.labels(), the one place that names them; blocked seats
        # are never stored) in one statement.
        labels = session.labels()
        self._db.execute(
            seats.ADD_SEATS,
            {
                "session_id": session.id,
                "rows": rows.array(label.row for label in labels),
                "numbers": rows.array(label.number for label in labels),
            },
        )

    def lock_session(self, session: Session, *, mode: SessionLockMode = "purchase") -> Session:
        row = self._db.execute(sessions.LOCK_SESSION[mode], {"id": session.id}, mapped=True)
        found = row.fetchone()
        if found is None:
            raise SessionNotFound()
        return attrs.evolve(session, **found)

    def lock_session_and_seats(
        self, session: Session, labels: Sequence[SeatLabel], *, skip_locked: bool = False
    ) -> tuple[Session, list[Seat]]:
        sql = self.TRY_LOCK_SESSION_AND_SEATS if skip_locked else self.LOCK_SESSION_AND_SEATS
        keys = sorted({(label.row, label.number) for label in labels})
        found = self._db.execute(
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
        seats_ = [rows.seat_from_row(row) for row in found if row["row"] is not None]
        return _current(session, found[0]), seats_

    def lock_session_reservation_and_seats(
        self, reservation_id: UUID, kept: Callable[[UUID], Session]
    ) -> tuple[Session, Reservation, list[Seat]] | None:
        found = self._db.execute(
            self.LOCK_SESSION_RESERVATION_AND_SEATS, {"id": reservation_id}, mapped=True
        ).fetchall()
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
                "rating",
            )
        }
        # A savepoint, so that a refusal by sessions_room_no_overlap leaves the transaction
        # usable to name the other session.
        try:
            with self._db.savepoint():
                self._db.execute(sessions.SAVE_SESSION, params)
        except sa.exc.DBAPIError as error:
            if constraint_name(error.orig) != "sessions_room_no_overlap":
                raise
            refused = error
        else:
            return
        other = self._db.execute(
            sessions.OVERLAPPING_SESSION,
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
        found = self._db.execute(
            reservations.LOCK_PENDING, {"session_id": session_id}, mapped=True
        ).fetchall()
        return [rows.reservation_from_row(row) for row in found]

    def session_sales(self, session_id: UUID) -> list[Sale]:
        found = self._db.execute(
            sales.SESSION_SALES, {"session_id": session_id}, mapped=True
        ).fetchall()
        return [rows.sale_from_row(row) for row in found]

    def quota_usage(
        self, session_id: UUID, tickets: Sequence[str], now: datetime
    ) -> dict[str, int]:
        if not tickets:
            return {}
        params = {"session_id": session_id, "tickets": rows.array(tickets), "now": now}
        self._lock_quotas(params)
        found = self._db.execute(quotas.QUOTA_USAGE, params).fetchall()
        counts = dict.fromkeys(tickets, 0)
        counts.update({ticket: int(count) for ticket, count in found})
        return counts

    def _lock_quotas(self, params: dict[str, Any]) -> None:
        # A statement of its own, before the count, on purpose. Under READ COMMITTED each
        # statement reads from a snapshot taken when it starts; the lock may be granted only
        # once the previous holder commits, so the count must start after that, in a statement
        # of its own, to see the seats the previous holder just took. Counted in one statement
        # with the lock, it would count from before the wait and let the quota be passed.
        self._db.execute(quotas.LOCK_QUOTAS, params)

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        return self._seats(
            self.LOCK_SEATS,
            session_id,
            labels,
        )

    def try_lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        return self._seats(
            self.TRY_LOCK_SEATS,
            session_id,
            labels,
        )

    def _seats(self, sql: str, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        if not labels:
            return []
        keys = sorted({(label.row, label.number) for label in labels})
        found = self._db.execute(
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
        # One statement for all of them, the seats as parallel arrays (seats.SAVE_SEATS),
        # riding along with the next one.
        self._db.ride(
            "seats",
            seats.SAVE_SEATS,
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

    # -- the counter's goods ------------------------------------------------------------------

    def add_product(self, product: Product) -> None:
        if self._db.execute(products.ADD_PRODUCT, rows.product_values(product)).fetchone() is None:
            raise ProductExists()

    def products(self, codes: Sequence[str]) -> list[Product]:
        found = self._db.execute(
            products.PRODUCTS, {"codes": rows.array(sorted(set(codes)))}, mapped=True
        )
        return [rows.product_from_row(row) for row in found]

    def take_stock(self, wanted: Mapping[str, int]) -> None:
        # One product a statement, in code order: the row locks are taken in one global
        # order, which a single UPDATE over many rows would not promise.
        taken: dict[str, int] = {}
        for code in sorted(wanted):
            units = wanted[code]
            params = {"code": code, "units": units}
            if self._db.execute(self.TAKE_STOCK, params).fetchone() is not None:
                taken[code] = units
                continue
            left = self._db.execute(products.STOCK_LEFT, {"code": code}).fetchone()
            if left is None:
                self.give_back_stock(taken)
                raise UnknownProduct([code])
            if left[0] is not None:
                self.give_back_stock(taken)
                raise ProductSoldOut(code, int(left[0]))

    def give_back_stock(self, wanted: Mapping[str, int]) -> None:
        for code in sorted(wanted):
            self._db.execute(products.GIVE_BACK_STOCK, {"code": code, "units": wanted[code]})

    def restock(self, code: str, units: int) -> Product | None:
        row = self._db.execute(
            products.RESTOCK, {"code": code, "units": units}, mapped=True
        ).fetchone()
        if row is not None:
            return rows.product_from_row(row)
        found = self.products([code])
        return found[0] if found else None

    def edit_product(self, code: str, name: str | None, price: Money | None) -> Product | None:
        params = {
            "code": code,
            "name": name,
            "price_cents": None if price is None else price.cents,
            "currency": None if price is None else price.currency,
        }
        row = self._db.execute(products.EDIT_PRODUCT, params, mapped=True).fetchone()
        return None if row is None else rows.product_from_row(row)

    def add_promo_code(self, promo: PromoCode) -> None:
        values = rows.promo_code_values(promo)
        if self._db.execute(promo_codes.ADD_PROMO_CODE, values).fetchone() is None:
            raise PromoCodeExists()

    def promo_code_uses(
        self, code: str, user_id: str, now: datetime, excluding: UUID
    ) -> tuple[PromoCode, int, int] | None:
        row = self._db.execute(self.LOCK_PROMO_CODE, {"code": code}, mapped=True).fetchone()
        if row is None:
            return None
        params = {"code": code, "user_id": user_id, "now": now, "excluding": excluding}
        counted = self._db.execute(promo_codes.PROMO_CODE_USES, params).fetchone()
        assert counted is not None  # an aggregate always returns its one row
        return rows.promo_code_from_row(row), int(counted[0]), int(counted[1])

    def add_reservation(self, reservation: Reservation) -> None:
        # A second reservation with this id is refused by reservations_pkey, as ValueError
        # (executor.REFUSALS), when the insert goes out.
        self._db.ride(
            "reservations", reservations.ADD_RESERVATION, rows.reservation_values(reservation)
        )

    def lock_reservation(self, reservation_id: UUID) -> Reservation | None:
        row = self._db.execute(
            reservations.LOCK_RESERVATION, {"id": reservation_id}, mapped=True
        ).fetchone()
        return rows.reservation_from_row(row) if row else None

    def lock_reservation_and_seats(
        self, reservation_id: UUID
    ) -> tuple[Reservation, list[Seat]] | None:
        found = self._db.execute(
            self.LOCK_RESERVATION_AND_SEATS, {"id": reservation_id}, mapped=True
        ).fetchall()
        return _reservation_with_seats(found) if found else None

    def save_reservation(self, reservation: Reservation) -> None:
        self._db.ride(
            "reservations", reservations.SAVE_RESERVATION, rows.reservation_values(reservation)
        )

    def add_sale(self, sale: Sale) -> None:
        labels = sorted(set(sale.seats))
        values = rows.sale_values(sale)
        values["rows"] = rows.array(label.row for label in labels)
        values["numbers"] = rows.array(label.number for label in labels)
        # One statement; a refusal by the constraints comes back as counts, not as an error,
        # so the transaction stays usable (as with the in-memory store). See sql.sales.ADD_SALE.
        added = self._db.execute(sales.ADD_SALE, values, carries=True).fetchone()
        assert added is not None  # the statement's SELECT always returns its one row
        sales_added, seats_sold = int(added[0]), set(added[1])
        if sales_added == 0:
            raise ValueError(f"reservation {sale.reservation_id} is already sold")
        if len(seats_sold) < len(labels):
            self._db.execute(sales.UNDO_SALE_SEATS, {"id": sale.id})
            self._db.execute(sales.UNDO_SALE, {"id": sale.id})
            raise SeatsUnavailable(
                [label for label in labels if str(label) not in seats_sold],
                "A seat of this sale is already sold.",
            )

    def get_sale(self, sale_id: UUID) -> Sale | None:
        row = self._db.execute(sales.GET_SALE, {"id": sale_id}, mapped=True).fetchone()
        return rows.sale_from_row(row) if row else None

    # -- the counter's shifts ---------------------------------------------------------------

    def add_shift(self, shift: Shift) -> None:
        values = rows.shift_values(shift)
        if self._db.execute(shifts.ADD_SHIFT, values).fetchone() is None:
            # shifts_one_open_per_operator skipped it (sql.shifts.ADD_SHIFT).
            other = self._db.execute(shifts.OPEN_SHIFT, values).fetchone()
            raise ShiftOpen(None if other is None else other[0])

    def lock_shift(self, shift_id: UUID, *, shared: bool = False) -> Shift | None:
        lock = self.LOCK_SHIFT_SHARED if shared else self.LOCK_SHIFT
        row = self._db.execute(lock, {"id": shift_id}, mapped=True).fetchone()
        return rows.shift_from_row(row) if row else None

    def save_shift(self, shift: Shift) -> None:
        values = rows.shift_values(shift)
        self._db.execute(shifts.CLOSE_SHIFT, values)

    def shift_sales(self, shift_id: UUID) -> list[Sale]:
        found = self._db.execute(sales.SHIFT_SALES, {"shift_id": shift_id}, mapped=True)
        return [rows.sale_from_row(row) for row in found]

    # -- after the sale (after_sale.AfterSaleStatements) ----------------------------------------

    def add_tickets(self, tickets: Sequence[Ticket]) -> None:
        self._after_sale.add_tickets(tickets)

    def lock_tickets(self, sale_id: UUID) -> list[Ticket]:
        return self._after_sale.lock_tickets(sale_id)

    def add_refund(self, refund: Refund, *, used_too: bool = False) -> None:
        self._after_sale.add_refund(refund, used_too=used_too)

    def lock_ticket(self, code: str) -> Ticket | None:
        return self._after_sale.lock_ticket(code)

    def check_in(self, ticket: Ticket) -> None:
        self._after_sale.check_in(ticket)

    # -- payments (payments.PaymentStatements) ---------------------------------------------------

    def add_payment(self, payment: Payment) -> None:
        self._payments.add_payment(payment)

    def lock_payment(self, payment_id: UUID) -> Payment | None:
        return self._payments.lock_payment(payment_id)

    def lock_payment_of_charge(self, provider: str, charge_id: str) -> Payment | None:
        return self._payments.lock_payment_of_charge(provider, charge_id)

    def lock_payment_of_sale(self, sale_id: UUID) -> Payment | None:
        return self._payments.lock_payment_of_sale(sale_id)

    def lock_open_payment(self, reservation_id: UUID) -> Payment | None:
        return self._payments.lock_open_payment(reservation_id)

    def save_payment(self, payment: Payment) -> None:
        self._payments.save_payment(payment)

    def lock_payments_due(self, quiet_since: datetime, limit: int) -> list[Payment]:
        return self._payments.lock_payments_due(quiet_since, limit)

    def note_notice(self, provider: str, notice: str) -> bool:
        return self._payments.note_notice(provider, notice)

    def lock_lapsed(self, now: datetime, limit: int) -> list[Reservation]:
        # SKIP LOCKED (reservations.LOCK_LAPSED): each lapsed reservation is expired exactly once
        # however many sweepers run.
        found = self._db.execute(
            reservations.LOCK_LAPSED, {"now": now, "limit": limit}, mapped=True
        )
        return [rows.reservation_from_row(row) for row in found]

    def emit(self, event: Event) -> None:
        # Held until flush(), just before the commit: the events of a unit of work (two for a
        # cancellation or an expiry) then cost one INSERT. Nothing in a transaction reads them.
        self._events.append(event)

    @property
    def emitted(self) -> int:
        return self._emitted

    def flush(self, traceparent: str | None = None) -> None:
        """Write the emitted events to the outbox; ``atomic`` calls it right before committing,
        with the traceparent of the trace they belong to (None: tracing is off)."""
        if self._events:
            if traceparent is not None:
                self._events[:] = [attrs.evolve(e, traceparent=traceparent) for e in self._events]
            # One INSERT for all of them, whatever their number: the events as one JSON array.
            self._db.execute(
                outbox.ADD_EVENTS, {"events": rows.events_json(self._events)}, carries=True
            )
            self._emitted += len(self._events)
            self._events.clear()
        self._db.send_riders()


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
    """A reservation and its seats from the rows of sql.reservations.reservation_and_seats."""
    seats_ = [rows.seat_from_row(row, "seat_") for row in found if row["seat_row"] is not None]
    return rows.reservation_from_row(found[0]), seats_
