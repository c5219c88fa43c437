"""The store in memory: the whole box office state in one process, for demos, tests and embedding.

Transactions are serialized on one lock and write to a private copy that is applied only on
commit, so a use case that raises leaves nothing behind, exactly as a rolled-back database would.
"""

from __future__ import annotations

import bisect
import heapq
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs

from cinema_core.after_sale.admissions import Ticket, refuse_refund
from cinema_core.after_sale.refunds import Refund
from cinema_core.counter.shifts import Shift
from cinema_core.errors import (
    AlreadyCheckedIn,
    AlreadyRefunded,
    ProductExists,
    ProductSoldOut,
    PromoCodeExists,
    RoomBusy,
    RoomExists,
    SeatsUnavailable,
    SessionNotFound,
    ShiftOpen,
    TicketRefunded,
    UnknownProduct,
)
from cinema_core.events.envelopes import Event
from cinema_core.goods.products import Product
from cinema_core.goods.promo_codes import PromoCode
from cinema_core.kernel.money import Money
from cinema_core.kernel.pagination import Cursor
from cinema_core.kernel.times import iso
from cinema_core.payments.errors import PaymentInProgress
from cinema_core.payments.payment import Payment, PaymentStatus
from cinema_core.ports import OutboxBacklog, SessionLockMode
from cinema_core.reports.figures import (
    DailySales,
    SalesFilter,
    SessionTally,
    TicketGroup,
    in_report_order,
)
from cinema_core.reports.goods import SoldGoods
from cinema_core.reports.statement import INSTANT, StatementGroup
from cinema_core.rooms.layout import Category, Room
from cinema_core.rooms.seats import Seat, SeatLabel, count_available
from cinema_core.selling.reservations import Reservation, ReservationStatus, Sale
from cinema_core.sessions.session import Session, SessionFilter

T = TypeVar("T")


@attrs.define
class _State:
    rooms: dict[UUID, Room] = attrs.Factory(dict)
    room_names: dict[tuple[str, str], UUID] = attrs.Factory(dict)
    # The ids of the sessions of each room that is not private, for the overlap rule.
    room_sessions: dict[UUID, list[UUID]] = attrs.Factory(dict)
    sessions: dict[UUID, Session] = attrs.Factory(dict)
    session_order: list[tuple[datetime, UUID]] = attrs.Factory(list)
    seats: dict[UUID, dict[SeatLabel, Seat]] = attrs.Factory(dict)
    reservations: dict[UUID, Reservation] = attrs.Factory(dict)
    # (expires_at, id) of reservations stored as pending; stale entries are skipped lazily.
    expiry_queue: list[tuple[datetime, UUID]] = attrs.Factory(list)
    sales: dict[UUID, Sale] = attrs.Factory(dict)
    sold: dict[tuple[UUID, SeatLabel], UUID] = attrs.Factory(dict)
    sold_reservations: set[UUID] = attrs.Factory(set)
    purchases: dict[str, list[tuple[datetime, UUID]]] = attrs.Factory(dict)
    events: list[Event] = attrs.Factory(list)
    published: int = 0
    tickets: dict[UUID, Ticket] = attrs.Factory(dict)
    ticket_codes: dict[str, UUID] = attrs.Factory(dict)
    # Ticket ids by sale and by session, in the order they were issued.
    sale_tickets: dict[UUID, list[UUID]] = attrs.Factory(dict)
    session_tickets: dict[UUID, list[UUID]] = attrs.Factory(dict)
    # The ticket of each seat that is not refunded: the same rule as the database's index.
    live_tickets: dict[tuple[UUID, SeatLabel], UUID] = attrs.Factory(dict)
    refunds: dict[UUID, Refund] = attrs.Factory(dict)
    payments: dict[UUID, Payment] = attrs.Factory(dict)
    # Payment ids by reservation, by provider's charge, by sale; and those reconciliation may
    # owe a look (pending or review): the lookups the database has indexes for.
    reservation_payments: dict[UUID, list[UUID]] = attrs.Factory(dict)
    charge_payments: dict[tuple[str, str], UUID] = attrs.Factory(dict)
    sale_payments: dict[UUID, UUID] = attrs.Factory(dict)
    attempt_keys: dict[str, UUID] = attrs.Factory(dict)
    open_payments: set[UUID] = attrs.Factory(set)
    notices: set[tuple[str, str]] = attrs.Factory(set)
    products: dict[str, Product] = attrs.Factory(dict)
    promo_codes: dict[str, PromoCode] = attrs.Factory(dict)
    # The reservations carrying each promo code: what its uses are counted among.
    promo_reservations: dict[str, set[UUID]] = attrs.Factory(dict)
    shifts: dict[UUID, Shift] = attrs.Factory(dict)
    # The open shift of each operator: the same rule as the database's partial unique index.
    open_shifts: dict[str, UUID] = attrs.Factory(dict)
    shift_sales: dict[UUID, list[UUID]] = attrs.Factory(dict)


# The payments reconciliation looks at once they went unheard of for its interval: pending
# ones (a notice may be lost) and those owing money back (a refused refund is asked again).
_OPEN = (PaymentStatus.PENDING, PaymentStatus.REVIEW)


