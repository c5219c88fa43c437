"""Goods in the reports: products sold and promo codes' discounts, per code, net of refunds.

The store hands the sales that carry goods (``ReservationRepo.sales_with_goods``), as stored;
every figure is worked out here from each ``Sale``'s own rules, so both stores answer alike and
the money adds up with the sales to the cent:

- a product's units count until their sale is refunded to the last seat (that refund gives the
  units back to stock and their money back to the buyer);
- a discount's ``net`` is what the buyer kept of it: the sale's ticket prices still standing,
  plus its products still standing, less what the sale kept (paid minus refunded). On a sale
  never refunded that is the whole discount; on one refunded in full, nothing; and when a
  partial refund was capped at what was paid (a large amount off), only the part still given.

So for every sale, and so for every report: money kept = tickets net + products net − discounts
net, which is what ``takings`` of a statement and ``revenue`` of a sales report say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date

import attrs

from cinema_core.kernel.money import Money
from cinema_core.selling.reservations import Sale, SaleStatus


@attrs.frozen
class SoldGoods:
    """A sale carrying products or a promo code, with where its session was."""

    sale: Sale
    cinema: str
    movie: str


@attrs.frozen
class GoodsFigures:
    """Products of one code (``count``: units) or uses of one promo code (``count``: sales),
    with their money: ``gross`` as sold, ``refunds``/``refunded`` what went back, ``net`` the
    rest."""

    count: int
    gross: Money
    refunds: int
    refunded: Money
    net: Money

    @property
    def standing(self) -> int:
        return self.count - self.refunds


@attrs.frozen
class _Part:
    kind: str  # "product" or "discount"
    code: str
    count: int
    gross_cents: int
    refunds: int
    refunded_cents: int


def _parts(sale: Sale) -> list[_Part]:
    settled = sale.status is SaleStatus.REFUNDED
    parts = [
        _Part(
            "product",
            line.code,
            line.quantity,
            line.amount.cents,
            line.quantity if settled else 0,
            line.amount.cents if settled else 0,
        )
        for line in sale.products
    ]
    if sale.discount is not None:
        refunded = set(sale.refunded)
        tickets_net = sum(line.price.cents for line in sale.lines if line.seat not in refunded)
        products_net = 0 if settled else sum(line.amount.cents for line in sale.products)
        kept = sale.amount.cents - sale.refunded_amount.cents
        given = sale.discount_amount.cents
        net = tickets_net + products_net - kept
        parts.append(
            _Part("discount", sale.discount.code, 1, given, 1 if settled else 0, given - net)
        )
    return parts


def _figures(parts: Iterable[_Part], kind: str, currency: str) -> dict[str, GoodsFigures]:
    sums: dict[str, list[int]] = {}
    for part in parts:
        if part.kind != kind:
            continue
        tally = sums.setdefault(part.code, [0, 0, 0, 0])
        tally[0] += part.count
        tally[1] += part.gross_cents
        tally[2] += part.refunds
        tally[3] += part.refunded_cents
    return {
        code: GoodsFigures(
            count,
            Money(gross, currency),
            refunds,
            Money(refunded, currency),
            Money(gross - refunded, currency),
        )
        for code, (count, gross, refunds, refunded) in sorted(sums.items())
    }


@attrs.frozen
class GoodsTally:
    """Products by code and discounts by promo code, of some sales."""

    products: Mapping[str, GoodsFigures]
    discounts: Mapping[str, GoodsFigures]

    @classmethod
    def of(cls, sales: Iterable[Sale], currency: str) -> GoodsTally:
        parts = [part for sale in sales for part in _parts(sale)]
        return cls(_figures(parts, "product", currency), _figures(parts, "discount", currency))

    def net_cents(self) -> int:
        """Products net less discounts net: what the goods add to the tickets' net."""
        return sum(f.net.cents for f in self.products.values()) - sum(
            f.net.cents for f in self.discounts.values()
        )


def by_day(sold: Iterable[SoldGoods]) -> dict[tuple[date, str, str], list[Sale]]:
    """The sales of each day of payment (UTC), cinema and movie, as the sales report groups."""
    groups: dict[tuple[date, str, str], list[Sale]] = {}
    for one in sold:
        key = (one.sale.paid_at.astimezone(UTC).date(), one.cinema, one.movie)
        groups.setdefault(key, []).append(one.sale)
    return groups


NO_GOODS = GoodsTally({}, {})
