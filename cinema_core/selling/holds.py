"""The use cases of a hold's life: made, changed, cancelled, paid, lapsed.

Each is one transaction against the store, through the ``Holding`` it is handed (the session
cache, the seat lock in front of the store, quotas, the end of a new hold's unit of work).

Lock order, the one every transaction keeps, so none can wait in a cycle: the session's row
first (see session_life); a reservation before its seats (payment, cancellation, a change); a
session's seats in label order, all in one statement; a session's ticket quotas after its seats,
last. A hold in a session that forbids single gaps locks every seat of the rows it touches, not
only its own, because the rule reads the neighbours: those rows are a larger set of seats of the
same session, locked in the same label order in the same one statement, so the order stays
global. Best available tries its candidates without waiting (see ``choosing``). The counter's
goods come after every seat and before the quotas: products' rows in code order, then a promo
code's row (``Holding.take_extras``); a sweeper gives stock back only once it has locked every
seat of its batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.after_sale.admissions import issue_tickets, new_code
from cinema_core.counter.till import CounterPayment
from cinema_core.errors import ReservationNotFound, SingleSeatGap
from cinema_core.events import envelopes as events
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.goods.products import quantities
from cinema_core.kernel.users import check_user_id
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import Seat, SeatLabel
from cinema_core.selling.best_available import available_at
from cinema_core.selling.gaps import row_labels, stranded
from cinema_core.selling.holding import Holding, HoldStep
from cinema_core.selling.reservations import (
    Reservation,
    ReservationStatus,
    Sale,
    claim_labels,
    hold_seats,
    priced_lines,
)
from cinema_core.sessions.session import Session

# Lapsed reservations expired in one transaction: one commit instead of a hundred.
EXPIRY_BATCH = 100


@attrs.define
class Holds:
    """Holding named seats, changing and cancelling a hold, paying for it, and its lapse."""

    holding: Holding
    # The code printed on each ticket of a sale.
    new_code: Callable[[], str] = new_code

    # -- a hold -----------------------------------------------------------------------------

    def reserve(
        self,
        user_id: str,
        session_id: UUID,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
        extras: Extras = NO_EXTRAS,
        *,
        then: HoldStep | None = None,
        admit: Callable[[], None] | None = None,
    ) -> Reservation:
        """Hold all the seats for ``hold``, or none (``SeatsUnavailable`` names the taken ones).

        ``admit`` is the session's waiting-room check, left to the seat lock's round trip
        (``Holding.lock``).

        ``extras`` (products, a promo code) are taken with the seats, all or none
        (``ProductSoldOut``, ``UnknownProduct``, ``PromoCodeInvalid``).

        ``tickets`` counts seats by ticket type (the rest are the session's first type); a type
        with a quota is never held or sold past it (``TicketQuotaExhausted``). In a session
        that forbids single gaps, a hold that would leave a seat alone in its row is refused
        (``SingleSeatGap``), judged on the rows as they stand at commit. ``then`` runs in the
        hold's unit of work once it is made (see ``HoldStep``).
        """
        check_user_id(user_id)
        session = self.holding.session(session_id)
        now = self.holding.clock.now()
        reservation = Reservation.claim(
            id=self.holding.new_id(),
            session=session,
            user_id=user_id,
            seats=seats,
            tickets=tickets or {},
            now=now,
            hold=self.holding.hold,
        )
        labels = reservation.seats
        # The lock mirrors the hold and lapses with it, so later requests for these seats are
        # turned away before they reach the store. It only filters: the store decides.
        self.holding.lock(session.id, labels, reservation.id, admit=admit)

        def work(tx: Transaction) -> Reservation:
            if session.forbid_single_gaps:
                held, at = self._take_judging_rows(tx, session, reservation)
            else:
                held = self.holding.on_sale(tx, session, labels)
                at = self.holding.clock.now()
                hold_seats(reservation.id, held, reservation.lines, reservation.expires_at, at)
            return self.holding.commit_hold(tx, session, reservation, held, at, extras, then)

        made = self.holding.behind_lock(session.id, labels, reservation.id, work)
        self.holding.metrics.held(len(made.seats))
        return made

    def _take_judging_rows(
        self, tx: Transaction, session: Session, reservation: Reservation
    ) -> tuple[list[Seat], datetime]:
        """Lock and hold the reservation's seats (``reserve``'s unit of work in a session that
        forbids single gaps), judging the rule on the rows as they stand at commit. Returns the
        seats to save and the instant they were judged at."""
        labels = reservation.seats
        rows = self.holding.on_sale(tx, session, row_labels(session.room, {x.row for x in labels}))
        free = available_at(rows, self.holding.clock.now())
        own = set(labels)
        held = [seat for seat in rows if seat.label in own]
        at = self.holding.clock.now()
        hold_seats(reservation.id, held, reservation.lines, reservation.expires_at, at)
        gap = stranded(session.room, free, labels)
        if gap:
            raise SingleSeatGap(gap)
        return held, at

    # -- changing, cancelling, paying -------------------------------------------------------

    def change(
        self,
        reservation_id: UUID,
        user_id: str,
        seats: Sequence[str],
        tickets: Mapping[str, int] | None = None,
    ) -> Reservation:
        """Make a pending hold cover exactly ``seats`` (with ``tickets`` as for ``reserve``),
        all or nothing: the seats dropped are free at once, ``expires_at`` does not move, and
        every rule of a new hold (seats, couples, quotas, single gaps) applies to the result.
        """
        labels = claim_labels(list(seats))
        stored = self.holding.repo.get_reservation(reservation_id)
        if stored is None or stored.user_id != user_id:
            raise ReservationNotFound()
        session = self.holding.session(stored.session_id)
        lines = priced_lines(session, labels, dict(tickets or {}))
        # The seat lock filters the seats to add, as for a new hold, and lapses with the hold.
        adding = sorted(set(labels) - set(stored.seats))
        left = (stored.expires_at - self.holding.clock.now()).total_seconds()
        locked = bool(adding) and left > 0
        if locked:
            self.holding.lock(session.id, adding, reservation_id, left)

        def work(tx: Transaction) -> tuple[Reservation, list[SeatLabel]]:
            # The session's lock first (see session_life); the seats are locked after the
            # reservation, all at once.
            tx.lock_session(session).check_on_sale(
                self.holding.clock.now(), self.holding.sales_close
            )
            reservation = _owned(tx, reservation_id, user_id)
            before = reservation.tickets()
            both = set(reservation.seats) | set(labels)
            touched = sorted(both)
            gaps = session.forbid_single_gaps
            wanted = row_labels(session.room, {label.row for label in touched}) if gaps else touched
            rows = tx.lock_seats(session.id, wanted)
            at = self.holding.clock.now()
            free = available_at(rows, at)
            mine = [seat for seat in rows if seat.label in both]
            old_lines = reservation.lines
            added, removed = reservation.change(lines, mine, at)
            if gaps:
                gap = stranded(session.room, free, added, removed)
                if gap:
                    raise SingleSeatGap(gap)
            self.holding.check_change_quotas(tx, session, before, reservation.tickets(), at)
            if reservation.lines == old_lines:
                return reservation, []
            tx.save_seats(session.id, mine)
            tx.save_reservation(reservation)
            tx.emit(
                events.reservation_changed(self.holding.new_id(), reservation, added, removed, at)
            )
            if removed:
                tx.emit(
                    events.seat_released(self.holding.new_id(), reservation, "changed", at, removed)
                )
            return reservation, removed

        changed, removed = self.holding.behind_lock(
            session.id, adding, reservation_id, work, locked=locked
        )
        if removed:
            self.holding.unlock(session.id, removed, reservation_id)
        return changed.as_of(self.holding.clock.now())

    def reservation(
        self, reservation_id: UUID, user_id: str, *, admin: bool = False
    ) -> Reservation:
        """The reservation as it is now (a lapsed pending one reads ``expired``), to its holder
        or an admin; anyone else is told there is none."""
        reservation = self.holding.repo.get_reservation(reservation_id)
        if reservation is None or not (admin or reservation.user_id == user_id):
            raise ReservationNotFound()
        return reservation.as_of(self.holding.clock.now())

    def cancel(self, reservation_id: UUID, user_id: str) -> Reservation:
        """Free the seats at once. Cancelling again answers the same; paid or lapsed refuses."""

        def work(tx: Transaction) -> tuple[Reservation, bool]:
            now = self.holding.clock.now()
            reservation, seats = _owned_with_seats(tx, reservation_id, user_id)
            if not reservation.cancel(seats, now):
                return reservation, False
            self.holding.give_back_extras(tx, reservation)
            tx.save_seats(reservation.session_id, seats)
            tx.save_reservation(reservation)
            tx.emit(
                events.reservation_ended(
                    self.holding.new_id(), events.RESERVATION_CANCELLED, reservation, now
                )
            )
            tx.emit(events.seat_released(self.holding.new_id(), reservation, "cancelled", now))
            return reservation, True

        reservation, changed = self.holding.repo.atomic(work)
        if changed:
            self.holding.unlock(reservation.session_id, reservation.seats, reservation.id)
        return reservation

    def pay(self, reservation_id: UUID, user_id: str) -> tuple[Sale, bool]:
        """Turn the hold into a sale. Returns the sale and whether it is new: paying again
        returns the first sale, never a second one. A hold is never paid once the session's
        sales closed (``SalesClosed``) or it was cancelled (``SessionCancelled``)."""

        def work(tx: Transaction) -> tuple[Sale, bool]:
            # The session's lock before the reservation's, in the one lock order (see
            # session_life), though the session is known only from the reservation.
            found = tx.lock_session_reservation_and_seats(reservation_id, self.holding.session)
            if found is None or found[1].user_id != user_id:
                raise ReservationNotFound()
            session, reservation, seats = found
            now = self.holding.clock.now()
            if (
                reservation.status is ReservationStatus.CONFIRMED
                and reservation.sale_id is not None
            ):
                sale = tx.get_sale(reservation.sale_id)
                if sale is not None:
                    return sale, False
            if reservation.status_at(now) is ReservationStatus.PENDING:
                session.check_on_sale(now, self.holding.sales_close)
            return self.sell(tx, reservation, seats, now), True

        sale, new = self.holding.repo.atomic(work)
        if new:
            self.holding.metrics.sold(len(sale.seats))
        return sale, new

    def sell(
        self,
        tx: Transaction,
        reservation: Reservation,
        seats: list[Seat],
        now: datetime,
        counter: CounterPayment | None = None,
    ) -> Sale:
        """Turn the pending hold into its sale, in ``tx`` where its ``seats`` are locked:
        what paying a hold and a counter sale (``counter``: how the till took the money) both
        end with."""
        sale = Sale.of(self.holding.new_id(), reservation, now, counter)
        reservation.confirm(sale.id, seats, now)
        tx.save_seats(reservation.session_id, seats)
        tx.save_reservation(reservation)
        tx.add_sale(sale)
        # The tickets are made with the sale: a paid seat always has its ticket.
        tx.add_tickets(issue_tickets(sale, self.holding.new_id, self.new_code))
        tx.emit(events.payment_confirmed(self.holding.new_id(), sale, now))
        return sale

    # -- lapsing -------------------------------------------------------------------------

    def expire_due(self, limit: int = 1000) -> int:
        """Record every lapsed hold as expired and publish its events; returns how many.

        Safe with any number of sweepers, in batches of up to ``EXPIRY_BATCH`` a transaction.
        """
        expired = 0
        while expired < limit:
            batch = min(EXPIRY_BATCH, limit - expired)
            done = self.holding.repo.atomic(functools.partial(self._expire_batch, limit=batch))
            expired += done
            if done < batch:
                break
        return expired

    def _expire_batch(self, tx: Transaction, limit: int) -> int:
        # Why this cannot deadlock: lapsed reservations are taken with SKIP LOCKED (a sweeper
        # never waits on one), then their seats session by session in id order, each session's
        # in label order. Buyers wait only on seats of one session, in label order, and on a
        # reservation before its seats; so no wait can close a cycle with a sweeper.
        now = self.holding.clock.now()
        due = tx.lock_lapsed(now, limit)
        by_session: dict[UUID, list[Reservation]] = {}
        for reservation in due:
            by_session.setdefault(reservation.session_id, []).append(reservation)
        stock: dict[str, int] = {}
        for session_id in sorted(by_session):
            reservations = by_session[session_id]
            wanted = sorted({label for reservation in reservations for label in reservation.seats})
            seats = tx.lock_seats(session_id, wanted)
            by_label = {seat.label: seat for seat in seats}
            for reservation in reservations:
                own = [by_label[label] for label in reservation.seats if label in by_label]
                released = reservation.expire(own, now)
                for code, units in quantities(reservation.products).items():
                    stock[code] = stock.get(code, 0) + units
                tx.save_reservation(reservation)
                tx.emit(
                    events.reservation_ended(
                        self.holding.new_id(), events.RESERVATION_EXPIRED, reservation, now
                    )
                )
                tx.emit(
                    events.seat_released(
                        self.holding.new_id(), reservation, "expired", now, released
                    )
                )
            tx.save_seats(session_id, seats)
        if stock:
            # Once every seat of the batch is locked: product rows come after seats.
            tx.give_back_stock(dict(sorted(stock.items())))
        return len(due)


def _owned(tx: Transaction, reservation_id: UUID, user_id: str) -> Reservation:
    reservation = tx.lock_reservation(reservation_id)
    if reservation is None or reservation.user_id != user_id:
        raise ReservationNotFound()
    return reservation


def _owned_with_seats(
    tx: Transaction, reservation_id: UUID, user_id: str
) -> tuple[Reservation, list[Seat]]:
    found = tx.lock_reservation_and_seats(reservation_id)
    if found is None or found[0].user_id != user_id:
        raise ReservationNotFound()
    return found