# Copies made field by field: attrs.evolve introspects the class on every call, at six times
# the cost, and a sale copies a seat or reservation a dozen times. The check below makes a
# field added later fail loudly here instead of being dropped from the copies.
_SEAT_FIELDS = ("label", "held_by", "hold_expires_at", "sale_id", "ticket")
_RESERVATION_FIELDS = (
    "id",
    "session_id",
    "user_id",
    "lines",
    "created_at",
    "expires_at",
    "status",
    "sale_id",
    "products",
    "discount",
)
if tuple(f.name for f in attrs.fields(Seat)) != _SEAT_FIELDS or (
    tuple(f.name for f in attrs.fields(Reservation)) != _RESERVATION_FIELDS
):
    raise ImportError("the in-memory store's copies no longer cover Seat or Reservation")


def _copy_seat(seat: Seat) -> Seat:
    return Seat(seat.label, seat.held_by, seat.hold_expires_at, seat.sale_id, seat.ticket)


def _copy_shift(shift: Shift) -> Shift:
    return attrs.evolve(shift)


def _copy_ticket(t: Ticket) -> Ticket:
    return attrs.evolve(t)


def _copy_reservation(r: Reservation) -> Reservation:
    return Reservation(
        r.id,
        r.session_id,
        r.user_id,
        r.lines,
        r.created_at,
        r.expires_at,
        r.status,
        r.sale_id,
        r.products,
        r.discount,
    )


