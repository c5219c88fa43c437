"""A shift: one operator's time at a counter, from the float put in the drawer to the count of
it at the close.

The rules: an operator has at most one open shift; only an open shift sells or takes a refund
back; its statement counts exactly the counter sales made in it, net of their refunds (which
go back to the shift that sold them), by method; the cash the drawer should hold is the float
plus the cash taken minus the cash given back. At the close the statement is frozen with the
cash counted: refunds after that are refused (``ShiftClosed``), so a closed statement never
changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

import attrs

from cinema_core.counter.till import PaymentMethod
from cinema_core.errors import ShiftClosed, ValidationFailed
from cinema_core.kernel.money import Money
from cinema_core.selling.reservations import Sale


@attrs.frozen
class ShiftStatement:
    """What a shift took, as its sales stand: ``sales`` made and their ``gross``, tickets
    refunded and the ``refunded`` money, ``net`` by method, the cash the drawer should hold
    (``expected_cash``), and, once closed, the cash ``counted`` and the ``difference``
    (counted minus expected: negative when cash is missing)."""

    sales: int
    gross: Money
    refunds: int
    refunded: Money
    by_method: Mapping[PaymentMethod, Money]
    expected_cash: Money
    counted_cash: Money | None = None
    difference: Money | None = None

    @classmethod
    def of(cls, float_: Money, sales: Iterable[Sale]) -> ShiftStatement:
        """The statement of a shift with ``float_`` in the drawer over ``sales`` (its own)."""
        currency = float_.currency
        net = dict.fromkeys(PaymentMethod, 0)
        count = gross = refunds = refunded = 0
        for sale in sales:
            assert sale.counter is not None, "only counter sales belong to a shift"
            count += 1
            gross += sale.amount.cents
            refunds += len(set(sale.refunded))
            refunded += sale.refunded_amount.cents
            net[sale.counter.method] += sale.amount.cents - sale.refunded_amount.cents
        return cls(
            sales=count,
            gross=Money(gross, currency),
            refunds=refunds,
            refunded=Money(refunded, currency),
            by_method={method: Money(cents, currency) for method, cents in net.items()},
            expected_cash=Money(float_.cents + net[PaymentMethod.CASH], currency),
        )

    @property
    def net(self) -> Money:
        return Money(self.gross.cents - self.refunded.cents, self.gross.currency)

    def counted(self, cash: Money) -> ShiftStatement:
        """This statement closed with ``cash`` counted in the drawer."""
        return attrs.evolve(
            self,
            counted_cash=cash,
            difference=Money(cash.cents - self.expected_cash.cents, cash.currency),
        )


def checked_cash(value: Money, field: str) -> Money:
    """Cash in a drawer is never negative (``ValidationFailed`` naming ``field``)."""
    if value.cents < 0:
        raise ValidationFailed({field: "must not be negative"})
    return value


@attrs.define
class Shift:
    """One operator's shift; ``statement`` is set, final, when it closes."""

    id: UUID
    operator: str
    float_: Money
    opened_at: datetime
    closed_at: datetime | None = None
    statement: ShiftStatement | None = None

    @classmethod
    def open(cls, id: UUID, operator: str, float_: Money, now: datetime) -> Shift:
        return cls(id, operator, checked_cash(float_, "float"), now)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def require_open(self) -> None:
        """Refuse (``ShiftClosed``) anything that would change a closed shift's figures."""
        if not self.is_open:
            raise ShiftClosed(self.id)

    def close(self, counted: Money, sales: Iterable[Sale], now: datetime) -> ShiftStatement:
        """Close the shift at ``now`` with ``counted`` cash, over its ``sales`` as they stand
        under the shift's lock; returns the final statement."""
        self.require_open()
        statement = ShiftStatement.of(self.float_, sales).counted(
            checked_cash(counted, "counted_cash")
        )
        self.closed_at = now
        self.statement = statement
        return statement

    def statement_now(self, sales: Iterable[Sale]) -> ShiftStatement:
        """The final statement once closed, else the running one over ``sales``."""
        if self.statement is not None:
            return self.statement
        return ShiftStatement.of(self.float_, sales)
