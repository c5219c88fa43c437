"""The box office as a library: every use case of the API, with no HTTP in between.

``BoxOffice`` is the one public face, and only that: each of its methods hands the call to one
of the use cases it is composed of when it is built, each a small class in its capability's
package, all sharing one ``Holding`` (the session cache, the seat lock in front of the store,
quotas): ``Rooms``, ``Sessions`` (adding and reading them), ``SeatMaps``, ``Holds`` (a hold's
life: made, changed, cancelled, paid, lapsed), ``BestAvailable``, ``AfterSale`` (purchases,
refunds, tickets, the door), ``Reports`` and ``SessionLife`` (an admin changing or cancelling a
session). Services load, let the model decide, save and emit; the rules live in the model.

Its configuration is fixed once built (a frozen class): another store or a longer hold is
another box office, ``attrs.evolve(box, hold=...)``, whose use cases are composed afresh.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import attrs

from cinema_core.after_sale.admissions import Admission, Ticket, new_code
from cinema_core.after_sale.printouts import Printout
from cinema_core.after_sale.refunds import DEFAULT_REFUND_CUTOFF, Refund
from cinema_core.after_sale.use_cases import AfterSale
from cinema_core.counter.shifts import Shift, ShiftStatement
from cinema_core.counter.use_cases import Counter, CounterOrder
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.goods.products import Product
from cinema_core.goods.promo_codes import PromoCode
from cinema_core.goods.use_cases import Catalogue
from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.kernel.metrics import NO_METRICS
from cinema_core.kernel.money import Money
from cinema_core.kernel.pagination import Page
from cinema_core.memory.waiting import InMemoryWaitingLines
from cinema_core.payments.charges import PaymentProvider
from cinema_core.payments.instant import InstantProvider
from cinema_core.payments.payment import Payment
from cinema_core.payments.use_cases import DEFAULT_PAYMENT_HOLD, DEFAULT_RECONCILE, Payments
from cinema_core.ports import Metrics, ReservationRepo, SeatLock, WaitingLines
from cinema_core.reports.figures import DailySales, SessionReport
from cinema_core.reports.statement import SessionStatement
from cinema_core.reports.use_cases import Reports
from cinema_core.resilience.outages import Outages
from cinema_core.rooms.layout import Category, Room
from cinema_core.rooms.use_cases import Rooms
from cinema_core.selling.choosing import BestAvailable
from cinema_core.selling.holding import Holding
from cinema_core.selling.holds import Holds
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.selling.seat_map import SeatMap, SeatMaps
from cinema_core.selling.ticket_types import DEFAULT_TICKET_TYPES, TicketType
from cinema_core.sessions.life import SessionLife
from cinema_core.sessions.session import (
    DEFAULT_DURATION,
    DEFAULT_RATING,
    DEFAULT_SALES_CLOSE,
    SessionFilter,
    SessionView,
)
from cinema_core.sessions.use_cases import Sessions
from cinema_core.waiting.room import DEFAULT_ADMISSION, Place, RoomFigures, RoomSettings
from cinema_core.waiting.tokens import AdmissionTokens, admission_key
from cinema_core.waiting.use_cases import Standing, WaitingRooms

DEFAULT_HOLD = timedelta(seconds=30)


def _random_key() -> bytes:
    # A library user who names no secret still gets tokens no one else can sign.
    return admission_key(secrets.token_hex(32))


@attrs.frozen
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
    # Who takes the money: ``instant`` (paying sells at once) by default, else a Pix provider
    # (the sandbox, Mercado Pago) through which a payment is started and later settled.
    provider: PaymentProvider = attrs.field(factory=InstantProvider)
    # How long a hold lasts at least once a payment starts (the buyer's bank needs time).
    payment_hold: timedelta = DEFAULT_PAYMENT_HOLD
    # Where the provider sends its notices about charges.
    notification_url: str | None = None
    # How long a pending payment goes unheard of before reconciliation reads it.
    reconcile_quiet: timedelta = DEFAULT_RECONCILE
    # The waiting rooms' queues (shared by every process when Redis is configured), how long an
    # admission lasts, and the key admission tokens are signed with.
    waiting_lines: WaitingLines = attrs.field(factory=InMemoryWaitingLines)
    admission: timedelta = DEFAULT_ADMISSION
    admission_key: bytes = attrs.field(factory=_random_key, repr=False)
    # What the use cases count (holds, sales, refunds, check-ins, payments by status).
    metrics: Metrics = NO_METRICS
    # The use cases, composed once from the fields above.
    holding: Holding = attrs.field(init=False, repr=False)
    venues: Rooms = attrs.field(init=False, repr=False)
    programme: Sessions = attrs.field(init=False, repr=False)
    seat_maps: SeatMaps = attrs.field(init=False, repr=False)
    holds: Holds = attrs.field(init=False, repr=False)
    best: BestAvailable = attrs.field(init=False, repr=False)
    payments: Payments = attrs.field(init=False, repr=False)
    after_sale: AfterSale = attrs.field(init=False, repr=False)
    reports: Reports = attrs.field(init=False, repr=False)
    session_life: SessionLife = attrs.field(init=False, repr=False)
    catalogue: Catalogue = attrs.field(init=False, repr=False)
    counter: Counter = attrs.field(init=False, repr=False)
    waiting: WaitingRooms = attrs.field(init=False, repr=False)

    @holding.default
    def _holding(self) -> Holding:
        return Holding(
            self.repo,
            self.seat_lock,
            self.clock,
            self.hold,
            self.new_id,
            self.sales_close,
            self.metrics,
        )

    @venues.default
    def _rooms(self) -> Rooms:
        return Rooms(self.holding)

    @programme.default
    def _sessions(self) -> Sessions:
        return Sessions(self.holding)

    @seat_maps.default
    def _seat_maps(self) -> SeatMaps:
        return SeatMaps(self.holding)

    @holds.default
    def _holds(self) -> Holds:
        return Holds(self.holding, self.new_code)

    @best.default
    def _best(self) -> BestAvailable:
        return BestAvailable(self.holding)

    @payments.default
    def _payments(self) -> Payments:
        return Payments(
            self.holding,
            self.provider,
            self.payment_hold,
            self.notification_url,
            self.reconcile_quiet,
            self.new_code,
        )

    @after_sale.default
    def _after_sale(self) -> AfterSale:
        return AfterSale(self.holding, self.refund_cutoff, self.payments)

    @reports.default
    def _reports(self) -> Reports:
        return Reports(self.holding)

    @session_life.default
    def _session_life(self) -> SessionLife:
        return SessionLife(self.holding, self.payments)

    @catalogue.default
    def _catalogue(self) -> Catalogue:
        return Catalogue(self.holding)

    # -- the counter's catalogue ------------------------------------------------------------

    def add_product(self, *, code: str, name: str, price: Money, stock: int | None) -> Product:
        """A new product (see ``Catalogue.add_product``)."""
        return self.catalogue.add_product(code=code, name=name, price=price, stock=stock)

    def products(self) -> list[Product]:
        """Every product with what is left of it (see ``Catalogue.products``)."""
        return self.catalogue.products()

    def restock(self, code: str, units: int) -> Product:
        """Add units to a product's stock (see ``Catalogue.restock``)."""
        return self.catalogue.restock(code, units)

    def change_product(
        self,
        code: str,
        *,
        add: int | None = None,
        name: str | None = None,
        price: Money | None = None,
    ) -> Product:
        """Restock, rename or reprice a product (see ``Catalogue.change_product``)."""
        return self.catalogue.change_product(code, add=add, name=name, price=price)

    def add_promo_code(
        self,
        *,
        code: str,
        percent_off: int | None = None,
        amount_off: Money | None = None,
        max_uses: int | None = None,
        per_user: int | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        movie: str | None = None,
        cinema: str | None = None,
    ) -> PromoCode:
        """A new promo code (see ``Catalogue.add_promo_code``)."""
        return self.catalogue.add_promo_code(
            code=code,
            percent_off=percent_off,
            amount_off=amount_off,
            max_uses=max_uses,
            per_user=per_user,
            valid_from=valid_from,
            valid_to=valid_to,
            movie=movie,
            cinema=cinema,
        )

    @counter.default
    def _counter(self) -> Counter:
        return Counter(self.holding, self.holds, self.best)

    @waiting.default
    def _waiting(self) -> WaitingRooms:
        return WaitingRooms(
            self.holding,
            self.waiting_lines,
            AdmissionTokens(self.admission_key),
            self.admission,
            self.holds,
        )

    # -- rooms and sessions -----------------------------------------------------------------

    def create_room(self, *, cinema: str, name: str, layout: Sequence[str]) -> Room:
        """A new room of a cinema; ``(cinema, name)`` is unique (``RoomExists``)."""
        return self.venues.create_room(cinema=cinema, name=name, layout=layout)

    def room(self, room_id: UUID) -> Room:
        """The room (``RoomNotFound`` for a session's private one)."""
        return self.venues.room(room_id)

    def rooms(self, cinema: str | None = None) -> list[Room]:
        """The chain's rooms (of one cinema if named), by cinema and name."""
        return self.venues.rooms(cinema)

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
        rating: str = DEFAULT_RATING,
        room: str | None = None,
        rows: int | None = None,
        seats_per_row: int | None = None,
    ) -> SessionView:
        """A new session in the room ``room_id``, at ``prices`` per category (or one ``price``;
        or a private room of ``rows`` × ``seats_per_row``, see ``Sessions.create_session``)."""
        return self.programme.create_session(
            movie=movie,
            starts_at=starts_at,
            room_id=room_id,
            prices=prices,
            price=price,
            duration_minutes=duration_minutes,
            ticket_types=ticket_types,
            forbid_single_gaps=forbid_single_gaps,
            rating=rating,
            room=room,
            rows=rows,
            seats_per_row=seats_per_row,
        )

    def session(self, session_id: UUID) -> SessionView:
        """The session as stored now (an admin may have changed or cancelled it)."""
        return self.programme.session(session_id)

    def sessions(
        self,
        limit: int = 50,
        cursor: str | None = None,
        where: SessionFilter | None = None,
        *,
        past: bool = False,
    ) -> Page[SessionView]:
        """Sessions by start time, a page at a time (see ``Sessions.sessions``)."""
        return self.programme.sessions(limit, cursor, where, past=past)

    def seat_map(self, session_id: UUID) -> SeatMap:
        """Every seat of the session's room with its status now."""
        return self.seat_maps.seat_map(session_id)

    # -- reservations ---------------------------------------------------------------------

    def reserve(
        self,
        user_id: str,
        session_id: UUID,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
        extras: Extras = NO_EXTRAS,
    ) -> Reservation:
        """Hold all the seats for ``hold``, or none (see ``Holds.reserve``)."""
        return self.holds.reserve(user_id, session_id, seats, tickets, extras)

    def reserve_unadmitted(
        self,
        user_id: str,
        session_id: UUID,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
        extras: Extras = NO_EXTRAS,
    ) -> Reservation:
        """``reserve`` for a buyer who brought no admission, with no ``check_admission``
        before: the seat lock reads the waiting room (see ``WaitingRooms.reserve_unadmitted``)."""
        return self.waiting.reserve_unadmitted(user_id, session_id, seats, tickets, extras)

    def reserve_best(
        self,
        user_id: str,
        session_id: UUID,
        count: int,
        *,
        category: str | None = None,
        together: bool = True,
        tickets: Mapping[str, int] | None = None,
        extras: Extras = NO_EXTRAS,
    ) -> Reservation:
        """Hold the best ``count`` seats for sale (see ``BestAvailable.reserve_best``)."""
        return self.best.reserve_best(
            user_id,
            session_id,
            count,
            category=category,
            together=together,
            tickets=tickets,
            extras=extras,
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
        return self.holds.reservation(reservation_id, user_id, admin=admin)

    def cancel(self, reservation_id: UUID, user_id: str) -> Reservation:
        """Free the seats at once (see ``Holds.cancel``)."""
        return self.holds.cancel(reservation_id, user_id)

    def pay(self, reservation_id: UUID, user_id: str) -> tuple[Sale, bool]:
        """Turn the hold into a sale, and whether it is new (see ``Holds.pay``)."""
        return self.holds.pay(reservation_id, user_id)

    def sale(self, sale_id: UUID) -> Sale | None:
        """The sale, or ``None`` if there is none."""
        return self.after_sale.sale(sale_id)

    def purchases(self, user_id: str, limit: int = 50, cursor: str | None = None) -> Page[Sale]:
        """The user's sales, newest first."""
        return self.after_sale.purchases(user_id, limit, cursor)

    def expire_due(self, limit: int = 1000) -> int:
        """Record every lapsed hold as expired; returns how many (see ``Holds.expire_due``)."""
        return self.holds.expire_due(limit)

    # -- payments through a provider --------------------------------------------------------

    @property
    def provider_name(self) -> str:
        """``instant``, or the name of the provider that takes the money."""
        return self.payments.provider_name()

    def pays_later(self) -> bool:
        """Whether paying a hold starts a payment that a provider settles later (``False``:
        ``instant``, ``pay`` sells at once)."""
        return self.payments.deferred()

    def start_payment(self, reservation_id: UUID, user_id: str) -> Payment:
        """Ask the buyer's bank for the hold's amount (see ``Payments.start``); only with a
        provider (``instant`` pays with ``pay``)."""
        return self.payments.start(reservation_id, user_id)

    def payment(self, payment_id: UUID, user_id: str, *, admin: bool = False) -> Payment:
        """The payment, to its payer or an admin (``PaymentNotFound`` otherwise)."""
        return self.payments.payment(payment_id, user_id, admin=admin)

    def settle_payment(self, charge_id: str) -> Payment | None:
        """Act on what the provider says of a charge now (see ``Payments.settle``)."""
        return self.payments.settle(charge_id)

    def reconcile_payments(self) -> int:
        """One pass of reconciliation (see ``Payments.reconcile``); 0 with nothing due."""
        return self.payments.reconcile()

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
        return self.after_sale.refund(sale_id, user_id, seats, admin=admin)

    def owned_sale(self, sale_id: UUID, user_id: str, *, admin: bool = False) -> Sale:
        """The sale, to its buyer or an admin; anyone else is told there is none."""
        return self.after_sale.owned_sale(sale_id, user_id, admin=admin)

    def tickets(self, sale_id: UUID, user_id: str, *, admin: bool = False) -> list[Ticket]:
        """The sale's tickets, one per seat, to its buyer or an admin."""
        return self.after_sale.tickets(sale_id, user_id, admin=admin)

    def printout(self, sale_id: UUID) -> Printout:
        """The sale with its tickets and session, to print (see ``AfterSale.printout``)."""
        return self.after_sale.printout(sale_id)

    def ticket(self, ticket_id: UUID, user_id: str, *, admin: bool = False) -> Ticket:
        """One ticket, to the buyer of its sale or an admin."""
        return self.after_sale.ticket(ticket_id, user_id, admin=admin)

    def check_in(self, code: str, session_id: UUID | None = None) -> Ticket:
        """Let the holder of ``code`` in, once (see ``AfterSale.check_in``)."""
        return self.after_sale.check_in(code, session_id)

    def admit(self, code: str, session_id: UUID | None = None) -> Admission:
        """Check a ticket in with what the door must check (see ``AfterSale.admit``)."""
        return self.after_sale.admit(code, session_id)

    def session_report(self, session_id: UUID) -> SessionReport:
        """How full the session is and what it earned, net of refunds."""
        return self.reports.session_report(session_id)

    def session_statement(self, session_id: UUID) -> SessionStatement:
        """The session's borderô: tickets and money by ticket type, category and method."""
        return self.reports.session_statement(session_id)

    def sales_report(
        self,
        *,
        paid_from: datetime | None = None,
        paid_before: datetime | None = None,
        cinema: str | None = None,
    ) -> list[DailySales]:
        """Sales per day (UTC) of payment, cinema and movie, net of refunds."""
        return self.reports.sales_report(
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
        rating: str | None = None,
    ) -> SessionView:
        """Change the movie or times of a session (see ``SessionLife.change_session``)."""
        return self.session_life.change_session(
            session_id,
            movie=movie,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            rating=rating,
        )

    def cancel_session(self, session_id: UUID, by: str) -> SessionView:
        """Cancel the session, its holds released and sales refunded (see ``SessionLife``)."""
        return self.session_life.cancel_session(session_id, by)

    # -- the counter --------------------------------------------------------------------------

    def open_shift(self, operator: str, float_: Money) -> Shift:
        """A new open shift of ``operator``, one at a time (see ``Counter.open_shift``)."""
        return self.counter.open_shift(operator, float_)

    def shift(
        self, shift_id: UUID, user_id: str, *, admin: bool = False
    ) -> tuple[Shift, ShiftStatement]:
        """The shift and its statement, to its operator or an admin (see ``Counter.shift``)."""
        return self.counter.shift(shift_id, user_id, admin=admin)

    def open_shifts(self, operator: str) -> list[Shift]:
        """The operator's open shift, as a list (empty or one)."""
        return self.counter.open_shifts(operator)

    def close_shift(
        self, shift_id: UUID, user_id: str, counted: Money, *, admin: bool = False
    ) -> tuple[Shift, ShiftStatement]:
        """Close the shift with the cash counted: its final statement (``Counter.close_shift``)."""
        return self.counter.close_shift(shift_id, user_id, counted, admin=admin)

    def counter_sale(self, operator: str, order: CounterOrder) -> Sale:
        """Sell at the till of the operator's open shift (see ``Counter.sell``)."""
        return self.counter.sell(operator, order)

    # -- waiting rooms ------------------------------------------------------------------------

    def set_waiting_room(self, session_id: UUID, settings: RoomSettings) -> RoomFigures:
        """Turn a session's waiting room on or off, at a rate and a cap of active buyers."""
        return self.waiting.set_room(session_id, settings)

    def waiting_room(self, session_id: UUID) -> RoomFigures:
        """The room's settings, how many wait and how many are admitted now."""
        return self.waiting.room_figures(session_id)

    def open_waiting_rooms(self) -> list[RoomFigures]:
        """The figures of every waiting room that is on now."""
        return self.waiting.open_rooms()

    def join_queue(self, session_id: UUID, user_id: str) -> Standing:
        """A place in the session's queue (the same one again for a user already in it)."""
        return self.waiting.join(session_id, user_id)

    def queue_standing(self, ticket: str, user_id: str) -> Standing:
        """Where the user's ticket stands now: waiting, admitted (with its token) or lapsed."""
        return self.waiting.standing(ticket, user_id)

    def leave_queue(self, ticket: str, user_id: str) -> Place:
        """Give up a place in the queue, or an admission: it frees a place for the next."""
        return self.waiting.leave(ticket, user_id)

    def check_admission(
        self, session_id: UUID, user_id: str, token: str | None, *, staff: bool = False
    ) -> None:
        """Refuse a reservation the session's waiting room does not admit (see WaitingRooms)."""
        return self.waiting.check_admission(session_id, user_id, token, staff=staff)
