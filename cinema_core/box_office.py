"""The box office as a library: every use case of the API, with no HTTP in between.

``BoxOffice`` is the one public face. The rooms and sessions it serves itself; the rest it hands
to the use cases it is composed of, each a small class of its own module, all sharing one
``Holding`` (the session cache, the seat lock in front of the store, quotas): ``Holds`` (a
hold's life: made, changed, cancelled, paid, lapsed), ``BestAvailable``, ``AfterSale`` (refunds,
tickets, the door, reports) and ``SessionLife`` (an admin changing or cancelling a session).
Services load, let the model decide, save and emit; the rules live in the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import attrs

from cinema_core.after_sale.admissions import Ticket, new_code
from cinema_core.after_sale.refunds import DEFAULT_REFUND_CUTOFF, Refund
from cinema_core.after_sale.use_cases import AfterSale
from cinema_core.errors import ReservationNotFound, RoomNotFound, SessionNotFound, ValidationFailed
from cinema_core.events import envelopes as events
from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.kernel.money import Money
from cinema_core.kernel.pagination import Cursor, Page, check_limit
from cinema_core.kernel.users import check_user_id
from cinema_core.payments.charges import PaymentProvider
from cinema_core.payments.errors import PaymentNotFound
from cinema_core.payments.payment import Payment
from cinema_core.payments.use_cases import DEFAULT_PAYMENT_HOLD, DEFAULT_RECONCILE, Payments
from cinema_core.ports import ReservationRepo, SeatLock, Transaction
from cinema_core.reports.figures import DailySales, SessionReport
from cinema_core.resilience.outages import Outages
from cinema_core.rooms.layout import Category, Room
from cinema_core.rooms.seats import Seat
from cinema_core.selling.choosing import BestAvailable
from cinema_core.selling.holding import Holding
from cinema_core.selling.holds import Holds
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.selling.seat_map import SeatMap
from cinema_core.selling.ticket_types import DEFAULT_TICKET_TYPES, TicketType
from cinema_core.sessions.life import SessionLife
from cinema_core.sessions.session import (
    DEFAULT_DURATION,
    DEFAULT_SALES_CLOSE,
    Session,
    SessionFilter,
    SessionView,
)

DEFAULT_HOLD = timedelta(seconds=30)
# Seat maps kept for reuse (each up to 2,600 seats, ~0.5 MB): the sessions being watched.
SEAT_MAP_CACHE_SIZE = 16
# The fields the use cases are composed from: setting one composes them again.
_COMPOSED_FROM = frozenset(
    {
        "repo",
        "seat_lock",
        "clock",
        "hold",
        "new_id",
        "refund_cutoff",
        "new_code",
        "sales_close",
        "provider",
        "payment_hold",
        "notification_url",
        "reconcile_quiet",
    }
)


@attrs.define
class BoxOffice:
    """The box office as a library: every use case of the API, with no HTTP in between.

    >>> from cinema_core import in_memory_box_office
    >>> box = in_memory_box_office()
    """

    repo: ReservationRepo
    # Already forgiving of its outages where the lock service may be down (the composition
    # root wraps it, see ``fallbacks.ForgivingSeatLock``): the use cases never hear of one.
    seat_lock: SeatLock
    clock: Clock = attrs.field(factory=SystemClock)
    hold: timedelta = DEFAULT_HOLD
    # The backends down, as the wrappers composed around the ports report them.
    outages: Outages = attrs.field(factory=Outages)
    new_id: Callable[[], UUID] = uuid4
    # How long before a session starts its buyers may still refund (admins: until it ends).
    refund_cutoff: timedelta = DEFAULT_REFUND_CUTOFF
    new_code: Callable[[], str] = new_code
    # How long after its start a session is still sold (never after it ends).
    sales_close: timedelta = DEFAULT_SALES_CLOSE
    # Who takes the money: ``None`` is ``instant`` (paying sells at once), else a Pix provider
    # (the sandbox, Mercado Pago) through which a payment is started and later settled.
    provider: PaymentProvider | None = None
    # How long a hold lasts at least once a payment starts (the buyer's bank needs time).
    payment_hold: timedelta = DEFAULT_PAYMENT_HOLD
    # Where the provider sends its notices about charges.
    notification_url: str | None = None
    # How long a pending payment goes unheard of before reconciliation reads it.
    reconcile_quiet: timedelta = DEFAULT_RECONCILE
    # The use cases, composed from the fields above (``_compose``).
    holding: Holding = attrs.field(init=False, repr=False)
    holds: Holds = attrs.field(init=False, repr=False)
    best: BestAvailable = attrs.field(init=False, repr=False)
    after_sale: AfterSale = attrs.field(init=False, repr=False)
    session_life: SessionLife = attrs.field(init=False, repr=False)
    payments: Payments | None = attrs.field(init=False, repr=False)
    # The last seat map of each watched session, with the seats it was made from and the
    # instants it holds for (see ``seat_map``).
    _seat_maps: dict[UUID, tuple[list[Seat], SeatMap, datetime, datetime | None]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self._compose()

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        # A field changed after construction (a tool or test swapping in another store, a
        # longer hold) reaches every use case: they are composed again from the fields.
        if name in _COMPOSED_FROM and hasattr(self, "session_life"):
            self._compose()

    def _compose(self) -> None:
        holding = Holding(
            self.repo, self.seat_lock, self.clock, self.hold, self.new_id, self.sales_close
        )
        self.holding = holding
        self.holds = Holds(holding, self.new_code)
        self.best = BestAvailable(holding)
        self.after_sale = AfterSale(holding, self.refund_cutoff)
        self.payments = (
            None
            if self.provider is None
            else Payments(
                holding,
                self.provider,
                self.payment_hold,
                self.notification_url,
                self.reconcile_quiet,
                self.new_code,
            )
        )
        self.session_life = SessionLife(holding)

    # -- sessions -------------------------------------------------------------------------

    def create_room(self, *, cinema: str, name: str, layout: Sequence[str]) -> Room:
        """A new room of a cinema; ``(cinema, name)`` is unique (``RoomExists``)."""
        room = Room.create(id=self.new_id(), cinema=cinema, name=name, layout=layout)
        self.repo.atomic(lambda tx: tx.add_room(room))
        return room

    def room(self, room_id: UUID) -> Room:
        room = self.repo.get_room(room_id)
        if room is None or room.private:
            raise RoomNotFound()
        return room

    def rooms(self, cinema: str | None = None) -> list[Room]:
        """The chain's rooms (of one cinema if named), by cinema and name."""
        return self.repo.list_rooms(cinema)

    def create_session(
        self,
        *,
        movie: str,
        starts_at: datetime,
        room_id: UUID | None = None,
        prices: Mapping[Category, Money] | None = None,
        price: Money | None = None,
        duration_minutes: int = DEFAULT_DURATION,
        ticket_types: Sequence[TicketType] = DEFAULT_TICKET_TYPES,
        forbid_single_gaps: bool = False,
        room: str | None = None,
        rows: int | None = None,
        seats_per_row: int | None = None,
    ) -> SessionView:
        """A new session in the room ``room_id``, at ``prices`` per category (or one ``price``).

        The first shape stays valid: ``room`` (a name), ``rows`` and ``seats_per_row`` instead of
        ``room_id`` make a private rectangular room of standard seats for this session only.
        Two sessions of one room never overlap (``RoomBusy``).
        """
        now = self.clock.now()
        cost: Mapping[Category, Money] | Money | None = price if prices is None else prices
        if cost is None:
            raise ValidationFailed({"prices": "is required (or one price for every seat)"})
        if room_id is not None:
            found = self.repo.get_room(room_id)
            if found is None or found.private:
                raise RoomNotFound()
            venue = found
        else:
            try:
                venue = Room.rectangle(
                    id=self.new_id(),
                    name=room or "",
                    rows=rows or 0,
                    seats_per_row=seats_per_row or 0,
                )
            except ValidationFailed as refused:
                # Every broken field at once, the room's and the session's alike; a room too
                # small is said only once the fields are right.
                fields = Session.problems(
                    movie=movie,
                    starts_at=starts_at,
                    now=now,
                    duration_minutes=duration_minutes,
                    ticket_types=ticket_types,
                    price=cost if isinstance(cost, Money) else None,
                )
                if fields:
                    raise ValidationFailed({**refused.fields, **fields}) from None
                raise
        session = Session.create(
            id=self.new_id(),
            movie=movie,
            room=venue,
            starts_at=starts_at,
            prices=cost,
            now=now,
            duration_minutes=duration_minutes,
            ticket_types=ticket_types,
            forbid_single_gaps=forbid_single_gaps,
        )

        def work(tx: Transaction) -> None:
            tx.add_session(session)
            tx.emit(events.session_created(self.new_id(), session, now))

        self.repo.atomic(work)
        return self.holding.view(session, session.seat_count)

    def session(self, session_id: UUID) -> SessionView:
        """The session as stored now (an admin may have changed or cancelled it)."""
        session = self.repo.get_session(session_id)
        if session is None:
            raise SessionNotFound()
        self.holding.keep(session)
        return self.holding.view(session)

    def sessions(
        self,
        limit: int = 50,
        cursor: str | None = None,
        where: SessionFilter | None = None,
        *,
        past: bool = False,
    ) -> Page[SessionView]:
        """Sessions by start time, narrowed by ``where``, a page at a time: only those still
        on sale unless ``past`` (then cancelled ones and those whose sales closed too)."""
        check_limit(limit)
        after = Cursor.decode(cursor) if cursor else None
        where = where or SessionFilter()
        if not past:
            where = attrs.evolve(where, on_sale_at=self.clock.now(), sales_close=self.sales_close)
        found = self.repo.list_sessions(after, limit + 1, where)
        page = found[:limit]
        counts = self.repo.available_counts([session.id for session in page], self.clock.now())
        more = Cursor(page[-1].starts_at, page[-1].id).encode() if len(found) > limit else None
        return Page(
            [self.holding.view(session, counts.get(session.id, 0)) for session in page], more
        )

    def seat_map(self, session_id: UUID) -> SeatMap:
        seats = self.repo.seats(session_id)
        room = self.holding.session(session_id).room
        if not seats:
            return SeatMap.at(session_id, room, seats, self.clock.now())
        now = self.clock.now()
        cached = self._seat_maps.get(session_id)
        if cached is not None:
            seen, seat_map, since, until = cached
            # A store that hands out its stored seats (the in-memory one; it replaces a seat on
            # every write, never mutates it) gives back the very same objects while nothing
            # changed, and a map stays true until the next hold in it lapses. A store that
            # makes fresh seats per read fails the first identity check and never pays more.
            if (
                seats[0] is seen[0]
                and since <= now
                and (until is None or now < until)
                and seats == seen
            ):
                return seat_map
        seat_map = SeatMap.at(session_id, room, seats, now)
        until = min(
            (
                seat.hold_expires_at
                for seat in seats
                if seat.hold_expires_at is not None and seat.is_held_at(now)
            ),
            default=None,
        )
        if session_id not in self._seat_maps and len(self._seat_maps) >= SEAT_MAP_CACHE_SIZE:
            self._seat_maps.clear()  # atomic, unlike evicting one while other threads write
        self._seat_maps[session_id] = (seats, seat_map, now, until)
        return seat_map

    # -- reservations ---------------------------------------------------------------------

    def reserve(
        self,
        user_id: str,
        session_id: UUID,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Hold all the seats for ``hold``, or none (see ``Holds.reserve``)."""
        return self.holds.reserve(user_id, session_id, seats, tickets)

    def reserve_best(
        self,
        user_id: str,
        session_id: UUID,
        count: int,
        *,
        category: str | None = None,
        together: bool = True,
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Hold the best ``count`` seats for sale (see ``BestAvailable.reserve_best``)."""
        return self.best.reserve_best(
            user_id, session_id, count, category=category, together=together, tickets=tickets
        )

    def change(
        self,
        reservation_id: UUID,
        user_id: str,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Make a pending hold cover exactly ``seats``, all or nothing (see ``Holds.change``)."""
        return self.holds.change(reservation_id, user_id, seats, tickets)

    def reservation(
        self, reservation_id: UUID, user_id: str, *, admin: bool = False
    ) -> Reservation:
        """The reservation as it is now (a lapsed pending one reads ``expired``)."""
        reservation = self.repo.get_reservation(reservation_id)
        if reservation is None or not (admin or reservation.user_id == user_id):
            raise ReservationNotFound()
        return reservation.as_of(self.clock.now())

    def cancel(self, reservation_id: UUID, user_id: str) -> Reservation:
        """Free the seats at once (see ``Holds.cancel``)."""
        return self.holds.cancel(reservation_id, user_id)

    def pay(self, reservation_id: UUID, user_id: str) -> tuple[Sale, bool]:
        """Turn the hold into a sale, and whether it is new (see ``Holds.pay``)."""
        return self.holds.pay(reservation_id, user_id)

    # -- payments through a provider ------------------------------------------------------

    @property
    def provider_name(self) -> str:
        """``instant``, or the name of the provider that takes the money."""
        return "instant" if self.provider is None else self.provider.name

    def start_payment(self, reservation_id: UUID, user_id: str) -> Payment:
        """Ask the buyer's bank for the hold's amount (see ``Payments.start``); only with a
        provider (``instant`` pays with ``pay``)."""
        return self._payments().start(reservation_id, user_id)

    def payment(self, payment_id: UUID, user_id: str, *, admin: bool = False) -> Payment:
        """The payment, to its payer or an admin (``PaymentNotFound`` otherwise)."""
        if self.payments is None:
            raise PaymentNotFound()
        return self.payments.payment(payment_id, user_id, admin=admin)

    def settle_payment(self, charge_id: str) -> Payment | None:
        """Act on what the provider says of a charge now (see ``Payments.settle``)."""
        return self._payments().settle(charge_id)

    def reconcile_payments(self) -> int:
        """One pass of reconciliation (see ``Payments.reconcile``); 0 with no provider."""
        return 0 if self.payments is None else self.payments.reconcile()

    def _payments(self) -> Payments:
        if self.payments is None:
            raise PaymentNotFound()
        return self.payments

    def sale(self, sale_id: UUID) -> Sale | None:
        return self.repo.get_sale(sale_id)

    def purchases(self, user_id: str, limit: int = 50, cursor: str | None = None) -> Page[Sale]:
        """The user's sales, newest first."""
        check_user_id(user_id)
        check_limit(limit)
        before = Cursor.decode(cursor) if cursor else None
        found = self.repo.purchases(user_id, before, limit + 1)
        page = found[:limit]
        more = Cursor(page[-1].paid_at, page[-1].id).encode() if len(found) > limit else None
        return Page(page, more)

    def expire_due(self, limit: int = 1000) -> int:
        """Record every lapsed hold as expired; returns how many (see ``Holds.expire_due``)."""
        return self.holds.expire_due(limit)

    # -- after the sale ---------------------------------------------------------------------

    def refund(
        self,
        sale_id: UUID,
        user_id: str,
        seats: Sequence[str] | None = None,
        *,
        admin: bool = False,
    ) -> Refund:
        """Give back ``seats`` of the sale, all or none (see ``AfterSale.refund``)."""
        payment = None if self.payments is None else self.repo.payment_of_sale(sale_id)
        if payment is None or self.payments is None:
            return self.after_sale.refund(sale_id, user_id, seats, admin=admin)
        payments, paid = self.payments, payment
        return self.after_sale.refund(
            sale_id,
            user_id,
            seats,
            admin=admin,
            take_back=lambda amount, key: payments.refund_sale(paid, amount, key),
        )

    def owned_sale(self, sale_id: UUID, user_id: str, *, admin: bool = False) -> Sale:
        """The sale, to its buyer or an admin; anyone else is told there is none."""
        return self.after_sale.owned_sale(sale_id, user_id, admin=admin)

    def tickets(self, sale_id: UUID, user_id: str, *, admin: bool = False) -> list[Ticket]:
        """The sale's tickets, one per seat, to its buyer or an admin."""
        return self.after_sale.tickets(sale_id, user_id, admin=admin)

    def ticket(self, ticket_id: UUID, user_id: str, *, admin: bool = False) -> Ticket:
        """One ticket, to the buyer of its sale or an admin."""
        return self.after_sale.ticket(ticket_id, user_id, admin=admin)

    def check_in(self, code: str, session_id: UUID | None = None) -> Ticket:
        """Let the holder of ``code`` in, once (see ``AfterSale.check_in``)."""
        return self.after_sale.check_in(code, session_id)

    def session_report(self, session_id: UUID) -> SessionReport:
        """How full the session is and what it earned, net of refunds."""
        return self.after_sale.session_report(session_id)

    def sales_report(
        self,
        *,
        paid_from: datetime | None = None,
        paid_before: datetime | None = None,
        cinema: str | None = None,
    ) -> list[DailySales]:
        """Sales per day (UTC) of payment, cinema and movie, net of refunds."""
        return self.after_sale.sales_report(
            paid_from=paid_from, paid_before=paid_before, cinema=cinema
        )

    # -- a session's life -------------------------------------------------------------------

    def change_session(
        self,
        session_id: UUID,
        *,
        movie: str | None = None,
        starts_at: datetime | None = None,
        duration_minutes: int | None = None,
    ) -> SessionView:
        """Change the movie or times of a session (see ``SessionLife.change_session``)."""
        return self.session_life.change_session(
            session_id, movie=movie, starts_at=starts_at, duration_minutes=duration_minutes
        )

    def cancel_session(self, session_id: UUID, by: str) -> SessionView:
        """Cancel the session, its holds released and sales refunded (see ``SessionLife``)."""
        return self.session_life.cancel_session(session_id, by)
