"""Money as integer cents: exact, and never a float."""

from __future__ import annotations

import re
from decimal import Decimal

import attrs

DEFAULT_CURRENCY = "BRL"
# At most 13 digits of whole units: beyond that no amount is plausible, and cents overflow
# the store columns.
MAX_DIGITS = 13
# The contract's decimal string; [0-9] with re.ASCII, since \d and Decimal take any script.
DECIMAL = re.compile(r"-?(?P<whole>[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?", re.ASCII)
_FINER = re.compile(r"-?[0-9]+\.[0-9]{3,}", re.ASCII)
_NOT_FINITE = {"nan", "snan", "inf", "infinity"}
_DECIMAL_STRING = 'must be a decimal string such as "25.00"'


@attrs.frozen(order=True)
class Money:
    """An amount in the smallest unit of its currency (cents)."""

    cents: int
    currency: str = DEFAULT_CURRENCY

    @classmethod
    def parse(cls, value: str | int | Decimal, currency: str = DEFAULT_CURRENCY) -> Money:
        """Read ``"25.00"`` (or an exact number) into money; at most two decimal places.

        A string is ASCII digits with an optional leading minus and up to two decimals
        (``"25"``, ``"25.5"``, ``"-3.50"``): no underscores, no other scripts' digits, no
        exponent, no padding, which ``Decimal`` would all read. Raises ``ValueError`` on
        anything else, including floats: a float cannot be trusted to carry cents exactly.
        """
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError(_DECIMAL_STRING)
        if isinstance(value, str):
            match = DECIMAL.fullmatch(value)
            if match is None:
                if _FINER.fullmatch(value):
                    raise ValueError("must have at most two decimal places")
                if value.strip().lower().lstrip("+-") in _NOT_FINITE:
                    raise ValueError("must be a finite amount")
                raise ValueError(_DECIMAL_STRING)
            if len(match["whole"].lstrip("0")) > MAX_DIGITS:
                raise ValueError("is too large")
            cents = int(match["whole"] + (match["cents"] or "").ljust(2, "0"))
            return cls(-cents if value.startswith("-") else cents, currency)
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError("must be a finite amount")
        # Size first: quantizing a number longer than the decimal context's precision raises
        # InvalidOperation, which is no ValueError.
        if abs(amount) >= 10**MAX_DIGITS:
            raise ValueError("is too large")
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -2:
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

    def __sub__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot take {other.currency} from {self.currency}")
        return Money(self.cents - other.cents, self.currency)
