"""A random history of sales carrying products and promo codes, with refunds, kept in a ledger of
the test's own: what the box office answered for each sale (its amount, products, discount) and
for each refund (its amount). The reports' goods and money are compared with it."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from cinema_core import (
    AlreadyRefunded,
    BoxOffice,
    Category,
    CoupleSeatSplit,
    ManualClock,
    Money,
    SeatStatus,
    SeatsUnavailable,
    Session,
    TicketQuotaExhausted,
)
from cinema_core.goods.extras import Extras

LAYOUT = ["ssss_ssss", "ssss_ssss", "pppp_pppp"]
PRICES = {Category.STANDARD: Money(2500), Category.PREMIUM: Money(4000)}
PRODUCTS = {"agua": 600, "combo": 3200}
# A percentage, an amount off larger than some sales (so refunds are capped at what was paid),
# and everything off.
CODES = ("P10", "OFF30", "FREE")


@attrs.define
class Sold:
    """One sale as the ledger knows it."""

    id: UUID
    session: Session
    paid: date
    amount: int
    prices: dict[str, int]  # seat: price
    products: dict[str, int]  # code: units
    code: str | None
    discount: int
    refunded_seats: set[str] = attrs.Factory(set)
    refunded: int = 0

    @property
    def settled(self) -> bool:
        return self.refunded_seats == set(self.prices)

    @property
    def kept(self) -> int:
        return self.amount - self.refunded

    @property
    def tickets_net(self) -> int:
        return sum(p for seat, p in self.prices.items() if seat not in self.refunded_seats)

    @property
    def products_net(self) -> int:
        return 0 if self.settled else sum(PRODUCTS[c] * n for c, n in self.products.items())


def goods_history(
    box: BoxOffice, clock: ManualClock, rng: random.Random, steps: int = 60
) -> tuple[list[Sold], list[Session]]:
    for code, cents in PRODUCTS.items():
        box.add_product(code=code, name=code.title(), price=Money(cents), stock=None)
    box.add_promo_code(code="P10", percent_off=10)
    box.add_promo_code(code="OFF30", amount_off=Money(3000))
    box.add_promo_code(code="FREE", percent_off=100)
    rooms = [box.create_room(cinema=c, name="Sala 1", layout=LAYOUT) for c in ("Centro", "Norte")]
    start = clock.now() + timedelta(days=12)
    sessions = [
        box.create_session(
            movie=movie, room_id=room.id, starts_at=start + timedelta(hours=hours), prices=PRICES
        ).session
        for room, movie, hours in (
            (rooms[0], "Filme X", 0),
            (rooms[0], "Filme Y", 4),
            (rooms[1], "Filme X", 0),
        )
    ]
    sold: list[Sold] = []
    for _ in range(steps):
        action = rng.choices(["buy", "refund", "wait"], [5, 3, 1])[0]
        if action == "buy":
            session = rng.choice(sessions)
            free = [
                str(label)
                for label, status in box.seat_map(session.id).seats
                if status is SeatStatus.AVAILABLE
            ]
            if not free:
                continue
            wanted = sorted(rng.sample(free, min(len(free), rng.randint(1, 3))))
            products = {c: rng.randint(0, 2) for c in PRODUCTS if rng.random() < 0.6}
            code = rng.choice([None, None, *CODES])
            user = f"u{rng.randint(1, 4)}"
            try:
                hold = box.reserve(
                    user,
                    session.id,
                    wanted,
                    {"half": rng.randint(0, 1)},
                    Extras.asked(products, code),
                )
            except (SeatsUnavailable, TicketQuotaExhausted):
                continue
            sale, _ = box.pay(hold.id, user)
            sold.append(
                Sold(
                    sale.id,
                    session,
                    sale.paid_at.astimezone(UTC).date(),
                    sale.amount.cents,
                    {str(line.seat): line.price.cents for line in sale.lines},
                    {line.code: line.quantity for line in sale.products},
                    code,
                    sale.discount_amount.cents,
                )
            )
        elif action == "refund" and sold:
            one = rng.choice(sold)
            live = sorted(set(one.prices) - one.refunded_seats)
            if not live:
                continue
            named = None if rng.random() < 0.3 else rng.sample(live, rng.randint(1, len(live)))
            user = box.repo.get_sale(one.id).user_id
            try:
                refund = box.refund(one.id, user, named)
            except (AlreadyRefunded, CoupleSeatSplit):
                continue
            one.refunded_seats |= {str(label) for label in refund.seats}
            one.refunded += refund.amount.cents
        else:
            clock.advance(hours=rng.uniform(0, 20))
    return sold, sessions


def expected_goods(sales: list[Sold]) -> dict[str, Any]:
    """Products and discounts by code, and the money, as the ledger adds them up."""
    products: dict[str, list[int]] = {}
    discounts: dict[str, list[int]] = {}
    for one in sales:
        for code, units in one.products.items():
            tally = products.setdefault(code, [0, 0, 0, 0])
            cents = PRODUCTS[code] * units
            tally[0] += units
            tally[1] += cents
            tally[2] += units if one.settled else 0
            tally[3] += cents if one.settled else 0
        if one.code is not None:
            tally = discounts.setdefault(one.code, [0, 0, 0, 0])
            # What the buyer kept of the discount: what stands of the sale, less what it kept.
            net = one.tickets_net + one.products_net - one.kept
            tally[0] += 1
            tally[1] += one.discount
            tally[2] += 1 if one.settled else 0
            tally[3] += one.discount - net
    return {
        "products": {c: tuple(t) for c, t in sorted(products.items())},
        "discounts": {c: tuple(t) for c, t in sorted(discounts.items())},
        "gross": sum(one.amount for one in sales),
        "refunded": sum(one.refunded for one in sales),
    }


def as_tuples(figures: Any) -> dict[str, tuple[int, int, int, int]]:
    return {
        code: (f.count, f.gross.cents, f.refunds, f.refunded.cents) for code, f in figures.items()
    }


def day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)
