"""The use cases of the counter: a shift opened and closed, a sale made at the till.

A counter sale is a hold and its sale in one unit of work: it goes through exactly the claim
an online hold takes (``Holds.reserve`` for named seats, ``BestAvailable.reserve_best`` for a
count), with the seat lock, the seat rules, quotas and sales-close of a hold, and ends, in the
hold's own transaction, with the shift locked and the sale made as paying a hold makes it
(``Holds.sell``). So whatever a hold comes to carry, a counter sale carries too.

Lock order: the shift's row is the very last lock of a sale or a refund (after the seats, the
tickets and the quotas), taken shared, so sales and refunds of one shift never wait for each
other; its close takes that row alone, exclusively, and nothing after it, so it waits for the
sales in flight and every later one sees the shift closed; no wait can close a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.counter.shifts import Shift, ShiftStatement
from cinema_core.counter.till import CounterPayment, PaymentMethod
from cinema_core.errors import NoOpenShift, ShiftNotFound, ValidationFailed
from cinema_core.goods.extras import NO_EXTRAS, Extras
from cinema_core.kernel.money import Money
from cinema_core.kernel.users import check_user_id
from cinema_core.ports import Transaction
from cinema_core.rooms.seats import Seat
from cinema_core.selling.choosing import BestAvailable
from cinema_core.selling.holding import Holding
from cinema_core.selling.holds import Holds
from cinema_core.selling.reservations import Reservation, Sale
from cinema_core.sessions.session import Session


@attrs.frozen
class CounterOrder:
    """What an operator sells: ``seats`` by label, or the best ``count`` of them (with
    ``category`` and ``together`` as for best available), ``tickets`` by type, ``extras``
    (products, a promo code) as a hold takes them, the ``method`` and, for cash, the money
    ``tendered``."""

    session_id: UUID
    method: PaymentMethod
    seats: Sequence[str] | None = None
    count: int | None = None
    tickets: Mapping[str, int] | None = None
    tendered: Money | None = None
    category: str | None = None
    together: bool = True
    extras: Extras = NO_EXTRAS


@attrs.define
class Counter:
    """Shifts and the sales made in them."""

    holding: Holding
    holds: Holds
    best: BestAvailable

    # -- shifts -------------------------------------------------------------------------

    def open_shift(self, operator: str, float_: Money) -> Shift:
        """A new open shift of ``operator`` with ``float_`` in the drawer; one open at a time
        (``ShiftOpen``, judged by the store: two opens at once cannot both succeed)."""
        check_user_id(operator)
        shift = Shift.open(self.holding.new_id(), operator, float_, self.holding.clock.now())

        def work(tx: Transaction) -> Shift:
            tx.add_shift(shift)
            return shift

        return self.holding.repo.atomic(work)

    def shift(
        self, shift_id: UUID, user_id: str, *, admin: bool = False
    ) -> tuple[Shift, ShiftStatement]:
        """The shift and its statement (final once closed, running while open), to its
        operator or an admin; anyone else is told there is none."""
        repo = self.holding.repo
        shift = repo.get_shift(shift_id)
        if shift is None or not (admin or shift.operator == user_id):
            raise ShiftNotFound()
        sales = [] if shift.statement is not None else repo.shift_sales(shift_id)
        return shift, shift.statement_now(sales)

    def open_shifts(self, operator: str) -> list[Shift]:
        """The operator's open shift, as a list (empty or one)."""
        shift = self.holding.repo.open_shift(operator)
        return [] if shift is None else [shift]

    def close_shift(
        self, shift_id: UUID, user_id: str, counted: Money, *, admin: bool = False
    ) -> tuple[Shift, ShiftStatement]:
        """Close the shift with ``counted`` cash in the drawer: its final statement, over every
        sale committed in it (a sale in flight is waited for; a later one is refused). Only its
        operator or an admin; closing again is ``ShiftClosed``."""

        def work(tx: Transaction) -> tuple[Shift, ShiftStatement]:
            shift = tx.lock_shift(shift_id)
            if shift is None or not (admin or shift.operator == user_id):
                raise ShiftNotFound()
            statement = shift.close(counted, tx.shift_sales(shift_id), self.holding.clock.now())
            tx.save_shift(shift)
            return shift, statement

        return self.holding.repo.atomic(work)

    # -- selling --------------------------------------------------------------------------

    def sell(self, operator: str, order: CounterOrder) -> Sale:
        """Sell at the till of the operator's open shift (``NoOpenShift`` without one, or if
        it closes before the sale commits): no hold step, every rule of a hold and its payment
        (see the module's doc). Cash needs ``tendered`` covering the amount; card and Pix take
        the exact amount and no ``tendered`` (``ValidationFailed``)."""
        check_user_id(operator)
        _check_tendered(order)
        shift = self.holding.repo.open_shift(operator)
        if shift is None:
            raise NoOpenShift()
        made: list[Sale] = []

        def sell_hold(
            tx: Transaction,
            session: Session,
            reservation: Reservation,
            seats: list[Seat],
            at: datetime,
        ) -> None:
            till = self.till(tx, shift, operator)
            payment = CounterPayment.taken(
                till.id, order.method, order.tendered, reservation.amount
            )
            # A retried unit of work runs this again: the last run's sale is the one kept.
            made[:] = [self.holds.sell(tx, reservation, seats, at, payment)]

        if order.seats is not None:
            self.holds.reserve(
                operator,
                order.session_id,
                order.seats,
                order.tickets,
                order.extras,
                then=sell_hold,
            )
        elif order.count is not None:
            self.best.reserve_best(
                operator,
                order.session_id,
                order.count,
                category=order.category,
                together=order.together,
                tickets=order.tickets,
                extras=order.extras,
                then=sell_hold,
            )
        else:
            raise ValidationFailed({"seats": "is required (or count, for best available)"})
        return made[-1]

    def till(self, tx: Transaction, shift: Shift, operator: str) -> Shift:
        """The shift the sale is taken into, locked shared as it stands now (the sale's last
        lock): still the operator's and open, or ``NoOpenShift``."""
        current = tx.lock_shift(shift.id, shared=True)
        if current is None or current.operator != operator or not current.is_open:
            raise NoOpenShift()
        return current


def _check_tendered(order: CounterOrder) -> None:
    # Before any seat is tried: a 422 for the wrong shape of payment, never a 409 about seats.
    if order.method is PaymentMethod.CASH and order.tendered is None:
        raise ValidationFailed({"tendered": "is required for cash"})
    if order.method is not PaymentMethod.CASH and order.tendered is not None:
        raise ValidationFailed({"tendered": f"is only for cash, not {order.method.value}"})
    if order.tendered is not None and order.tendered.cents < 0:
        raise ValidationFailed({"tendered": "must not be negative"})
