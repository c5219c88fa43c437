"""The catalogue of goods: products and promo codes, added by an admin and read by anyone."""

from __future__ import annotations

from datetime import datetime

import attrs

from cinema_core.errors import NotFound, ValidationFailed
from cinema_core.goods.products import MAX_STOCK, Product
from cinema_core.goods.promo_codes import PromoCode
from cinema_core.kernel.money import Money
from cinema_core.selling.holding import Holding


@attrs.define
class Catalogue:
    """Adding and reading products (with their stock) and promo codes."""

    holding: Holding

    def add_product(self, *, code: str, name: str, price: Money, stock: int | None) -> Product:
        """A new product (``ProductExists`` if its code is taken)."""
        product = Product.new(
            code=code, name=name, price=price, stock=stock, now=self.holding.clock.now()
        )
        self.holding.repo.atomic(lambda tx: tx.add_product(product))
        return product

    def products(self) -> list[Product]:
        """Every product with what is left of it, by code."""
        return self.holding.repo.list_products()

    def restock(self, code: str, units: int) -> Product:
        """Add ``units`` to a product's stock (``NotFound`` for an unknown code)."""
        if not 1 <= units <= MAX_STOCK:
            raise ValidationFailed({"add": f"must be 1–{MAX_STOCK}"})
        found = self.holding.repo.atomic(lambda tx: tx.restock(code, units))
        if found is None:
            raise NotFound("No such product.")
        if found.left is None:
            raise ValidationFailed({"add": "this product keeps no stock"})
        return found

    def add_promo_code(
        self,
        *,
        code: str,
        percent_off: int | None = None,
        amount_off: Money | None = None,
        max_uses: int | None = None,
        per_user: int | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        movie: str | None = None,
        cinema: str | None = None,
    ) -> PromoCode:
        """A new promo code (``PromoCodeExists`` if its code is taken, case aside)."""
        promo = PromoCode.new(
            code=code,
            percent_off=percent_off,
            amount_off=amount_off,
            now=self.holding.clock.now(),
            max_uses=max_uses,
            per_user=per_user,
            valid_from=valid_from,
            valid_to=valid_to,
            movie=movie,
            cinema=cinema,
        )
        self.holding.repo.atomic(lambda tx: tx.add_promo_code(promo))
        return promo
