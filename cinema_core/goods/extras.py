"""What a claim carries beside its seats: products wanted and a promo code, as asked for."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from cinema_core.goods.products import wanted_products
from cinema_core.goods.promo_codes import normal_code


@attrs.frozen
class Extras:
    """Products (``code: quantity``, checked, by code) and a promo code (normalized) that a
    hold or a counter sale asks for with its seats."""

    products: Mapping[str, int] = attrs.field(factory=dict)
    promo_code: str | None = None

    @classmethod
    def asked(
        cls, products: Mapping[str, int] | None = None, promo_code: str | None = None
    ) -> Extras:
        """The extras of a request, checked."""
        code = normal_code(promo_code) if promo_code and promo_code.strip() else None
        return cls(wanted_products(products), code)

    def __bool__(self) -> bool:
        return bool(self.products) or self.promo_code is not None


NO_EXTRAS = Extras()
