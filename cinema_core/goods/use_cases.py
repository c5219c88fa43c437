"""The catalogue of goods: products and promo codes, added by an admin and read by anyone."""

from __future__ import annotations

from datetime import datetime

import attrs

from cinema_core.errors import NotFound, ValidationFailed
from cinema_core.goods.products import MAX_NAME, MAX_STOCK, Product
from cinema_core.goods.promo_codes import PromoCode
from cinema_core.kernel.money import Money
from cinema_core.ports import Transaction
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
        return self.change_product(code, add=units)

    def change_product(
        self,
        code: str,
        *,
        add: int | None = None,
        name: str | None = None,
        price: Money | None = None,
    ) -> Product:
        """Add ``add`` units to a product's stock and/or give it a new ``name`` or ``price``,
        all in one transaction (``NotFound`` for an unknown code).

        Stock is added, never set: units taken by holds racing the change stay taken, and
        units coming back from lapsed holds come back on top, so no unit is lost or made up
        whatever the interleaving (a set would erase a take that committed in between).
        """
        bad: dict[str, str] = {}
        if add is not None and not 1 <= add <= MAX_STOCK:
            bad["add"] = f"must be 1–{MAX_STOCK}"
        if name is not None and (not name.strip() or len(name) > MAX_NAME):
            bad["name"] = f"must be 1–{MAX_NAME} characters, not blank"
        if price is not None and price.cents < 0:
            bad["price"] = "must not be negative"
        if add is None and name is None and price is None:
            bad["add"] = "give at least one of add, name and price"
        if bad:
            raise ValidationFailed(bad)

        def change(tx: Transaction) -> Product | None:
            found = tx.products([code])
            if not found:
                return None
            if add is not None:
                if found[0].left is None:
                    raise ValidationFailed({"add": "this product keeps no stock"})
                if found[0].left + add > MAX_STOCK:
                    raise ValidationFailed({"add": f"the stock would pass {MAX_STOCK}"})
                tx.restock(code, add)
            if name is None and price is None:
                return tx.products([code])[0]
            return tx.edit_product(code, name, price)

        changed = self.holding.repo.atomic(change)
        if changed is None:
            raise NotFound("No such product.")
        return changed

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
