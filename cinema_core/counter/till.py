"""How a counter sale was paid: at which shift's till, by which method, with what cash handed
over. A sale made online carries none of this (``Sale.counter`` is ``None``)."""

from __future__ import annotations

import enum
from uuid import UUID

import attrs

from cinema_core.errors import ValidationFailed
from cinema_core.kernel.money import Money


class PaymentMethod(enum.StrEnum):
    """How a buyer pays at the counter."""

    CASH = "cash"
    CARD = "card"
    PIX = "pix"


@attrs.frozen
class CounterPayment:
    """The till side of a counter sale: its shift, its method and, for cash, what the buyer
    handed over (the change is that minus the sale's amount)."""

    shift_id: UUID
    method: PaymentMethod
    tendered: Money | None = None

    @classmethod
    def taken(
        cls, shift_id: UUID, method: PaymentMethod, tendered: Money | None, amount: Money
    ) -> CounterPayment:
        """The payment of ``amount``: cash needs ``tendered`` covering it; a card or Pix
        takes the exact amount, so a ``tendered`` beside it is refused rather than ignored
        (a till that believes it took cash for a card sale miscounts its drawer)."""
        if method is PaymentMethod.CASH:
            if tendered is None:
                raise ValidationFailed({"tendered": "is required for cash"})
            if tendered.currency != amount.currency or tendered.cents < amount.cents:
                raise ValidationFailed(
                    {"tendered": f"must cover the amount, {amount}"},
                    "The cash tendered does not cover the sale.",
                )
        elif tendered is not None:
            raise ValidationFailed({"tendered": f"is only for cash, not {method.value}"})
        return cls(shift_id, method, tendered)

    def change(self, amount: Money) -> Money | None:
        """What goes back to the buyer from ``tendered`` (``None`` unless cash)."""
        if self.tendered is None:
            return None
        return Money(self.tendered.cents - amount.cents, amount.currency)