class _Transaction:
    def __init__(self, state: _State):
        self._state = state
        self.rooms: list[Room] = []
        self.sessions: list[Session] = []
        self.changed_sessions: dict[UUID, Session] = {}
        self.seats: dict[tuple[UUID, SeatLabel], Seat] = {}
        self.reservations: dict[UUID, Reservation] = {}
        self.sales: list[Sale] = []
        self.events: list[Event] = []
        self.tickets: dict[UUID, Ticket] = {}
        self.new_tickets: list[UUID] = []
        self.refunds: list[Refund] = []
        self.payments: dict[UUID, Payment] = {}
        self.notices: set[tuple[str, str]] = set()
        self.new_products: dict[str, Product] = {}
        self.promo_codes: dict[str, PromoCode] = {}
        self.shifts: dict[UUID, Shift] = {}

    def add_room(self, room: Room) -> None:
        # The same rule as the database's unique index: one name per cinema, private rooms apart.
        names = {(r.cinema, r.name) for r in self.rooms if not r.private}
        if not room.private and (
            (room.cinema, room.name) in self._state.room_names or (room.cinema, room.name) in names
        ):
            raise RoomExists()
        self.rooms.append(room)

    def add_session(self, session: Session) -> None:
        if session.room.private:
            self.add_room(session.room)
        else:
            # The database's exclusion constraint: [starts_at, ends_at) of one room never overlap.
            self._refuse_overlap(session)
        self.sessions.append(session)
        for label in session.labels():
            self.seats[(session.id, label)] = Seat(label)

    def _refuse_overlap(self, session: Session) -> None:
        # The database's exclusion constraint: [starts_at, ends_at) of the live (not cancelled)
        # sessions of one room never overlap.
        ids = self._state.room_sessions.get(session.room.id, []) + [
            s.id for s in self.sessions if s.room.id == session.room.id
        ]
        for id in ids:
            other = self._session(id)
            if (
                other is not None
                and other.id != session.id
                and other.cancelled_at is None
                and session.cancelled_at is None
                and other.starts_at < session.ends_at
                and session.starts_at < other.ends_at
            ):
                raise RoomBusy(other.id)

    def _session(self, session_id: UUID) -> Session | None:
        found = self.changed_sessions.get(session_id) or self._state.sessions.get(session_id)
        return found or next((s for s in self.sessions if s.id == session_id), None)

    def lock_session(self, session: Session, *, mode: SessionLockMode = "purchase") -> Session:
        # Transactions are serialized on the store's lock: that is the session's lock.
        found = self._session(session.id)
        if found is None:
            raise SessionNotFound()
        return found

    def lock_session_and_seats(
        self, session: Session, labels: Sequence[SeatLabel], *, skip_locked: bool = False
    ) -> tuple[Session, list[Seat]]:
        return self.lock_session(session), self.lock_seats(session.id, labels)

    def lock_session_reservation_and_seats(
        self, reservation_id: UUID, kept: Callable[[UUID], Session]
    ) -> tuple[Session, Reservation, list[Seat]] | None:
        reservation = self.lock_reservation(reservation_id)
        if reservation is None:
            return None
        session = self.lock_session(kept(reservation.session_id))
        return session, reservation, self.lock_seats(reservation.session_id, reservation.seats)

    def save_session(self, session: Session) -> None:
        if not session.room.private:
            self._refuse_overlap(session)
        self.changed_sessions[session.id] = session

    def lock_pending(self, session_id: UUID) -> list[Reservation]:
        stored = {**self._state.reservations, **self.reservations}
        return sorted(
            (
                _copy_reservation(r)
                for r in stored.values()
                if r.session_id == session_id and r.status is ReservationStatus.PENDING
            ),
            key=lambda r: r.id,
        )

    def session_sales(self, session_id: UUID) -> list[Sale]:
        found = {s.id: s for s in self._state.sales.values() if s.session_id == session_id}
        found.update({s.id: s for s in self.sales if s.session_id == session_id})
        return [found[id] for id in sorted(found)]

    def quota_usage(
        self, session_id: UUID, tickets: Sequence[str], now: datetime
    ) -> dict[str, int]:
        # Transactions are serialized on the store's lock: that is this quota's lock.
        stored = self._state.seats.get(session_id, {})
        seats = {
            **stored,
            **{label: seat for (id, label), seat in self.seats.items() if id == session_id},
        }
        return {
            ticket: sum(1 for seat in seats.values() if seat.counts_for(ticket, now))
            for ticket in tickets
        }

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        stored = self._state.seats.get(session_id, {})
        found = []
        for label in sorted(labels):
            seat = self.seats.get((session_id, label)) or stored.get(label)
            if seat is not None:
                found.append(_copy_seat(seat))
        return found

    def try_lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        # Transactions are serialized on the store's lock: no other one holds a seat now.
        return self.lock_seats(session_id, labels)

    def save_seats(self, session_id: UUID, seats: Sequence[Seat]) -> None:
        for seat in seats:
            self.seats[(session_id, seat.label)] = _copy_seat(seat)

    # -- the counter's goods ------------------------------------------------------------------

    def _product(self, code: str) -> Product | None:
        return self.new_products.get(code) or self._state.products.get(code)

    def add_product(self, product: Product) -> None:
        if self._product(product.code) is not None:
            raise ProductExists()
        self.new_products[product.code] = product

    def products(self, codes: Sequence[str]) -> list[Product]:
        found = (self._product(code) for code in sorted(set(codes)))
        return [product for product in found if product is not None]

    def take_stock(self, wanted: Mapping[str, int]) -> None:
        # Transactions are serialized on the store's lock: that is each product's lock. All
        # judged before any is taken, so a refusal takes nothing.
        found = {code: self._product(code) for code in sorted(wanted)}
        for code, product in found.items():
            if product is None:
                raise UnknownProduct([code])
            if product.left is not None and product.left < wanted[code]:
                raise ProductSoldOut(code, product.left)
        for code, product in found.items():
            if product is not None and product.left is not None:
                self.new_products[code] = attrs.evolve(product, left=product.left - wanted[code])

    def give_back_stock(self, wanted: Mapping[str, int]) -> None:
        for code in sorted(wanted):
            product = self._product(code)
            if product is not None and product.left is not None:
                self.new_products[code] = attrs.evolve(product, left=product.left + wanted[code])

    def restock(self, code: str, units: int) -> Product | None:
        product = self._product(code)
        if product is None or product.left is None:
            return product
        product = attrs.evolve(product, left=product.left + units)
        self.new_products[code] = product
        return product

    def edit_product(self, code: str, name: str | None, price: Money | None) -> Product | None:
        product = self._product(code)
        if product is None:
            return None
        product = attrs.evolve(
            product,
            name=product.name if name is None else name,
            price=product.price if price is None else price,
        )
        self.new_products[code] = product
        return product

    def add_promo_code(self, promo: PromoCode) -> None:
        if promo.code in self._state.promo_codes or promo.code in self.promo_codes:
            raise PromoCodeExists()
        self.promo_codes[promo.code] = promo

    def promo_code_uses(
        self, code: str, user_id: str, now: datetime, excluding: UUID
    ) -> tuple[PromoCode, int, int] | None:
        promo = self.promo_codes.get(code) or self._state.promo_codes.get(code)
        if promo is None:
            return None
        ids = set(self._state.promo_reservations.get(code, set()))
        ids.update(
            r.id for r in self.reservations.values() if r.discount and r.discount.code == code
        )
        uses = user_uses = 0
        for id in ids - {excluding}:
            reservation = self.reservations.get(id) or self._state.reservations[id]
            if self._uses_promo(reservation, now):
                uses += 1
                user_uses += reservation.user_id == user_id
        return promo, uses, user_uses

    def _uses_promo(self, reservation: Reservation, now: datetime) -> bool:
        # The same rule as sql.promo_codes.PROMO_CODE_USES.
        if reservation.status_at(now) is ReservationStatus.PENDING:
            return True
        if reservation.status is not ReservationStatus.CONFIRMED or reservation.sale_id is None:
            return False
        sale = self.get_sale(reservation.sale_id)
        return sale is not None and len(set(sale.refunded)) < len(sale.lines)

    def add_reservation(self, reservation: Reservation) -> None:
        if reservation.id in self._state.reservations:
            raise ValueError(f"reservation {reservation.id} exists")
        self.reservations[reservation.id] = _copy_reservation(reservation)

    def lock_reservation(self, reservation_id: UUID) -> Reservation | None:
        found = self.reservations.get(reservation_id) or self._state.reservations.get(
            reservation_id
        )
        return _copy_reservation(found) if found else None

    def lock_reservation_and_seats(
        self, reservation_id: UUID
    ) -> tuple[Reservation, list[Seat]] | None:
        reservation = self.lock_reservation(reservation_id)
        if reservation is None:
            return None
        return reservation, self.lock_seats(reservation.session_id, reservation.seats)

    def save_reservation(self, reservation: Reservation) -> None:
        self.reservations[reservation.id] = _copy_reservation(reservation)

    def add_sale(self, sale: Sale) -> None:
        # The same guarantees the database's constraints give: one sale per seat and per
        # reservation, whatever the use case above got wrong.
        sold_here = {(s.session_id, label) for s in self.sales for label in s.seats}
        taken = [
            label
            for label in sale.seats
            if (sale.session_id, label) in self._state.sold or (sale.session_id, label) in sold_here
        ]
        if taken:
            raise SeatsUnavailable(taken, "A seat of this sale is already sold.")
        if sale.reservation_id in self._state.sold_reservations or any(
            s.reservation_id == sale.reservation_id for s in self.sales
        ):
            raise ValueError(f"reservation {sale.reservation_id} is already sold")
        self.sales.append(sale)

    def get_sale(self, sale_id: UUID) -> Sale | None:
        return next((s for s in self.sales if s.id == sale_id), None) or self._state.sales.get(
            sale_id
        )

    def lock_lapsed(self, now: datetime, limit: int) -> list[Reservation]:
        due: list[Reservation] = []
        queue = self._state.expiry_queue
        skipped: list[tuple[datetime, UUID]] = []
        while queue and queue[0][0] <= now and len(due) < limit:
            entry = heapq.heappop(queue)
            reservation = self.reservations.get(entry[1]) or self._state.reservations.get(entry[1])
            if (
                reservation is not None
                and reservation.status is ReservationStatus.PENDING
                and reservation.expires_at <= now
                # A hold kept longer is queued twice (see commit): both entries may be due.
                and all(r.id != reservation.id for r in due)
            ):
                due.append(_copy_reservation(reservation))
                skipped.append(entry)
        # Put them back: if this transaction rolls back they are still due; if it commits,
        # their stored status is no longer pending and they are dropped on the next pass.
        for entry in skipped:
            heapq.heappush(queue, entry)
        return due

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def add_tickets(self, tickets: Sequence[Ticket]) -> None:
        state = self._state
        for ticket in tickets:
            key = (ticket.session_id, ticket.seat)
            taken = state.live_tickets.get(key)
            if (taken is not None and self._ticket(taken).refund_id is None) or any(
                (t.session_id, t.seat) == key and t.refund_id is None
                for id, t in self.tickets.items()
                if id in self.new_tickets
            ):
                raise ValueError(f"seat {ticket.seat} already has a ticket")
            if ticket.code in state.ticket_codes or any(
                self.tickets[id].code == ticket.code for id in self.new_tickets
            ):
                raise ValueError("a ticket code was given out twice")
            self.tickets[ticket.id] = _copy_ticket(ticket)
            self.new_tickets.append(ticket.id)

    def _ticket(self, ticket_id: UUID) -> Ticket:
        return self.tickets.get(ticket_id) or self._state.tickets[ticket_id]

    def lock_tickets(self, sale_id: UUID) -> list[Ticket]:
        ids = self._state.sale_tickets.get(sale_id, []) + [
            id for id in self.new_tickets if self.tickets[id].sale_id == sale_id
        ]
        return sorted((_copy_ticket(self._ticket(id)) for id in ids), key=lambda t: t.seat)

    def add_refund(self, refund: Refund, *, used_too: bool = False) -> None:
        # The same guarantees as the database's conditional updates: a ticket is refunded
        # once, and never once it was used (unless ``used_too``), whatever the use case
        # above decided.
        mine = {t.seat: t for t in self.lock_tickets(refund.sale_id)}
        chosen = [mine[label] for label in refund.seats if label in mine]
        if len(chosen) < len(refund.seats):
            raise AlreadyRefunded(set(refund.seats) - set(mine))
        if used_too:
            refunded = [t.seat for t in chosen if t.refund_id is not None]
            if refunded:
                raise AlreadyRefunded(refunded)
        else:
            refuse_refund(chosen)  # all of them are checked before any is marked
        for ticket in chosen:
            ticket.refund(refund.id, used_too=used_too)
            self.tickets[ticket.id] = ticket
        self.refunds.append(refund)

    def lock_ticket(self, code: str) -> Ticket | None:
        id = self._state.ticket_codes.get(code) or next(
            (id for id in self.new_tickets if self.tickets[id].code == code), None
        )
        return None if id is None else _copy_ticket(self._ticket(id))

    def check_in(self, ticket: Ticket) -> None:
        stored = self._ticket(ticket.id)
        if stored.refund_id is not None:
            raise TicketRefunded()
        if stored.checked_in_at is not None:
            raise AlreadyCheckedIn(iso(stored.checked_in_at))
        self.tickets[ticket.id] = attrs.evolve(stored, checked_in_at=ticket.checked_in_at)

    # -- payments --------------------------------------------------------------------------

    def _payment(self, payment_id: UUID) -> Payment | None:
        return self.payments.get(payment_id) or self._state.payments.get(payment_id)

    def _payments_of(self, reservation_id: UUID) -> list[Payment]:
        ids = set(self._state.reservation_payments.get(reservation_id, []))
        ids.update(id for id, p in self.payments.items() if p.reservation_id == reservation_id)
        return [p for p in map(self._payment, ids) if p is not None]

    def _refuse_payment(self, payment: Payment) -> None:
        # The database's constraints, whatever the use case above decided: one pending payment
        # per reservation, one payment per attempt key, per provider's charge and per sale;
        # an approved payment names its sale; never more refunded than was paid.
        if payment.status is PaymentStatus.PENDING and any(
            p.id != payment.id and p.status is PaymentStatus.PENDING
            for p in self._payments_of(payment.reservation_id)
        ):
            raise PaymentInProgress(payment.reservation_id)
        if payment.status is PaymentStatus.APPROVED and payment.sale_id is None:
            raise ValueError(f"approved payment {payment.id} has no sale")
        if payment.refunded is not None and payment.refunded.cents > payment.amount.cents:
            raise ValueError(f"payment {payment.id} refunds more than it took")
        if payment.sale_id is not None and self.get_sale(payment.sale_id) is None:
            raise ValueError(f"payment {payment.id} names no stored sale")
        state = self._state
        attempt = state.attempt_keys.get(payment.attempt_key)
        self._refuse_taken(payment, "attempt key", attempt, lambda p: p.attempt_key)
        if payment.charge_id is not None:
            charge = state.charge_payments.get((payment.provider, payment.charge_id))
            self._refuse_taken(payment, "charge", charge, lambda p: (p.provider, p.charge_id))
        if payment.sale_id is not None:
            sale = state.sale_payments.get(payment.sale_id)
            self._refuse_taken(payment, "sale", sale, lambda p: p.sale_id)

    def _refuse_taken(
        self, payment: Payment, what: str, stored: UUID | None, key: Callable[[Payment], object]
    ) -> None:
        # Refused if another payment, as this transaction sees it, has the same key: the one
        # stored under it (unless this transaction changed it since) or one written here.
        others = [*self.payments.values()]
        found = None if stored is None else self._payment(stored)
        if found is not None:
            others.append(found)
        if any(o.id != payment.id and key(o) == key(payment) for o in others):
            raise ValueError(f"another payment has this {what}")

    def add_payment(self, payment: Payment) -> None:
        if self._payment(payment.id) is not None:
            raise ValueError(f"payment {payment.id} exists")
        if self.lock_reservation(payment.reservation_id) is None:
            raise ValueError(f"payment {payment.id} names no stored reservation")
        self._refuse_payment(payment)
        self.payments[payment.id] = payment

    def lock_payment(self, payment_id: UUID) -> Payment | None:
        # Transactions are serialized on the store's lock: that is the payment's lock.
        return self._payment(payment_id)

    def lock_payment_of_charge(self, provider: str, charge_id: str) -> Payment | None:
        found = next(
            (
                p
                for p in self.payments.values()
                if (p.provider, p.charge_id) == (provider, charge_id)
            ),
            None,
        )
        if found is not None:
            return found
        id = self._state.charge_payments.get((provider, charge_id))
        stored = None if id is None else self._payment(id)
        # Stored under that charge, unless this transaction gave it another.
        return stored if stored is not None and stored.charge_id == charge_id else None

    def lock_payment_of_sale(self, sale_id: UUID) -> Payment | None:
        found = next((p for p in self.payments.values() if p.sale_id == sale_id), None)
        if found is not None:
            return found
        id = self._state.sale_payments.get(sale_id)
        stored = None if id is None else self._payment(id)
        # Stored under that sale, unless this transaction gave it another.
        return stored if stored is not None and stored.sale_id == sale_id else None

    def lock_open_payment(self, reservation_id: UUID) -> Payment | None:
        return next(
            (p for p in self._payments_of(reservation_id) if p.status is PaymentStatus.PENDING),
            None,
        )

    def save_payment(self, payment: Payment) -> None:
        if self._payment(payment.id) is None:
            raise ValueError(f"payment {payment.id} is not stored")
        self._refuse_payment(payment)
        self.payments[payment.id] = payment

    def lock_payments_due(self, quiet_since: datetime, limit: int) -> list[Payment]:
        # Transactions are serialized on the store's lock: no other one holds a payment now.
        ids = self._state.open_payments | self.payments.keys()
        due = [
            p
            for p in map(self._payment, ids)
            if p is not None and p.status in _OPEN and p.heard_at < quiet_since
        ]
        due.sort(key=lambda p: (p.heard_at, p.id))
        return due[:limit]

    def add_shift(self, shift: Shift) -> None:
        taken = self._state.open_shifts.get(shift.operator)
        here = [s for s in self.shifts.values() if s.operator == shift.operator and s.is_open]
        if taken is not None or here:
            raise ShiftOpen(taken)
        self.shifts[shift.id] = _copy_shift(shift)

    def lock_shift(self, shift_id: UUID, *, shared: bool = False) -> Shift | None:
        found = self.shifts.get(shift_id) or self._state.shifts.get(shift_id)
        return None if found is None else _copy_shift(found)

    def save_shift(self, shift: Shift) -> None:
        self.shifts[shift.id] = _copy_shift(shift)

    def shift_sales(self, shift_id: UUID) -> list[Sale]:
        state = self._state
        found = {id: state.sales[id] for id in state.shift_sales.get(shift_id, [])}
        for sale in self.sales:
            if sale.counter is not None and sale.counter.shift_id == shift_id:
                found[sale.id] = sale
        return [found[id] for id in sorted(found)]

    def note_notice(self, provider: str, notice: str) -> bool:
        key = (provider, notice)
        if key in self._state.notices or key in self.notices:
            return False
        self.notices.add(key)
        return True

    def commit(self) -> None:
        state = self._state
        for room in self.rooms:
            state.rooms[room.id] = room
            if not room.private:
                state.room_names[(room.cinema, room.name)] = room.id
        for session in self.sessions:
            state.sessions[session.id] = session
            if not session.room.private:
                state.room_sessions.setdefault(session.room.id, []).append(session.id)
            bisect.insort(state.session_order, (session.starts_at, session.id))
            state.seats[session.id] = {}
        for session in self.changed_sessions.values():
            old = state.sessions[session.id]
            if old.starts_at != session.starts_at:
                state.session_order.remove((old.starts_at, session.id))
                bisect.insort(state.session_order, (session.starts_at, session.id))
            state.sessions[session.id] = session
        for (session_id, label), seat in self.seats.items():
            state.seats[session_id][label] = seat
        for reservation in self.reservations.values():
            stored = state.reservations.get(reservation.id)
            state.reservations[reservation.id] = reservation
            # A hold kept longer (a payment started) is queued again at its new end; the old
            # entry is skipped when it comes due (see lock_lapsed).
            moved = stored is None or stored.expires_at != reservation.expires_at
            if moved and reservation.status is ReservationStatus.PENDING:
                heapq.heappush(state.expiry_queue, (reservation.expires_at, reservation.id))
        for shift in self.shifts.values():
            state.shifts[shift.id] = shift
            if shift.is_open:
                state.open_shifts[shift.operator] = shift.id
            elif state.open_shifts.get(shift.operator) == shift.id:
                del state.open_shifts[shift.operator]
        for sale in self.sales:
            state.sales[sale.id] = sale
            if sale.counter is not None:
                state.shift_sales.setdefault(sale.counter.shift_id, []).append(sale.id)
            state.sold_reservations.add(sale.reservation_id)
            for label in sale.seats:
                state.sold[(sale.session_id, label)] = sale.id
            bisect.insort(state.purchases.setdefault(sale.user_id, []), (sale.paid_at, sale.id))
        for ticket_id in self.new_tickets:
            ticket = self.tickets[ticket_id]
            state.ticket_codes[ticket.code] = ticket.id
            state.sale_tickets.setdefault(ticket.sale_id, []).append(ticket.id)
            state.session_tickets.setdefault(ticket.session_id, []).append(ticket.id)
            state.live_tickets[(ticket.session_id, ticket.seat)] = ticket.id
        state.tickets.update(self.tickets)
        for refund in self.refunds:
            state.refunds[refund.id] = refund
            state.sales[refund.sale_id] = state.sales[refund.sale_id].with_refunded(refund.seats)
            for label in refund.seats:
                # Sold no more: the seat may be sold again, to a sale of its own (the rule the
                # database keeps by deleting the seat's sale_seats row in the refund).
                key = (refund.session_id, label)
                if state.sold.get(key) == refund.sale_id:
                    del state.sold[key]
                live = state.live_tickets.get(key)
                if live is not None and state.tickets[live].sale_id == refund.sale_id:
                    del state.live_tickets[key]
        for payment in self.payments.values():
            before = state.payments.get(payment.id)
            state.payments[payment.id] = payment
            if before is None:
                state.reservation_payments.setdefault(payment.reservation_id, []).append(payment.id)
            elif before.charge_id is not None and before.charge_id != payment.charge_id:
                del state.charge_payments[(before.provider, before.charge_id)]
            state.attempt_keys[payment.attempt_key] = payment.id
            if payment.charge_id is not None:
                state.charge_payments[(payment.provider, payment.charge_id)] = payment.id
            if payment.sale_id is not None:
                state.sale_payments[payment.sale_id] = payment.id
            if payment.status in _OPEN:
                state.open_payments.add(payment.id)
            else:
                state.open_payments.discard(payment.id)
        state.notices |= self.notices
        state.products.update(self.new_products)
        state.promo_codes.update(self.promo_codes)
        for reservation in self.reservations.values():
            if reservation.discount is not None:
                state.promo_reservations.setdefault(reservation.discount.code, set()).add(
                    reservation.id
                )
        state.events.extend(self.events)


