"""The use cases of a session's life: changing it and cancelling it (admin).

Each is one transaction, through the ``Holding`` it is handed (the session cache, the views, the
seat locks a cancellation gives back).

Why no purchase survives a cancellation, whatever the interleaving: every hold, change of a
hold, payment and refund takes the session's lock first, in the "purchase" mode
(``Transaction.lock_session``; in PostgreSQL FOR KEY SHARE, folded into the statement that
locks the seats or the reservation), and judges there whether the session is still on sale;
the cancellation takes it in the "cancel" mode, which conflicts with it. So the cancellation
waits until every purchase in flight has committed or rolled back, and then sees all of them:
it releases every pending hold and refunds every sale there is. A purchase that asks after it
waits for it, and then reads the session cancelled and refuses. A change takes the "change"
mode, which excludes another change or a cancellation but not purchases: a purchase judged on
the times just before a change is as if it had come first, since a change leaves holds and
sales alone.

Lock order: the session, then its pending reservations (id order), then all its seats (label
order, one statement), then each sale's tickets and then the payment that made it, if any
(after the seats, as refunds take them). Every
other transaction takes a subset of these locks in the same order, or (the sweeper, a check-in)
locks that never wait for a lock it holds, so no wait closes a cycle. A quota's lock, the last
a hold takes, is a stronger lock on the session's row it already holds: PostgreSQL grants that
upgrade without queueing behind a cancellation waiting for the row, and a cancellation holding
the row has no purchase past its first lock to wait for.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import attrs

from cinema_core.after_sale.refunds import Refund
from cinema_core.events import envelopes as events
from cinema_core.goods.products import quantities
from cinema_core.payments.payment import Payment
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import SeatLabel
from cinema_core.selling.holding import Holding
from cinema_core.selling.reservations import Reservation, ReservationStatus
from cinema_core.sessions.session import Session, SessionView

if TYPE_CHECKING:
    from cinema_core.payments.use_cases import Payments

# What a cancellation's transaction answers: the session, the holds it released, the refunds
# it made (each with its reservation) and the payments owing their sale's money back.
_Cancelled = tuple[Session, list[Reservation], list[tuple[Refund, UUID]], list[Payment]]


@attrs.define
class SessionLife:
    """Changing and cancelling sessions (what an admin's screen asks ``BoxOffice`` for)."""

    holding: Holding
    # Who gives back the money of sales paid through a provider (``None``: all paid at once).
    payments: Payments | None = None

    def change_session(
        self,
        session_id: UUID,
        *,
        movie: str | None = None,
        starts_at: datetime | None = None,
        duration_minutes: int | None = None,
        rating: str | None = None,
    ) -> SessionView:
        """Change the movie or times of a session (the fields given), checked as a new
        session's are; the room stays free of overlaps (``RoomBusy``), a cancelled session
        cannot change (``SessionCancelled``). Holds and sales are left as they are."""
        kept = self.holding.session(session_id)

        def work(tx: Transaction) -> Session:
            now = self.holding.clock.now()
            session = tx.lock_session(kept, mode="change")
            new, changed = session.changed(
                now=now,
                movie=movie,
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                rating=rating,
            )
            if changed:
                tx.save_session(new)
                tx.emit(events.session_changed(self.holding.new_id(), new, changed, now))
            return new

        session = self.holding.repo.atomic(work)
        self.holding.keep(session)
        return self.holding.view(session)

    def cancel_session(self, session_id: UUID, by: str) -> SessionView:
        """Cancel the session: every pending hold released, every sale refunded in full (see
        ``Refund.in_full``), and no later purchase. Cancelling again answers the same.

        A sale paid through a provider is refunded there too, but not inside the transaction
        (no provider call holds the session's lock): the transaction puts its payment in
        ``review`` for what the provider has not given back yet (``Payment.owing``), and once
        it committed the provider is asked for each (``Payments.refund_all_owed``, a stable
        key per payment). A provider down or refusing leaves ``review``, which the reconciler
        retries: the debt is stored with the cancellation, so it is never forgotten."""
        kept = self.holding.session(session_id)

        def work(tx: Transaction) -> _Cancelled:
            now = self.holding.clock.now()
            session = tx.lock_session(kept, mode="cancel")
            if session.cancelled_at is not None:
                return session, [], [], []
            session = session.cancelled(now)
            pending = tx.lock_pending(session.id)
            seats = tx.lock_seats(session.id, session.labels())
            by_label = {seat.label: seat for seat in seats}
            touched: set[SeatLabel] = set()
            stock: dict[str, int] = {}
            for reservation in pending:
                own = [by_label[label] for label in reservation.seats if label in by_label]
                if reservation.status_at(now) is ReservationStatus.PENDING:
                    reservation.cancel(own, now)
                    kind, reason, freed = events.RESERVATION_CANCELLED, "cancelled", None
                else:
                    # Lapsed, not yet swept: it is recorded as the sweeper would.
                    freed = reservation.expire(own, now)
                    kind, reason = events.RESERVATION_EXPIRED, "expired"
                touched.update(reservation.seats)
                for code, units in quantities(reservation.products).items():
                    stock[code] = stock.get(code, 0) + units
                tx.save_reservation(reservation)
                tx.emit(events.reservation_ended(self.holding.new_id(), kind, reservation, now))
                tx.emit(
                    events.seat_released(self.holding.new_id(), reservation, reason, now, freed)
                )
            refunds: list[tuple[Refund, UUID]] = []
            owed: list[Payment] = []
            for sale in tx.session_sales(session.id):
                refund = Refund.in_full(
                    id=self.holding.new_id(),
                    sale=sale,
                    tickets=tx.lock_tickets(sale.id),
                    by=by,
                    now=now,
                )
                if refund is None:
                    continue
                for label in refund.seats:
                    if label in by_label and by_label[label].give_back(sale.id):
                        touched.add(label)
                tx.add_refund(refund, used_too=True)
                for code, units in quantities(refund.products).items():
                    stock[code] = stock.get(code, 0) + units
                tx.emit(events.sale_refunded(self.holding.new_id(), refund))
                tx.emit(events.seats_refunded(self.holding.new_id(), refund, sale.reservation_id))
                refunds.append((refund, sale.reservation_id))
                paid = tx.lock_payment_of_sale(sale.id)
                owing = None if paid is None else paid.owing(now)
                if owing is not None and owing != paid:
                    tx.save_payment(owing)
                    owed.append(owing)
            if stock:
                # After every seat, ticket and payment of the session: product rows last.
                tx.give_back_stock(dict(sorted(stock.items())))
            tx.save_seats(session.id, [by_label[label] for label in sorted(touched)])
            tx.save_session(session)
            tx.emit(
                events.session_cancelled(
                    self.holding.new_id(), session, len(pending), len(refunds), now
                )
            )
            return session, pending, refunds, owed

        session, released, refunds, owed = self.holding.repo.atomic(work)
        self.holding.keep(session)
        for refund, _ in refunds:
            self.holding.metrics.refunded(len(refund.seats))
        # The seat locks mirror the holds and paid holds just ended; left alone they would
        # only lapse with their TTL (the session sells nothing more anyway).
        owners = [(r.id, r.seats) for r in released]
        owners += [(reservation_id, refund.seats) for refund, reservation_id in refunds]
        for owner, labels in owners:
            self.holding.unlock(session.id, labels, owner)
        if owed and self.payments is not None:
            self.payments.refund_all_owed(owed)
        return self.holding.view(session)
