"""Holding seats: what every use case that holds, frees or sells seats shares, written once.

``Holding`` owns the session cache, the seat lock in front of the store (taken before a hold's
unit of work, given back when it fails), the seats locked after the session's row and checked
on sale, the ticket quotas, and the end of every hold's unit of work. The use cases (``Rooms``,
``Sessions``, ``SeatMaps``, ``Holds``, ``BestAvailable``, ``AfterSale``, ``Reports``,
``SessionLife``) are handed one at construction.

The seat lock it is given never fails: when the lock service may be down, the composition root
wraps it (``fallbacks.ForgivingSeatLock``), so no use case hears of an outage; in memory the
lock is the process's own. The lock only filters: the store decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

import attrs

from cinema_core.errors import (
    ProductSoldOut,
    PromoCodeInvalid,
    SessionNotFound,
    WaitingRoomMayBeOn,
)
from cinema_core.events import envelopes as events
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.goods.products import product_lines, quantities
from cinema_core.goods.promo_codes import UNKNOWN
from cinema_core.kernel.clock import Clock
from cinema_core.kernel.metrics import NO_METRICS
from cinema_core.ports import Metrics, ReservationRepo, SeatLock, Transaction
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.reservations import Reservation, ReservationStatus
from cinema_core.selling.ticket_types import check_quotas, with_quota
from cinema_core.sessions.session import Session, SessionView

T = TypeVar("T")

SESSION_CACHE_SIZE = 10_000

# What a use case does with a new hold inside the hold's own unit of work, once it is made
# (its seats locked and held, its quotas checked): the counter sells it there and then. Handed
# the transaction, the session, the reservation, its seats as locked and the instant.
HoldStep = Callable[[Transaction, Session, Reservation, list[Seat], datetime], None]


def _never(outcome: object) -> bool:
    return False


@attrs.define
class Holding:
    """Holding seats of a store behind a seat lock, for every use case that does."""

    repo: ReservationRepo
    seat_lock: SeatLock
    clock: Clock
    # How long a hold lasts, and the seat lock with it.
    hold: timedelta
    new_id: Callable[[], UUID]
    # How long after its start a session is still sold (never after it ends).
    sales_close: timedelta
    # What every use case counts once its unit of work has committed (GET /metrics).
    metrics: Metrics = NO_METRICS
    # A session's room, prices and ticket types never change, so every process may keep them:
    # it saves the store a round trip on each reservation. What may change (movie, times,
    # cancellation) is read again under lock wherever a rule depends on it (``on_sale``).
    _sessions: dict[UUID, Session] = attrs.field(factory=dict, init=False, repr=False)

    # -- sessions -------------------------------------------------------------------------

    def session(self, session_id: UUID) -> Session:
        """The session, as kept by this process (``SessionNotFound`` if there is none)."""
        session = self._sessions.get(session_id)
        if session is None:
            session = self.repo.get_session(session_id)
            if session is None:
                raise SessionNotFound()
            self.keep(session)
        return session

    def keep(self, session: Session) -> None:
        """Keep the session as read or written now."""
        if len(self._sessions) >= SESSION_CACHE_SIZE:
            self._sessions.clear()  # atomic, unlike evicting one while other threads read
        self._sessions[session.id] = session

    def view(
        self,
        session: Session,
        available: int | None = None,
        used: Mapping[str, int] | None = None,
    ) -> SessionView:
        """The session as the API shows it now, with its ``available`` seats and the seats
        ``used`` per ticket code that its quotas count (each counted if ``None``)."""
        now = self.clock.now()
        if available is None:
            counts = self.repo.available_counts([session.id], now)
            available = counts.get(session.id, 0)
        if used is None and any(kind.group for kind in session.ticket_types):
            used = self.repo.ticket_counts([session.id], now).get(session.id, {})
        return SessionView.at(session, available, now, self.sales_close, used)

    # -- inside a unit of work ------------------------------------------------------------

    def on_sale(
        self,
        tx: Transaction,
        session: Session,
        labels: Sequence[SeatLabel],
        *,
        skip_locked: bool = False,
    ) -> list[Seat]:
        """The seats, locked after the session's row (the first locks of every hold; see
        session_life for why no purchase survives a cancellation), once the session as it
        stands is checked to be still on sale."""
        current, seats = tx.lock_session_and_seats(session, labels, skip_locked=skip_locked)
        current.check_on_sale(self.clock.now(), self.sales_close)
        return seats

    def commit_hold(
        self,
        tx: Transaction,
        session: Session,
        reservation: Reservation,
        seats: Sequence[Seat],
        at: datetime,
        extras: Extras = NO_EXTRAS,
        then: HoldStep | None = None,
    ) -> Reservation:
        """The end of every new hold's unit of work, once its ``seats`` are held: its
        ``extras`` taken, the quotas checked at ``at``, then the seats and the reservation
        saved and announced, then ``then`` (if any) in the same unit of work."""
        self.take_extras(tx, session, reservation, extras, at)
        self.check_quotas(tx, session, reservation.tickets(), at)
        tx.save_seats(session.id, seats)
        tx.add_reservation(reservation)
        tx.emit(events.reservation_created(self.new_id(), reservation, reservation.created_at))
        if then is not None:
            then(tx, session, reservation, list(seats), at)
        return reservation

    @staticmethod
    def take_extras(
        tx: Transaction, session: Session, reservation: Reservation, extras: Extras, at: datetime
    ) -> None:
        """Put the ``extras`` on the reservation: its products priced and their stock taken
        (``ProductSoldOut``), its promo code's use judged and held (``PromoCodeInvalid``)."""
        # After the seats, before the quotas: every transaction takes product rows in code
        # order after all its seats, then a promo code's row, then the quota lock last, so
        # no wait can close a cycle (see holds).
        reservation.products, reservation.discount = (), None
        if extras.products:
            reservation.products = product_lines(
                extras.products, tx.products(list(extras.products))
            )
            tx.take_stock(quantities(reservation.products))
        if extras.promo_code is not None:
            found = tx.promo_code_uses(extras.promo_code, reservation.user_id, at, reservation.id)
            if found is None:
                raise PromoCodeInvalid(extras.promo_code, UNKNOWN)
            promo, uses, user_uses = found
            promo.check(session, at)
            promo.check_uses(uses, user_uses)
            reservation.discount = promo.discount

    @staticmethod
    def retake_extras(tx: Transaction, reservation: Reservation, now: datetime) -> bool:
        """Take again what a lapsed hold gave back, for money that arrived late: its stock
        (once the sweeper gave it back) and its promo code's use. ``False``, taking
        nothing, when either is gone."""
        swept = reservation.status is ReservationStatus.EXPIRED
        wanted = quantities(reservation.products)
        try:
            if swept and wanted:
                tx.take_stock(wanted)
        except ProductSoldOut:
            return False
        if reservation.discount is None:
            return True
        found = tx.promo_code_uses(
            reservation.discount.code, reservation.user_id, now, reservation.id
        )
        try:
            if found is not None:
                found[0].check_uses(found[1], found[2])
        except PromoCodeInvalid:
            if swept and wanted:
                tx.give_back_stock(wanted)
            return False
        return True

    @staticmethod
    def give_back_extras(tx: Transaction, reservation: Reservation) -> None:
        """Give back the stock of a hold that ends unpaid (its promo code's use is given back
        by the hold's end itself: only live holds and sales count)."""
        if reservation.products:
            tx.give_back_stock(quantities(reservation.products))

    @staticmethod
    def check_quotas(
        tx: Transaction, session: Session, wanted: Counter[str], now: datetime
    ) -> None:
        """Refuse (``TicketQuotaExhausted``) seats of a type past its quota."""
        # After the seats: the quota lock is the last one a transaction takes, so it can never
        # be held by someone waiting for a seat (no deadlock), and types without a quota never
        # take it (no queue for full-price buyers).
        limited = with_quota(session.ticket_types, set(wanted))
        if limited:
            used = tx.quota_usage(session.id, limited, now)
            check_quotas(session.ticket_types, session.seat_count, wanted, used)

    @staticmethod
    def check_change_quotas(
        tx: Transaction,
        session: Session,
        before: Counter[str],
        after: Counter[str],
        now: datetime,
    ) -> None:
        """Refuse a change of a hold from ``before`` to ``after`` tickets past a quota."""
        # Only types the change takes more of need the quota lock (the last lock, as always);
        # the hold's own seats of a type are counted once: they are still held as before.
        more = {code for code, count in after.items() if count > before.get(code, 0)}
        limited = with_quota(session.ticket_types, more)
        if limited:
            used = tx.quota_usage(session.id, limited, now)
            others = {code: used.get(code, 0) - before.get(code, 0) for code in limited}
            check_quotas(
                session.ticket_types,
                session.seat_count,
                Counter({c: after[c] for c in limited}),
                others,
            )

    # -- the seat lock in front of the store ----------------------------------------------

    def lock(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: UUID,
        ttl: float | None = None,
        *,
        admit: Callable[[], None] | None = None,
    ) -> None:
        """Take the seat lock for ``owner`` for ``ttl`` seconds (a hold's length if ``None``);
        ``SeatsUnavailable`` names the seats someone else holds (the lock mirrors holds).

        ``admit`` is a waiting-room check not made yet: the lock reads the session's room in
        the same round trip, and ``admit`` runs (raising for a buyer the room does not admit)
        only if the room may be on."""
        seconds = self.hold.total_seconds() if ttl is None else ttl
        if admit is not None:
            try:
                self.seat_lock.acquire(session_id, labels, str(owner), seconds, unless_waiting=True)
                return
            except WaitingRoomMayBeOn:
                admit()
        self.seat_lock.acquire(session_id, labels, str(owner), seconds)

    def unlock(self, session_id: UUID, labels: Sequence[SeatLabel], owner: UUID) -> None:
        """Give back the owner's seat locks: left alone they would turn buyers away until
        they lapse."""
        self.seat_lock.release(session_id, labels, str(owner))

    def locked(self, session_id: UUID, labels: Sequence[SeatLabel]) -> set[SeatLabel]:
        """Those of the seats the seat lock has locked now, anywhere."""
        return self.seat_lock.locked(session_id, labels)

    def behind_lock(
        self,
        session_id: UUID,
        labels: Sequence[SeatLabel],
        owner: UUID,
        work: Callable[[Transaction], T],
        *,
        locked: bool = True,
        missed: Callable[[T], bool] = _never,
    ) -> T:
        """``work`` as one unit of work behind the seat lock ``owner`` has taken on ``labels``
        (when ``locked``), which is given back if the work fails or its outcome is ``missed``."""
        try:
            outcome = self.repo.atomic(work)
        except BaseException:
            if locked:
                self.unlock(session_id, labels, owner)
            raise
        if locked and missed(outcome):
            self.unlock(session_id, labels, owner)
        return outcome
