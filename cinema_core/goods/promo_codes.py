"""Promo codes: a discount on a whole claim (seats and products), within limits.

A use of a code is held with the hold that carries it, exactly like a seat: it counts from the
moment the hold is made while the hold is pending and unlapsed, or once its sale is paid and
not refunded in full; a hold cancelled or lapsed gives it back at once (no job needs to run).
``max_uses`` and ``per_user`` are never passed, whatever the interleaving: the store counts the
uses under the code's lock (``Transaction.promo_code_uses``).

Rounding: a percentage off is taken of the claim's subtotal, rounded half up to the cent
(``Money.percent``); an amount off is at most the subtotal, so a total is never below zero.
"""

from __future__ import annotations

import re
from datetime import datetime

import attrs

from cinema_core.errors import PromoCodeInvalid, ValidationFailed
from cinema_core.kernel.money import Money
from cinema_core.sessions.session import Session

CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,39}", re.ASCII)
MAX_SCOPE = 200

UNKNOWN = "unknown"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
USED_UP = "used_up"
PER_USER_USED_UP = "per_user_used_up"
OUT_OF_SCOPE = "out_of_scope"
REASONS = (UNKNOWN, EXPIRED, NOT_YET_VALID, USED_UP, PER_USER_USED_UP, OUT_OF_SCOPE)


def normal_code(text: str) -> str:
    """A code as stored and compared: codes are read without regard to case."""
    return text.strip().upper()


@attrs.frozen
class Discount:
    """What a promo code takes off a claim: a percentage or an amount, never both."""

    code: str
    percent_off: int | None = None
    amount_off: Money | None = None

    def of(self, subtotal: Money) -> Money:
        """The money taken off ``subtotal``: never more than it."""
        if self.percent_off is not None:
            return subtotal.percent(self.percent_off)
        assert self.amount_off is not None
        return min(self.amount_off, subtotal) if subtotal.cents > 0 else Money(0, subtotal.currency)


@attrs.frozen
class DiscountLine:
    """A discount as a claim shows it: the code, its terms, and the money it took off."""

    code: str
    percent_off: int | None
    amount_off: Money | None
    amount: Money

    @classmethod
    def of(cls, discount: Discount | None, subtotal: Money) -> DiscountLine | None:
        if discount is None:
            return None
        return cls(discount.code, discount.percent_off, discount.amount_off, discount.of(subtotal))


@attrs.frozen
class PromoCode:
    """A code a buyer types for a discount, with its limits and where it applies."""

    code: str
    discount: Discount
    created_at: datetime
    max_uses: int | None = None
    per_user: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    # Only sessions of this movie (case does not matter) / of this cinema, when set.
    movie: str | None = None
    cinema: str | None = None

    @classmethod
    def new(
        cls,
        *,
        code: str,
        percent_off: int | None,
        amount_off: Money | None,
        now: datetime,
        max_uses: int | None = None,
        per_user: int | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        movie: str | None = None,
        cinema: str | None = None,
    ) -> PromoCode:
        """A new promo code, its fields checked."""
        bad: dict[str, str] = {}
        code = normal_code(code)
        if not CODE.fullmatch(code):
            bad["code"] = "must be 2–40 letters, digits, - or _"
        if (percent_off is None) == (amount_off is None):
            bad["percent_off"] = "give exactly one of percent_off and amount_off"
        elif percent_off is not None and not 1 <= percent_off <= 100:
            bad["percent_off"] = "must be 1–100"
        elif amount_off is not None and amount_off.cents <= 0:
            bad["amount_off"] = "must be more than zero"
        for name, limit in (("max_uses", max_uses), ("per_user", per_user)):
            if limit is not None and limit < 1:
                bad[name] = "must be at least 1"
        if valid_from is not None and valid_to is not None and valid_to <= valid_from:
            bad["valid_to"] = "must be after valid_from"
        for name, scope in (("movie", movie), ("cinema", cinema)):
            if scope is not None and (not scope.strip() or len(scope) > MAX_SCOPE):
                bad[name] = f"must be 1–{MAX_SCOPE} characters, not blank"
        if bad:
            raise ValidationFailed(bad)
        discount = Discount(code, percent_off, amount_off)
        return cls(code, discount, now, max_uses, per_user, valid_from, valid_to, movie, cinema)

    def check(self, session: Session, now: datetime) -> None:
        """Refuse (``PromoCodeInvalid``) the code for ``session`` at ``now``, its use counts
        apart (``check_uses``)."""
        if self.valid_from is not None and now < self.valid_from:
            raise PromoCodeInvalid(self.code, NOT_YET_VALID)
        if self.valid_to is not None and now >= self.valid_to:
            raise PromoCodeInvalid(self.code, EXPIRED)
        if self.movie is not None and self.movie.casefold() != session.movie.casefold():
            raise PromoCodeInvalid(self.code, OUT_OF_SCOPE)
        if self.cinema is not None and self.cinema != session.room.cinema:
            raise PromoCodeInvalid(self.code, OUT_OF_SCOPE)

    def check_uses(self, uses: int, user_uses: int) -> None:
        """Refuse one more use when ``uses`` (everyone's) or ``user_uses`` (this buyer's) are
        at their limits; both counted under the code's lock, the claim's own use left out."""
        if self.max_uses is not None and uses >= self.max_uses:
            raise PromoCodeInvalid(self.code, USED_UP)
        if self.per_user is not None and user_uses >= self.per_user:
            raise PromoCodeInvalid(self.code, PER_USER_USED_UP)
