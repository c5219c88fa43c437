"""The ports: what the box office needs from the outside world, typed in domain terms only.

Each has an in-memory implementation in ``cinema_core.memory`` (the in-memory mode) and a real one
in ``adapters``; ``tests/contract`` holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar
from uuid import UUID

import attrs

from cinema_core.after_sale.admissions import Ticket
from cinema_core.after_sale.refunds import Refund
from cinema_core.counter.shifts import Shift
from cinema_core.events.envelopes import Event
from cinema_core.goods.products import Product
from cinema_core.goods.promo_codes import PromoCode
from cinema_core.kernel.clock import Clock
from cinema_core.kernel.money import Money
from cinema_core.kernel.pagination import Cursor
from cinema_core.payments.payment import Payment
from cinema_core.reports.figures import DailySales, SalesFilter, SessionTally
from cinema_core.reports.goods import SoldGoods
from cinema_core.reports.statement import StatementGroup
from cinema_core.rooms.layout import Room
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.sessions.session import Session, SessionFilter
from cinema_core.waiting.room import Place, RoomFigures, RoomSettings
from cinema_core.webhooks.deliveries import Delivery, Outcome
from cinema_core.webhooks.webhook import Webhook

T = TypeVar("T")
# How ``Transaction.lock_session`` locks the session's row (see there).
SessionLockMode = Literal["purchase", "change", "cancel"]

__all__ = [
    "Bucket",
    "Clock",
    "EventBus",
    "IdempotencyStore",
    "Metrics",
    "OutboxBacklog",
    "ProcessedEvents",
    "RateLimiter",
    "ReservationRepo",
    "SeatLock",
    "SessionLockMode",
    "StoredAnswer",
    "Transaction",
    "WaitingLines",
    "WebhookSender",
    "WebhookStore",
]


class Transaction(Protocol):
    """One unit of work in the store. Everything written through it, the events it emits
    included, commits together or not at all."""

    def add_room(self, room: Room) -> None:
        """Store a new room; another room of that cinema with that name raises ``RoomExists``."""
        ...

    def add_session(self, session: Session) -> None:
        """Store a new session (and its room, if private) with its seats for sale, available.

        A session whose ``[starts_at, ends_at)`` overlaps another's in the same room raises
        ``RoomBusy`` naming the other, judged by the store itself: two overlapping sessions
        created at once in different processes cannot both be stored.
        """
        ...

    def lock_session(self, session: Session, *, mode: SessionLockMode = "purchase") -> Session:
        """``session`` as the store holds it now (its movie, times, cancellation: what may have
        changed since a process kept it), its row locked until the transaction ends; the first
        lock of any transaction that takes it. An unknown session raises ``SessionNotFound``.

        ``"purchase"``: what every hold, change of a hold, payment and refund takes; purchases
        never wait for each other (nor for a quota's lock) on it. ``"cancel"``: conflicts with
        every other mode, so a cancellation waits for every purchase in flight to end and every
        later one waits for it, and then sees it. ``"change"``: conflicts with another change
        or cancellation, not with purchases: a purchase judged on the times just before a
        change is as if it came before it (a change leaves holds and sales as they are).
        """
        ...

    def lock_session_and_seats(
        self, session: Session, labels: Sequence[SeatLabel], *, skip_locked: bool = False
    ) -> tuple[Session, list[Seat]]:
        """``lock_session`` (shared), then ``lock_seats`` (``try_lock_seats`` when
        ``skip_locked``), the locks in that order; one round trip where the store can. What a
        hold and best available's try begin with."""
        ...

    def lock_session_reservation_and_seats(
        self, reservation_id: UUID, kept: Callable[[UUID], Session]
    ) -> tuple[Session, Reservation, list[Seat]] | None:
        """The reservation's session locked shared (``lock_session`` of ``kept(session_id)``,
        the process's copy of it), then ``lock_reservation_and_seats``, the locks in that
        order; one round trip where the store can. What a payment begins with: it learns the
        session from the reservation, yet locks the session first (session_life's order)."""
        ...

    def save_session(self, session: Session) -> None:
        """Store a changed or cancelled session (locked ``"change"`` or ``"cancel"``). A change
        that makes it overlap another live session of its room raises ``RoomBusy``, judged by
        the store; a cancelled session no longer occupies its room."""
        ...

    def lock_pending(self, session_id: UUID) -> list[Reservation]:
        """The session's reservations stored as pending (lapsed or not), locked, in id order:
        after the session's own lock, before any seat (the reservation-before-seats order)."""
        ...

    def session_sales(self, session_id: UUID) -> list[Sale]:
        """Every sale of the session, in id order (their tickets are locked one sale at a time,
        after the seats, with ``lock_tickets``)."""
        ...

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        """The named seats that exist, locked against other transactions until this one ends.

        Locks are taken in label order, so two requests for crossed seats queue instead of
        deadlocking.
        """
        ...

    def try_lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> list[Seat]:
        """Those of the named seats that exist and no other transaction has locked, locked now
        until this one ends, in label order; a seat another transaction has locked is left out,
        never waited for (``FOR UPDATE SKIP LOCKED``).

        What best available tries its candidates with: buyers asking at once skip each other's
        seats and try their next choice instead of queueing on the same best seats.
        """
        ...

    def save_seats(self, session_id: UUID, seats: Sequence[Seat]) -> None: ...

    def quota_usage(
        self, session_id: UUID, tickets: Sequence[str], now: datetime
    ) -> dict[str, int]:
        """Lock the session's ticket quotas until the transaction ends, then count, for each of
        ``tickets``, the session's seats that count against it at ``now`` (``Seat.counts_for``).

        The lock serializes every hold that could take a quota; it is taken after the seats,
        the last lock of a transaction, so it never closes a cycle of waits.
        """
        ...

    # -- the counter's goods: products and promo codes ---------------------------------

    def add_product(self, product: Product) -> None:
        """Store a new product; another with its code raises ``ProductExists``."""
        ...

    def products(self, codes: Sequence[str]) -> list[Product]:
        """Those of the named products that exist, as stored now (no lock), by code."""
        ...

    def take_stock(self, wanted: Mapping[str, int]) -> None:
        """Take ``wanted`` units (by code) of each product from its stock, all or none;
        judged by the store itself, each product's row locked in code order until the
        transaction ends (after every seat, before any promo code or quota). A product with
        fewer units left than wanted raises ``ProductSoldOut`` and takes nothing: stock
        never goes below zero, whatever the interleaving. Products without stock always
        give."""
        ...

    def give_back_stock(self, wanted: Mapping[str, int]) -> None:
        """Put ``wanted`` units back in their products' stock (rows locked in code order)."""
        ...

    def restock(self, code: str, units: int) -> Product | None:
        """Add ``units`` to the product's stock (a product without stock is left as it is);
        ``None`` for an unknown code."""
        ...

    def edit_product(self, code: str, name: str | None, price: Money | None) -> Product | None:
        """Give the product a new name and/or price (``None``: kept), its stock untouched;
        ``None`` for an unknown code. Holds made before keep the price they were made at."""
        ...

    def add_promo_code(self, promo: PromoCode) -> None:
        """Store a new promo code; another with its code raises ``PromoCodeExists``."""
        ...

    def promo_code_uses(
        self, code: str, user_id: str, now: datetime, excluding: UUID
    ) -> tuple[PromoCode, int, int] | None:
        """Lock the promo code until the transaction ends (after the products, before the
        quotas), then count its uses at ``now``: everyone's and ``user_id``'s, the
        reservation ``excluding`` left out. A use is a reservation carrying the code that is
        pending and unlapsed at ``now``, or paid and not refunded in full. ``None`` for an
        unknown code. What keeps ``max_uses`` and ``per_user`` exact across processes."""
        ...

    def add_reservation(self, reservation: Reservation) -> None: ...

    def lock_reservation(self, reservation_id: UUID) -> Reservation | None:
        """The reservation, locked until the transaction ends: payment, cancellation and expiry
        of one reservation are serialized on it."""
        ...

    def lock_reservation_and_seats(
        self, reservation_id: UUID
    ) -> tuple[Reservation, list[Seat]] | None:
        """``lock_reservation``, then ``lock_seats`` of all its seats, the two locks in that
        order; one round trip where the store can. For payment and cancellation, which lock
        exactly those seats (a use case that locks others locks them all at once instead, so
        that its seat locks stay in label order)."""
        ...

    def save_reservation(self, reservation: Reservation) -> None: ...

    def add_sale(self, sale: Sale) -> None:
        """Store a sale; a second live sale of a seat (one its earlier sale did not refund) or a
        second sale of a reservation is refused by the store."""
        ...

    def get_sale(self, sale_id: UUID) -> Sale | None: ...

    def lock_lapsed(self, now: datetime, limit: int) -> list[Reservation]:
        """Up to ``limit`` pending reservations lapsed at ``now``, locked; ones locked by another
        transaction are skipped, so any number of sweepers can run side by side."""
        ...

    def emit(self, event: Event) -> None:
        """Record an event in the outbox, to be published once this transaction commits."""
        ...

    # -- after the sale: tickets, refunds, check-ins ---------------------------------------

    def add_tickets(self, tickets: Sequence[Ticket]) -> None:
        """Store a new sale's tickets. A code already given out, or a second ticket of a seat
        whose earlier ticket was not refunded, is refused by the store (``ValueError``)."""
        ...

    def lock_tickets(self, sale_id: UUID) -> list[Ticket]:
        """The sale's tickets in label order, locked until the transaction ends.

        Taken after the sale's seats (``lock_seats``), so every transaction that locks seats
        and tickets takes them in one global order; a check-in locks one ticket and nothing
        after it, so it never closes a cycle of waits either.
        """
        ...

    def add_refund(self, refund: Refund, *, used_too: bool = False) -> None:
        """Store the refund: its tickets become refunded, and its seats stop counting as sold
        by the sale, so that they can be sold again (``save_seats`` frees the seats
        themselves). Refused by the store itself, whatever the use case decided, when one of
        the tickets is already refunded (``AlreadyRefunded``) or used (``TicketUsed``; not
        when ``used_too``, the refund of a cancelled session)."""
        ...

    def lock_ticket(self, code: str) -> Ticket | None:
        """The ticket with this code, locked until the transaction ends (a check-in and a
        refund of its seat are serialized on it)."""
        ...

    def check_in(self, ticket: Ticket) -> None:
        """Record the ticket's ``checked_in_at``. Refused by the store itself, whatever the use
        case decided, when the ticket is already checked in (``AlreadyCheckedIn``) or
        refunded (``TicketRefunded``): a ticket checks in once, never after a refund."""
        ...

    # -- the counter's shifts ---------------------------------------------------------------

    def add_shift(self, shift: Shift) -> None:
        """Store a new open shift. Another open shift of its operator raises ``ShiftOpen``,
        judged by the store itself: two opens at once in different processes cannot both
        be stored."""
        ...

    def lock_shift(self, shift_id: UUID, *, shared: bool = False) -> Shift | None:
        """The shift as stored now, its row locked until the transaction ends: ``shared`` by a
        sale or refund taken into it (the last lock they take), exclusively by its close, so a
        close waits for the sales in flight and later ones see it closed."""
        ...

    def save_shift(self, shift: Shift) -> None:
        """Store a shift locked in this transaction (closed, with its final statement)."""
        ...

    def shift_sales(self, shift_id: UUID) -> list[Sale]:
        """Every counter sale of the shift, refunds included, in id order, as this
        transaction sees them."""
        ...

    # -- payments through a provider ------------------------------------------------------

    def add_payment(self, payment: Payment) -> None:
        """Store a new payment. A second ``pending`` payment of one reservation raises
        ``PaymentInProgress``, judged by the store itself: two attempts started at once in
        different processes cannot both be pending (so never two charges for one hold)."""
        ...

    def lock_payment(self, payment_id: UUID) -> Payment | None:
        """The payment, locked until the transaction ends: every outcome of one payment
        (approval, decline, expiry, refund) is decided under this lock, so it has one."""
        ...

    def lock_payment_of_charge(self, provider: str, charge_id: str) -> Payment | None:
        """The payment whose charge at ``provider`` is ``charge_id``, locked as
        ``lock_payment``; ``None`` for a charge that is not ours."""
        ...

    def lock_payment_of_sale(self, sale_id: UUID) -> Payment | None:
        """The payment that made the sale, locked as ``lock_payment``; ``None`` for a sale
        paid at once. Taken after the sale's tickets (a refund's and a cancellation's order)."""
        ...

    def lock_open_payment(self, reservation_id: UUID) -> Payment | None:
        """The reservation's ``pending`` payment (there is at most one), locked as
        ``lock_payment``; ``None`` if it has none."""
        ...

    def save_payment(self, payment: Payment) -> None:
        """Store every field of a payment locked in this transaction. Moving it to
        ``pending`` beside another pending payment of its reservation raises
        ``PaymentInProgress``, as ``add_payment``."""
        ...

    def lock_payments_due(self, quiet_since: datetime, limit: int) -> list[Payment]:
        """Up to ``limit`` payments reconciliation owes a look, oldest ``heard_at`` first,
        locked: ``pending`` (a notice may be lost) and ``review`` ones (money still owed back)
        not heard of since ``quiet_since``; claiming one marks it heard of, so a refund the
        provider keeps refusing is asked again once per interval, never in a tight loop. Ones
        locked by another transaction are skipped, never waited for, so any number of workers
        can reconcile side by side."""
        ...

    def note_notice(self, provider: str, notice: str) -> bool:
        """Record the provider's notification ``notice`` as handled, with this transaction:
        ``True`` the first time, ``False`` if it was handled before (committed, or by a
        transaction running now, which this one then waits for). A rolled back transaction
        leaves it unhandled. What makes a notice delivered many times have one effect."""
        ...


class ReservationRepo(Protocol):
    """The source of truth: sessions, seats, reservations, sales and the event outbox."""

    # What the events a transaction records carry as ``Event.traceparent``: called once per
    # commit that records any (None: they carry none). The composition root sets it when
    # tracing is on.
    traceparent: Callable[[], str | None] | None

    def atomic(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` in one transaction and commit it, or roll it all back if it raises.

        A transient conflict (deadlock, serialization failure) re-runs ``work`` from the
        start, so ``work`` must not act outside the transaction.
        """
        ...

    def get_room(self, room_id: UUID) -> Room | None: ...

    def list_products(self) -> list[Product]:
        """Every product with what is left of it, by code."""
        ...

    def list_rooms(self, cinema: str | None) -> list[Room]:
        """The rooms that are not private (of ``cinema`` if given), by cinema and name."""
        ...

    def get_session(self, session_id: UUID) -> Session | None: ...

    def list_sessions(
        self, after: Cursor | None, limit: int, where: SessionFilter
    ) -> list[Session]:
        """Sessions that ``where`` admits, ordered by ``(starts_at, id)``, strictly after the
        cursor."""
        ...

    def available_counts(self, session_ids: Sequence[UUID], now: datetime) -> dict[UUID, int]:
        """How many seats of each session are neither sold nor held at ``now``."""
        ...

    def ticket_counts(
        self, session_ids: Sequence[UUID], now: datetime
    ) -> dict[UUID, dict[str, int]]:
        """How many seats of each session are sold or held (unlapsed) at ``now`` per ticket
        code, as ``Transaction.quota_usage`` counts them but without its lock (a reading)."""
        ...

    def seats(self, session_id: UUID) -> list[Seat]:
        """Every seat for sale of the session, in label order (empty for an unknown session)."""
        ...

    def get_reservation(self, reservation_id: UUID) -> Reservation | None: ...

    def get_sale(self, sale_id: UUID) -> Sale | None: ...

    def purchases(self, user_id: str, before: Cursor | None, limit: int) -> list[Sale]:
        """The user's sales, newest first by ``(paid_at, id)``, strictly before the cursor."""
        ...

    def tickets(self, sale_id: UUID) -> list[Ticket]:
        """The sale's tickets, in label order (empty for an unknown sale)."""
        ...

    def get_ticket(self, ticket_id: UUID) -> Ticket | None: ...

    def get_payment(self, payment_id: UUID) -> Payment | None: ...

    def get_shift(self, shift_id: UUID) -> Shift | None: ...

    def open_shift(self, operator: str) -> Shift | None:
        """The operator's open shift, if any (at most one)."""
        ...

    def shift_sales(self, shift_id: UUID) -> list[Sale]:
        """Every counter sale of the shift, refunds included, in id order."""
        ...

    def payment_of_sale(self, sale_id: UUID) -> Payment | None:
        """The payment that made the sale (approved when it did; a refund of its seats may
        have moved it on since), ``None`` for a sale paid at once."""
        ...

    def payments_of_reservation(self, reservation_id: UUID) -> list[Payment]:
        """Every payment of the reservation, newest first by ``(created_at, id)``."""
        ...

    def session_tally(self, session_id: UUID, now: datetime) -> SessionTally:
        """What a session's report counts, from one snapshot: seats under a hold unlapsed at
        ``now``, and the session's tickets grouped by category and ticket type."""
        ...

    def statement_groups(self, session_id: UUID) -> list[StatementGroup]:
        """What a session's statement counts, from one snapshot: every ticket of the session
        ever sold, grouped by category, ticket type and the provider of the payment that made
        its sale (``reports.statement.INSTANT`` when none), refunded or not; ordered by those
        three."""
        ...

    def sales_by_day(self, where: SalesFilter) -> list[DailySales]:
        """Tickets sold, grouped by the day (UTC) they were paid, the session's cinema and
        movie: sessions they were for, tickets not refunded and their revenue; in
        ``reports.in_report_order``. Only groups with a ticket paid in the window appear."""
        ...

    def sales_with_goods(self, where: SalesFilter) -> list[SoldGoods]:
        """The sales that ``where`` admits (by payment, cinema, session) and that carry products
        or a promo code, as stored (refunded seats included), with their session's cinema and
        movie; by ``(paid_at, id)``."""
        ...

    def events(
        self,
        *,
        type: str | None,
        session_id: UUID | None,
        before: int | None,
        limit: int,
        published_only: bool = False,
    ) -> list[tuple[int, Event]]:
        """Recorded events (the outbox) with their sequence number, newest first, strictly
        before ``before``; ``published_only``: those the relay has published, which is the
        audit trail admins read."""
        ...

    def relay_outbox(self, publish: Callable[[Sequence[Event]], None], limit: int) -> int:
        """Hand the oldest unpublished events, in order, to ``publish``; mark them published
        if it returns. Returns how many went out. Only one relay at a time gets a batch, so
        order is kept and nothing goes out twice in the ordinary course."""
        ...

    def outbox_backlog(self) -> OutboxBacklog:
        """How many recorded events the relay has not published yet, and when the oldest of
        them occurred (``None`` with none waiting)."""
        ...

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the store cannot serve."""
        ...


@attrs.frozen
class OutboxBacklog:
    """The events waiting in the outbox for the relay."""

    count: int
    oldest_at: datetime | None


class SeatLock(Protocol):
    """Fast, advisory seat locks that turn away most losers of a race before the store.

    Never the judge: the store refuses a double sale by itself, so the box office keeps
    selling (more slowly) when the lock service is down.
    """

    def acquire(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: str,
        ttl: float,
        *,
        unless_waiting: bool = False,
    ) -> None:
        """Take every seat for ``owner`` for ``ttl`` seconds, in one atomic step, or none.

        Raises ``SeatsUnavailable`` naming the seats another owner has, or
        ``BackendUnavailable``. With ``unless_waiting`` the session's waiting room is read in
        the same step: on, or not known to this lock, it takes nothing and raises
        ``WaitingRoomMayBeOn``, so that a buyer with no admission costs one round trip.
        """
        ...

    def release(self, session_id: UUID, labels: Sequence[SeatLabel], owner: str) -> None:
        """Drop those of the locks that ``owner`` still has; others' are left alone."""
        ...

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        """Those of the seats some owner has locked now, in one round trip; takes nothing.

        What best available asks after its candidates collided with other buyers': the seats
        being held right now, in every process, so that it tries others. Raises
        ``BackendUnavailable``.
        """
        ...


@attrs.frozen
class StoredAnswer:
    """The answer first given to an idempotent request, replayed to its retries."""

    status: int
    body: bytes


class IdempotencyStore(Protocol):
    """Remembers each (scope, key) for at least 24 h, across every process."""

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """Claim the key. ``None``: the caller runs the request, then calls ``finish``.

        A stored answer: the request already ran; replay it. The same key with another
        fingerprint raises ``IdempotencyKeyReused``. A duplicate that arrives while the first is
        still running waits for its answer, and raises ``IdempotencyInProgress`` if it takes
        too long. Raises ``BackendUnavailable`` if the store cannot be reached.
        """
        ...

    def finish(self, scope: str, key: str, fingerprint: str, answer: StoredAnswer) -> None: ...

    def abandon(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so that a retry runs it afresh."""
        ...


# A token bucket as the limiter is asked for it: (key, tokens per second, at most this many).
Bucket = tuple[str, float, int]


class RateLimiter(Protocol):
    """Token buckets shared by every process."""

    def take(self, key: str, rate: float, burst: int) -> float:
        """Take one token from ``key``'s bucket (``rate`` per second, at most ``burst``).

        Returns 0 if it was there, else the seconds until one will be.
        """
        ...

    def take_all(self, buckets: Sequence[Bucket]) -> float:
        """Take one token from each bucket in order, as one request to the limiter.

        The buckets are left as ``take`` on each in turn would leave them, stopping at the
        first one without a token: those before it have given theirs, it is refilled to now,
        those after it are not touched. Returns 0 if every token was there, else the seconds
        until that first empty bucket has one.
        """
        ...


class EventBus(Protocol):
    """Where committed events go out to the world."""

    def publish(self, events: Sequence[Event]) -> None:
        """Deliver the events durably, in order, or raise ``BackendUnavailable``."""
        ...


class ProcessedEvents(Protocol):
    """Which events each consumer has already handled: what makes a redelivery harmless."""

    def seen(self, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
        """Those of ``event_ids`` that ``consumer`` has handled."""
        ...

    def mark(self, consumer: str, event_ids: Sequence[UUID]) -> None:
        """Record that ``consumer`` has handled these events (again is harmless)."""
        ...


class WebhookStore(Protocol):
    """Webhooks and their deliveries: the delivery log, and the schedule of what is due."""

    def add_webhook(self, webhook: Webhook) -> None: ...

    def webhooks(self) -> list[Webhook]:
        """Every webhook, disabled ones too, oldest first."""
        ...

    def get_webhook(self, webhook_id: UUID) -> Webhook | None: ...

    def remove_webhook(self, webhook_id: UUID) -> bool:
        """Forget the webhook and its deliveries; False if there was none."""
        ...

    def set_secret(self, webhook_id: UUID, secret: str) -> bool:
        """Sign with ``secret`` from now on; False if there is no such webhook."""
        ...

    def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        """Keep the new deliveries; one for a (webhook, event) already kept is skipped, so an
        event handed over twice is owed once. Returns how many were new."""
        ...

    def deliveries(self, webhook_id: UUID, before: Cursor | None, limit: int) -> list[Delivery]:
        """The webhook's deliveries, newest first (by ``created_at``, then id), strictly after
        ``before`` in that order."""
        ...

    def claim_due(
        self, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Delivery, Webhook]]:
        """Up to ``limit`` pending deliveries due by ``now`` of active webhooks, oldest due
        first, each with its webhook; each is due again only at ``until``, so no other claim
        takes it meanwhile (and a sender that dies holding it only delays it)."""
        ...

    def save_attempts(self, attempts: Sequence[tuple[Delivery, int]]) -> set[UUID]:
        """Write each delivery as its attempt left it, unless another attempt was recorded since
        it was claimed (its attempts are no longer the number paired with it), all at once;
        returns the ids written."""
        ...

    def disable_webhook(self, webhook_id: UUID, now: datetime, reason: str) -> None:
        """Disable the webhook; its pending deliveries read ``disabled``."""
        ...


class WebhookSender(Protocol):
    """POSTs a delivery to its receiver."""

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        """The receiver's answer, or the error that kept one from coming (refused, timed out,
        a redirect not followed); never raises for anything the receiver does."""
        ...


class WaitingLines(Protocol):
    """The queues of sessions' waiting rooms, shared by every process (see waiting/room.py).

    Every method that reads a queue first admits whoever the schedule says is due at ``now``
    (``admissions_due``) and lets lapsed admissions go, in the same atomic step: what one
    process reads, every other agrees with. Arrival numbers come from the store.
    """

    def configure(self, session_id: UUID, settings: RoomSettings, now: datetime) -> None:
        """Set a session's waiting room; switching it on starts the schedule at ``now``."""
        ...

    def settings(self, session_id: UUID) -> RoomSettings | None:
        """The session's waiting room as last set, or ``None`` if it never had one."""
        ...

    def join(
        self, session_id: UUID, user_id: str, ticket: str, now: datetime, lasts: timedelta
    ) -> Place | None:
        """Queue ``user_id`` under the new ``ticket`` (at the back); a user already waiting or
        admitted gets that place again (``new`` false). ``None`` when the room is not on."""
        ...

    def look(self, session_id: UUID, ticket: str, now: datetime, lasts: timedelta) -> Place | None:
        """The place of ``ticket`` now, or ``None`` if it left or never was."""
        ...

    def leave(self, session_id: UUID, ticket: str) -> bool:
        """Give up the place (waiting or admitted); False if there was none."""
        ...

    def active_until(
        self, session_id: UUID, ticket: str, user_id: str, now: datetime
    ) -> datetime | None:
        """When ``user_id``'s admission under ``ticket`` lapses, or ``None`` if it is not active."""
        ...

    def figures(self, session_id: UUID, now: datetime, lasts: timedelta) -> RoomFigures:
        """The room's settings, how many wait and how many are admitted now."""
        ...

    def rooms(self) -> list[UUID]:
        """Every session whose waiting room was ever set, in no particular order."""
        ...


class Metrics(Protocol):
    """What the use cases count, each once its unit of work has committed: the operators'
    view of the business (``cinema_core.memory.metrics`` has a no-op and a tally)."""

    def held(self, seats: int) -> None:
        """A new hold of ``seats`` seats."""
        ...

    def sold(self, seats: int) -> None:
        """A new sale of ``seats`` seats."""
        ...

    def refunded(self, seats: int) -> None:
        """A refund of ``seats`` seats."""
        ...

    def checked_in(self) -> None:
        """A ticket let in at the door."""
        ...

    def payment(self, status: str) -> None:
        """A payment through a provider came to ``status`` (``pending`` when started)."""
        ...
