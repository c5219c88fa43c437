"""The use cases after the sale: a buyer's purchases, refunds, tickets, check-in at the door.

Each is one transaction against the store, as every use case is, through the ``Holding`` it is
handed (the session cache, and the seat locks a refund gives back).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import attrs

from cinema_core.after_sale.admissions import MAX_CODE, Admission, DoorChecks, Ticket
from cinema_core.after_sale.printouts import Printout
from cinema_core.after_sale.refunds import DEFAULT_REFUND_CUTOFF, Refund
from cinema_core.errors import SaleNotFound, SessionNotFound, TicketNotFound
from cinema_core.events import envelopes as events
from cinema_core.goods.products import quantities
from cinema_core.kernel.pagination import Cursor, Page, check_limit
from cinema_core.kernel.users import check_user_id
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import Seat
from cinema_core.selling.holding import Holding
from cinema_core.selling.reservations import Sale

if TYPE_CHECKING:
    from cinema_core.payments.use_cases import Payments


@attrs.define
class AfterSale:
    """Purchases, refunds, tickets and check-ins (what ``BoxOffice`` does after payment)."""

    holding: Holding
    # How long before a session starts its buyers may still refund (admins: until it ends).
    refund_cutoff: timedelta = DEFAULT_REFUND_CUTOFF
    # Who gives money back for a sale paid through a provider (``None``: paid ``instant``).
    payments: Payments | None = None

    # -- purchases ------------------------------------------------------------------------

    def sale(self, sale_id: UUID) -> Sale | None:
        """The sale, or ``None`` if there is none; to anyone (``owned_sale`` asks who)."""
        return self.holding.repo.get_sale(sale_id)

    def purchases(self, user_id: str, limit: int = 50, cursor: str | None = None) -> Page[Sale]:
        """The user's sales, newest first."""
        check_user_id(user_id)
        check_limit(limit)
        before = Cursor.decode(cursor) if cursor else None
        found = self.holding.repo.purchases(user_id, before, limit + 1)
        page = found[:limit]
        more = Cursor(page[-1].paid_at, page[-1].id).encode() if len(found) > limit else None
        return Page(page, more)

    # -- refunds --------------------------------------------------------------------------

    def refund(
        self,
        sale_id: UUID,
        user_id: str,
        seats: Sequence[str] | None = None,
        *,
        admin: bool = False,
    ) -> Refund:
        """Give back ``seats`` of the sale (all not yet refunded when ``None``), all or none;
        they are for sale again at once. The buyer may until ``refund_cutoff`` before the
        session starts, an admin until it ends (``RefundWindowClosed``).

        A sale paid through a provider is refunded there first, for exactly
        the refunded seats' amount: the refund is judged in a transaction that writes
        nothing, the provider asked with a key naming this refund (a retry of it refunds
        once), and only then is it recorded, for those same seats, with the amount counted
        on the payment (``Payment.refunded_in_part``: what a cancellation owes later is the
        rest). A provider that cannot be asked raises ``PaymentProviderUnavailable`` and the
        sale is unchanged."""
        payments = self.payments
        paid = None if payments is None else self.holding.repo.payment_of_sale(sale_id)
        if payments is not None and paid is not None:
            judged, _, _ = self.holding.repo.atomic(
                lambda tx: self._judged(tx, sale_id, user_id, seats, admin)
            )
            labels = ",".join(str(label) for label in judged.seats)
            payments.refund_sale(paid, judged.amount, f"refund-{sale_id}-{labels}")
            # The seats the provider refunded, named: "all left" could be others by now.
            seats = [str(label) for label in judged.seats]

        def work(tx: Transaction) -> tuple[Refund, UUID]:
            refund, sale, seats_ = self._judged(tx, sale_id, user_id, seats, admin)
            freed = set(refund.seats)
            given_back = [s for s in seats_ if s.label in freed and s.give_back(sale.id)]
            tx.save_seats(sale.session_id, given_back)
            tx.add_refund(refund)
            if sale.counter is not None:
                # Back to the shift that sold it, and only while it is open: a closed shift's
                # statement is final. Its row is the last lock, shared (see counter.use_cases).
                till = tx.lock_shift(sale.counter.shift_id, shared=True)
                if till is not None:
                    till.require_open()
            if paid is not None:
                # After the tickets, as a cancellation takes it.
                payment = tx.lock_payment_of_sale(sale.id)
                if payment is not None:
                    tx.save_payment(payment.refunded_in_part(refund.amount))
            if refund.products:
                # The sale's last seats: its products' stock is for sale again (after the
                # seats, the tickets and the payment: product rows come after them all).
                tx.give_back_stock(quantities(refund.products))
            tx.emit(events.sale_refunded(self.holding.new_id(), refund))
            tx.emit(events.seats_refunded(self.holding.new_id(), refund, sale.reservation_id))
            return refund, sale.reservation_id

        refund, reservation_id = self.holding.repo.atomic(work)
        self.holding.metrics.refunded(len(refund.seats))
        # The seat lock of the paid hold outlives the sale until the hold's TTL; left alone it
        # would turn buyers of a refunded seat away for up to that long.
        self.holding.unlock(refund.session_id, refund.seats, reservation_id)
        return refund

    def _judged(
        self, tx: Transaction, sale_id: UUID, user_id: str, seats: Sequence[str] | None, admin: bool
    ) -> tuple[Refund, Sale, list[Seat]]:
        """The refund asked for, judged under the locks every refund takes (nothing written)."""
        now = self.holding.clock.now()
        sale = tx.get_sale(sale_id)
        if sale is None or not (admin or sale.user_id == user_id):
            raise SaleNotFound()
        # The session as it stands (its start may have moved), locked shared: the first
        # lock, as in every purchase (see session_life).
        session = tx.lock_session(self.holding.session(sale.session_id))
        # Seats first, then tickets, each in label order: the one order every transaction
        # takes them in (see Transaction.lock_tickets), so refunds, sales and check-ins
        # queue instead of deadlocking. All the sale's seats, since which of them the
        # refund covers is known only once its tickets are read under lock.
        seats_ = tx.lock_seats(sale.session_id, sale.seats)
        tickets = tx.lock_tickets(sale.id)
        refund = Refund.of(
            id=self.holding.new_id(),
            sale=sale,
            tickets=tickets,
            seats=seats,
            session=session,
            by=user_id,
            admin=admin,
            now=now,
            cutoff=self.refund_cutoff,
        )
        return refund, sale, seats_

    def owned_sale(self, sale_id: UUID, user_id: str, *, admin: bool = False) -> Sale:
        """The sale, to its buyer or an admin; anyone else is told there is none."""
        sale = self.holding.repo.get_sale(sale_id)
        if sale is None or not (admin or sale.user_id == user_id):
            raise SaleNotFound()
        return sale

    def printout(self, sale_id: UUID) -> Printout:
        """The sale with its tickets (in the sale's seat order) and its session as they stand
        now, to print; to anyone (the counter's staff print any sale, online ones too)."""
        repo = self.holding.repo
        sale = repo.get_sale(sale_id)
        if sale is None:
            raise SaleNotFound()
        # Read afresh rather than from the cache: a changed time must print as changed.
        session = repo.get_session(sale.session_id)
        if session is None:
            raise SessionNotFound()
        order = {seat: index for index, seat in enumerate(sale.seats)}
        tickets = sorted(repo.tickets(sale_id), key=lambda t: order.get(t.seat, len(order)))
        return Printout(sale, tuple(tickets), session)

    # -- tickets and the door -------------------------------------------------------------

    def tickets(self, sale_id: UUID, user_id: str, *, admin: bool = False) -> list[Ticket]:
        """The sale's tickets, one per seat, to its buyer or an admin."""
        self.owned_sale(sale_id, user_id, admin=admin)
        return self.holding.repo.tickets(sale_id)

    def ticket(self, ticket_id: UUID, user_id: str, *, admin: bool = False) -> Ticket:
        """One ticket, to the buyer of its sale or an admin."""
        ticket = self.holding.repo.get_ticket(ticket_id)
        if ticket is None:
            raise TicketNotFound()
        try:
            self.owned_sale(ticket.sale_id, user_id, admin=admin)
        except SaleNotFound:
            raise TicketNotFound() from None
        return ticket

    def check_in(self, code: str, session_id: UUID | None = None) -> Ticket:
        """Let the holder of ``code`` in, once: a used, refunded or unknown ticket is refused,
        and so is one of another session when the door names its own."""
        if not 1 <= len(code) <= MAX_CODE:
            raise TicketNotFound()

        def work(tx: Transaction) -> Ticket:
            ticket = tx.lock_ticket(code)
            if ticket is None:
                raise TicketNotFound()
            ticket.check_in(self.holding.clock.now(), session_id)
            tx.check_in(ticket)
            tx.emit(events.ticket_checked_in(self.holding.new_id(), ticket))
            return ticket

        ticket = self.holding.repo.atomic(work)
        self.holding.metrics.checked_in()
        return ticket

    def admit(self, code: str, session_id: UUID | None = None) -> Admission:
        """Check the ticket of ``code`` in (as ``check_in``), with what the door must check:
        its type's document and the session's age rating."""
        ticket = self.check_in(code, session_id)
        # Read as stored now, not from the cache: an admin may have changed the rating.
        session = self.holding.repo.get_session(ticket.session_id)
        kind = None if session is None else session.ticket_type(ticket.ticket)
        return Admission(
            ticket,
            DoorChecks(
                document=None if kind is None else kind.document,
                age=None if session is None else session.least_age,
            ),
        )
