"""Products: combos and snacks sold with seats, each with a price and, maybe, a stock.

A product's stock is a limit held like a seat: units a pending hold carries are taken from it
when the hold is made and given back when the hold is cancelled or lapses, or when its sale is
refunded in full; it never goes below zero, whatever the interleaving (the store judges it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from cinema_core.errors import UnknownProduct, ValidationFailed
from cinema_core.kernel.money import Money

CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
MAX_CODE = 40
MAX_NAME = 120
# Units of one product on one claim, and distinct products on one claim.
MAX_QUANTITY = 20
MAX_PRODUCTS = 10
MAX_STOCK = 1_000_000


@attrs.frozen
class Product:
    """Something sold beside seats: ``left`` units of it remain (``None``: no stock kept)."""

    code: str
    name: str
    price: Money
    left: int | None
    created_at: datetime

    @classmethod
    def new(
        cls, *, code: str, name: str, price: Money, stock: int | None, now: datetime
    ) -> Product:
        """A new product, its fields checked."""
        bad: dict[str, str] = {}
        if len(code) > MAX_CODE or not CODE.fullmatch(code):
            bad["code"] = f"must be a slug (a-z, 0-9, single hyphens), 1–{MAX_CODE} characters"
        if not name.strip() or len(name) > MAX_NAME:
            bad["name"] = f"must be 1–{MAX_NAME} characters, not blank"
        if price.cents < 0:
            bad["price"] = "must not be negative"
        if stock is not None and not 0 <= stock <= MAX_STOCK:
            bad["stock"] = f"must be 0–{MAX_STOCK}, or absent for no stock kept"
        if bad:
            raise ValidationFailed(bad)
        return cls(code, name, price, stock, now)

    @property
    def limited(self) -> bool:
        return self.left is not None


@attrs.frozen
class ProductLine:
    """Units of one product on a claim, at the price they were sold for."""

    code: str
    name: str
    quantity: int
    unit_price: Money

    @property
    def amount(self) -> Money:
        return self.unit_price * self.quantity


def wanted_products(raw: Mapping[str, int] | None) -> dict[str, int]:
    """The products a claim asks for, checked (``code: quantity``, zeros dropped), by code."""
    wanted = {code: count for code, count in (raw or {}).items() if count}
    if len(wanted) > MAX_PRODUCTS:
        raise ValidationFailed({"products": f"at most {MAX_PRODUCTS} distinct products"})
    bad = [c for c, n in wanted.items() if isinstance(n, bool) or not 0 < n <= MAX_QUANTITY]
    if bad:
        raise ValidationFailed({"products": f"each quantity must be 0–{MAX_QUANTITY}"})
    return dict(sorted(wanted.items()))


def product_lines(wanted: Mapping[str, int], found: Sequence[Product]) -> tuple[ProductLine, ...]:
    """The lines of ``wanted`` (by code) priced from the products ``found``; a code that is not
    among them is ``UnknownProduct``."""
    by_code = {product.code: product for product in found}
    unknown = [code for code in wanted if code not in by_code]
    if unknown:
        raise UnknownProduct(unknown)
    return tuple(
        ProductLine(code, by_code[code].name, count, by_code[code].price)
        for code, count in sorted(wanted.items())
    )


def quantities(lines: Sequence[ProductLine]) -> dict[str, int]:
    """Units of each product the lines carry, by code (the order stock is taken in)."""
    return {line.code: line.quantity for line in sorted(lines, key=lambda line: line.code)}
