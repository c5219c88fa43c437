"""Money as integer cents: exact, and never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import attrs

DEFAULT_CURRENCY = "BRL"


@attrs.frozen(order=True)
class Money:
    """An amount in the smallest unit of its currency (cents)."""

    cents: int
    currency: str = DEFAULT_CURRENCY

    @classmethod
    def parse(cls, value: str | int | Decimal, currency: str = DEFAULT_CURRENCY) -> Money:
        """Read ``"25.00"`` (or an exact number) into money; at most two decimal places.

        Raises ``ValueError`` on anything else, including floats: a float cannot be trusted
        to carry cents exactly.
        """
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError('must be a decimal string such as "25.00"')
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValueError('must be a decimal string such as "25.00"') from None
        if not amount.is_finite():
            raise ValueError("must be a finite amount")
        # Size first: quantizing a number longer than the decimal context's precision raises
        # InvalidOperation, which is no ValueError.
        if abs(amount) >= 10**13:
            raise ValueError("is too large")
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int) or (
            exponent < -2 and amount != amount.quantize(Decimal("0.01"))
        ):
            raise ValueError("must have at most two decimal places")
        return cls(int(amount * 100), currency)

    def __mul__(self, times: int) -> Money:
        return Money(self.cents * times, self.currency)

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        whole, part = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{part:02d}"

    def percent(self, percent: int) -> Money:
        """This amount × ``percent`` / 100, rounded half up to the cent: the one place a
        percentage of a price is taken (a ticket type's share of a seat's price)."""
        return Money((self.cents * percent * 2 + 100) // 200, self.currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.cents + other.cents, self.currency)