class InMemoryReservationRepo:
    """The ``ReservationRepo`` port in process memory; thread-safe."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self._relaying = threading.Lock()
        self.on_commit: list[Callable[[], None]] = []
        # As PostgresReservationRepo's: the current trace's traceparent, stamped on the events
        # a transaction records (None: tracing is off).
        self.traceparent: Callable[[], str | None] | None = None

    def atomic(self, work: Callable[[_Transaction], T]) -> T:
        with self._lock:
            tx = _Transaction(self._state)
            result = work(tx)
            if tx.events and self.traceparent is not None:
                stamp = self.traceparent()
                if stamp is not None:
                    tx.events[:] = [attrs.evolve(e, traceparent=stamp) for e in tx.events]
            tx.commit()
        if tx.events:
            for callback in self.on_commit:
                callback()
        return result

    def list_products(self) -> list[Product]:
        with self._lock:
            return [self._state.products[code] for code in sorted(self._state.products)]

    def get_room(self, room_id: UUID) -> Room | None:
        with self._lock:
            return self._state.rooms.get(room_id)

    def list_rooms(self, cinema: str | None) -> list[Room]:
        with self._lock:
            found = [
                room
                for room in self._state.rooms.values()
                if not room.private and (cinema is None or room.cinema == cinema)
            ]
        return sorted(found, key=lambda room: (room.cinema, room.name, room.id))

    def get_session(self, session_id: UUID) -> Session | None:
        with self._lock:
            return self._state.sessions.get(session_id)

    def list_sessions(
        self, after: Cursor | None, limit: int, where: SessionFilter
    ) -> list[Session]:
        with self._lock:
            order = self._state.session_order
            start = bisect.bisect_right(order, (after.at, after.id)) if after else 0
            found: list[Session] = []
            for _, id in order[start:]:
                if len(found) == limit:
                    break
                session = self._state.sessions[id]
                if where.admits(session):
                    found.append(session)
            return found

    def available_counts(self, session_ids: Sequence[UUID], now: datetime) -> dict[UUID, int]:
        with self._lock:
            snapshots = {
                id: list(self._state.seats[id].values())
                for id in session_ids
                if id in self._state.seats
            }
        # Counted outside the lock: the snapshots are never mutated (see ``seats``).
        return {id: count_available(seats, now) for id, seats in snapshots.items()}

    def ticket_counts(
        self, session_ids: Sequence[UUID], now: datetime
    ) -> dict[UUID, dict[str, int]]:
        with self._lock:
            snapshots = {
                id: list(self._state.seats[id].values())
                for id in session_ids
                if id in self._state.seats
            }
        found: dict[UUID, dict[str, int]] = {}
        for id, seats in snapshots.items():
            counts = Counter(
                seat.ticket for seat in seats if seat.ticket and seat.counts_for(seat.ticket, now)
            )
            found[id] = dict(counts)
        return found

    def seats(self, session_id: UUID) -> list[Seat]:
        # Stored seats are snapshots nothing mutates: a transaction copies a seat when it locks
        # one and again when it saves it, and a commit swaps the saved copy in. So a reader may
        # share them (copying 2,600 seats was most of a seat-map read) and never sees a later
        # write. Callers must not mutate them. The dict is in label order: a session's seats are
        # inserted in label order when it is created and only ever replaced in place.
        with self._lock:
            return list(self._state.seats.get(session_id, {}).values())

    def get_reservation(self, reservation_id: UUID) -> Reservation | None:
        with self._lock:
            found = self._state.reservations.get(reservation_id)
            return _copy_reservation(found) if found else None

    def get_sale(self, sale_id: UUID) -> Sale | None:
        with self._lock:
            return self._state.sales.get(sale_id)

    def purchases(self, user_id: str, before: Cursor | None, limit: int) -> list[Sale]:
        with self._lock:
            order = self._state.purchases.get(user_id, [])
            end = bisect.bisect_left(order, (before.at, before.id)) if before else len(order)
            return [self._state.sales[id] for _, id in reversed(order[max(0, end - limit) : end])]

    def tickets(self, sale_id: UUID) -> list[Ticket]:
        with self._lock:
            found = [self._state.tickets[id] for id in self._state.sale_tickets.get(sale_id, [])]
            return sorted((_copy_ticket(t) for t in found), key=lambda t: t.seat)

    def get_ticket(self, ticket_id: UUID) -> Ticket | None:
        with self._lock:
            found = self._state.tickets.get(ticket_id)
            return _copy_ticket(found) if found else None

    def get_payment(self, payment_id: UUID) -> Payment | None:
        with self._lock:
            return self._state.payments.get(payment_id)

    def get_shift(self, shift_id: UUID) -> Shift | None:
        with self._lock:
            found = self._state.shifts.get(shift_id)
            return None if found is None else _copy_shift(found)

    def open_shift(self, operator: str) -> Shift | None:
        with self._lock:
            shift_id = self._state.open_shifts.get(operator)
            return None if shift_id is None else _copy_shift(self._state.shifts[shift_id])

    def shift_sales(self, shift_id: UUID) -> list[Sale]:
        with self._lock:
            state = self._state
            return [state.sales[id] for id in sorted(state.shift_sales.get(shift_id, []))]

    def payment_of_sale(self, sale_id: UUID) -> Payment | None:
        with self._lock:
            id = self._state.sale_payments.get(sale_id)
            return None if id is None else self._state.payments[id]

    def payments_of_reservation(self, reservation_id: UUID) -> list[Payment]:
        with self._lock:
            state = self._state
            ids = state.reservation_payments.get(reservation_id, [])
            found = [state.payments[id] for id in ids]
        return sorted(found, key=lambda p: (p.created_at, p.id), reverse=True)

    def session_tally(self, session_id: UUID, now: datetime) -> SessionTally:
        with self._lock:
            seats = list(self._state.seats.get(session_id, {}).values())
            tickets = [
                self._state.tickets[id] for id in self._state.session_tickets.get(session_id, [])
            ]
        groups: dict[tuple[Category, str], list[int]] = {}
        for t in tickets:
            tally = groups.setdefault((t.category, t.ticket), [0, 0, 0, 0])
            if t.refund_id is None:
                tally[0] += 1
                tally[1] += t.price.cents
            else:
                tally[2] += t.price.cents
            tally[3] += t.checked_in_at is not None
        return SessionTally(
            held=sum(1 for seat in seats if seat.is_held_at(now)),
            groups=tuple(
                TicketGroup(category, ticket, *counts)
                for (category, ticket), counts in sorted(groups.items())
            ),
        )

    def statement_groups(self, session_id: UUID) -> list[StatementGroup]:
        with self._lock:
            state = self._state
            tickets = [state.tickets[id] for id in state.session_tickets.get(session_id, [])]
            methods: dict[UUID, str] = {}
            for t in tickets:
                paid_by = state.sale_payments.get(t.sale_id)
                till = state.sales[t.sale_id].counter
                if till is not None:
                    methods[t.sale_id] = till.method.value
                else:
                    methods[t.sale_id] = (
                        INSTANT if paid_by is None else state.payments[paid_by].provider
                    )
        groups: dict[tuple[Category, str, str], list[int]] = {}
        for t in tickets:
            tally = groups.setdefault((t.category, t.ticket, methods[t.sale_id]), [0, 0, 0, 0, 0])
            tally[0] += 1
            tally[1] += t.price.cents
            if t.refund_id is not None:
                tally[2] += 1
                tally[3] += t.price.cents
            tally[4] += t.checked_in_at is not None
        return [
            StatementGroup(category, ticket, method, *counts)
            for (category, ticket, method), counts in sorted(groups.items())
        ]

    def sales_by_day(self, where: SalesFilter) -> list[DailySales]:
        with self._lock:
            tickets = list(self._state.tickets.values())
            sessions = self._state.sessions
            rows: dict[tuple[Any, str, str], tuple[set[UUID], list[int], str]] = {}
            for t in tickets:
                session = sessions[t.session_id]
                cinema = session.room.cinema
                if not where.admits(t.paid_at, cinema):
                    continue
                key = (t.paid_at.astimezone(UTC).date(), cinema, session.movie)
                ids, counts, _ = rows.setdefault(key, (set(), [0, 0], t.price.currency))
                ids.add(t.session_id)
                if t.refund_id is None:
                    counts[0] += 1
                    counts[1] += t.price.cents
        return in_report_order(
            DailySales(day, cinema, movie, len(ids), count, Money(cents, currency))
            for (day, cinema, movie), (ids, (count, cents), currency) in rows.items()
        )

    def sales_with_goods(self, where: SalesFilter) -> list[SoldGoods]:
        with self._lock:
            sales = list(self._state.sales.values())
            sessions = self._state.sessions
        found = [
            SoldGoods(sale, session.room.cinema, session.movie)
            for sale in sales
            if (sale.products or sale.discount is not None)
            and where.admits_sale(
                sale.paid_at, (session := sessions[sale.session_id]).room.cinema, session.id
            )
        ]
        return sorted(found, key=lambda one: (one.sale.paid_at, one.sale.id))

    def events(
        self,
        *,
        type: str | None,
        session_id: UUID | None,
        before: int | None,
        limit: int,
        published_only: bool = False,
    ) -> list[tuple[int, Event]]:
        with self._lock:
            if published_only:
                published = self._state.published
                before = published if before is None else min(before, published)
            return _newest_first(
                self._state.events, type=type, session_id=session_id, before=before, limit=limit
            )

    def relay_outbox(self, publish: Callable[[Sequence[Event]], None], limit: int) -> int:
        # One relay at a time, outside the store lock: publishing must not stall buyers.
        with self._relaying:
            with self._lock:
                start = self._state.published
                batch = self._state.events[start : start + limit]
            if not batch:
                return 0
            publish(batch)
            with self._lock:
                self._state.published = start + len(batch)
            return len(batch)

    def outbox_backlog(self) -> OutboxBacklog:
        with self._lock:
            waiting = self._state.events[self._state.published :]
        return OutboxBacklog(len(waiting), waiting[0].occurred_at if waiting else None)

    def ping(self) -> None:
        return None

    def unpublished(self) -> int:
        with self._lock:
            return len(self._state.events) - self._state.published


def _newest_first(
    events: Sequence[Event],
    *,
    type: str | None,
    session_id: UUID | None,
    before: int | None,
    limit: int,
) -> list[tuple[int, Event]]:
    """Events (with their index as sequence number) matching the filters, newest first,
    strictly before ``before``: what the audit trail's readers ask of the in-memory outbox."""
    end = len(events) if before is None else min(before, len(events))
    found: list[tuple[int, Event]] = []
    for seq in range(end - 1, -1, -1):
        event = events[seq]
        if type is not None and event.type != type:
            continue
        if session_id is not None and event.session_id != str(session_id):
            continue
        found.append((seq, event))
        if len(found) == limit:
            break
    return found
