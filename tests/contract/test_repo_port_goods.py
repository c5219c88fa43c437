"""The ReservationRepo port with the counter's goods, held to one contract: products priced on
holds, stock taken and given back (never below zero), a promo code's use held with its hold
and counted by one rule in every store, and every refusal naming why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from cinema_core import (
    BoxOffice,
    ManualClock,
    Money,
    Reservation,
    SeatLabel,
    SessionView,
    ValidationFailed,
)
from cinema_core.errors import (
    ProductExists,
    ProductSoldOut,
    PromoCodeExists,
    PromoCodeInvalid,
    UnknownProduct,
)
from cinema_core.goods.extras import Extras
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock

HOLD = timedelta(seconds=30)


@pytest.fixture
def box(repo: Any, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, HOLD)


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    return new_session(box, days=1)


def hold(
    box: BoxOffice,
    session: SessionView,
    seats: Sequence[str],
    user: str = "u1",
    products: dict[str, int] | None = None,
    promo: str | None = None,
) -> Reservation:
    return box.reserve(user, session.session.id, seats, None, Extras.asked(products, promo))


def left(box: BoxOffice, code: str) -> int | None:
    return next(p.left for p in box.products() if p.code == code)


@pytest.fixture
def combo(box: BoxOffice) -> None:
    box.add_product(code="combo-pipoca", name="Combo pipoca", price=Money(3000), stock=3)
    box.add_product(code="agua", name="Água", price=Money(500), stock=None)


def refused(error: pytest.ExceptionInfo[PromoCodeInvalid]) -> str:
    return error.value.reason


@pytest.mark.usefixtures("combo")
def test_products_are_priced_on_the_hold_and_counted_in_its_amount(
    box: BoxOffice, session: SessionView
) -> None:
    """Two combos and a water on a 25.00 seat: 25 + 60 + 5 = 90.00; stock 3 → 1 left."""
    made = hold(box, session, ["A1"], products={"combo-pipoca": 2, "agua": 1})
    assert [(p.code, p.quantity, str(p.amount)) for p in made.products] == [
        ("agua", 1, "5.00"),
        ("combo-pipoca", 2, "60.00"),
    ]
    assert made.amount == Money(9000)
    assert left(box, "combo-pipoca") == 1
    assert left(box, "agua") is None
    sale, _ = box.pay(made.id, "u1")
    assert sale.amount == Money(9000)
    assert sale.products == made.products


@pytest.mark.usefixtures("combo")
def test_stock_is_never_passed_and_a_refusal_holds_nothing(
    box: BoxOffice, session: SessionView
) -> None:
    """Asking for more than is left is product_sold_out naming it; the seat stays free."""
    hold(box, session, ["A1"], products={"combo-pipoca": 2})
    with pytest.raises(ProductSoldOut) as error:
        hold(box, session, ["A2"], user="u2", products={"combo-pipoca": 2})
    assert error.value.details == {"product": "combo-pipoca", "left": 1}
    assert left(box, "combo-pipoca") == 1
    assert str(box.seat_map(session.session.id).status(SeatLabel.parse("A2"))) == "available"


@pytest.mark.usefixtures("combo")
def test_stock_comes_back_on_cancel_lapse_and_full_refund(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    """Cancelled, swept after a lapse, or refunded to the last seat: the units are back."""
    cancelled = hold(box, session, ["A1"], products={"combo-pipoca": 1})
    box.cancel(cancelled.id, "u1")
    assert left(box, "combo-pipoca") == 3
    hold(box, session, ["A2"], products={"combo-pipoca": 2})
    clock.advance(HOLD.total_seconds() + 1)
    assert box.expire_due() == 1
    assert left(box, "combo-pipoca") == 3
    sold = hold(box, session, ["A3", "A4"], products={"combo-pipoca": 3})
    sale, _ = box.pay(sold.id, "u1")
    first = box.refund(sale.id, "u1", ["A3"])
    assert first.amount == Money(2500)
    assert left(box, "combo-pipoca") == 0
    last = box.refund(sale.id, "u1", ["A4"])
    assert last.amount == Money(2500 + 9000)
    assert left(box, "combo-pipoca") == 3


def test_unknown_products_and_bad_quantities_are_422(box: BoxOffice, session: SessionView) -> None:
    with pytest.raises(UnknownProduct) as error:
        hold(box, session, ["A1"], products={"nada": 1})
    assert error.value.details["products"] == ["nada"]
    with pytest.raises(ValidationFailed):
        hold(box, session, ["A1"], products={"nada": 99})


def test_product_fields_are_checked_and_codes_unique(box: BoxOffice) -> None:
    with pytest.raises(ValidationFailed) as error:
        box.add_product(code="Combo X", name=" ", price=Money(-1), stock=-1)
    assert set(error.value.fields) == {"code", "name", "price", "stock"}
    box.add_product(code="bala", name="Bala", price=Money(0), stock=0)
    with pytest.raises(ProductExists):
        box.add_product(code="bala", name="Bala 2", price=Money(100), stock=None)
    assert box.restock("bala", 5).left == 5


def test_a_percent_off_rounds_half_up_and_an_amount_off_never_goes_below_zero(
    box: BoxOffice, session: SessionView
) -> None:
    """15 % of 25.00 = 3.75; 5 % of 25.10 would be 1.255 → 1.26; 100.00 off 25.00 → 0.00."""
    box.add_promo_code(code="quinze", percent_off=15)
    box.add_promo_code(code="TUDO", amount_off=Money(10000))
    made = hold(box, session, ["A1"], promo="Quinze")
    assert made.discount is not None
    assert made.discount.code == "QUINZE"
    assert made.discount_amount == Money(375)
    assert made.amount == Money(2125)
    free = hold(box, session, ["A2"], promo="tudo")
    assert free.amount == Money(0)
    assert Money(2510).percent(5) == Money(126)


def test_max_uses_counts_live_holds_and_gives_back_on_cancel_and_lapse(
    box: BoxOffice, session: SessionView, clock: ManualClock
) -> None:
    box.add_promo_code(code="UMA", percent_off=10, max_uses=1)
    first = hold(box, session, ["A1"], promo="UMA")
    with pytest.raises(PromoCodeInvalid) as error:
        hold(box, session, ["A2"], user="u2", promo="UMA")
    assert refused(error) == "used_up"
    box.cancel(first.id, "u1")
    second = hold(box, session, ["A2"], user="u2", promo="UMA")
    clock.advance(HOLD.total_seconds())
    # Lapsed: the use is back at once, before any sweep.
    third = hold(box, session, ["A3"], user="u3", promo="UMA")
    sale, _ = box.pay(third.id, "u3")
    with pytest.raises(PromoCodeInvalid):
        hold(box, session, ["A4"], user="u4", promo="UMA")
    box.refund(sale.id, "u3")
    hold(box, session, ["A4"], user="u4", promo="UMA")
    assert second.discount is not None


def test_per_user_and_every_other_reason(box: BoxOffice, session: SessionView) -> None:
    now = box.clock.now()
    box.add_promo_code(code="EU", percent_off=10, per_user=1)
    box.add_promo_code(code="VELHO", percent_off=10, valid_to=now)
    box.add_promo_code(code="NOVO", percent_off=10, valid_from=now + timedelta(days=1))
    box.add_promo_code(code="OUTRO", percent_off=10, movie="Outro filme")
    box.add_promo_code(code="LONGE", percent_off=10, cinema="Norte")
    box.add_promo_code(code="FILME", percent_off=10, movie="filme x")
    hold(box, session, ["A1"], promo="EU")
    cases = {
        "EU": "per_user_used_up",
        "VELHO": "expired",
        "NOVO": "not_yet_valid",
        "OUTRO": "out_of_scope",
        "LONGE": "out_of_scope",
        "NADA": "unknown",
    }
    for code, reason in cases.items():
        with pytest.raises(PromoCodeInvalid) as error:
            hold(box, session, ["A2"], promo=code)
        assert refused(error) == reason, code
    hold(box, session, ["A2"], user="u2", promo="EU")
    hold(box, session, ["A3"], promo="FILME")


def test_promo_code_fields_are_checked_and_codes_unique_case_aside(box: BoxOffice) -> None:
    with pytest.raises(ValidationFailed) as error:
        box.add_promo_code(code="x", percent_off=10, amount_off=Money(100), max_uses=0)
    assert set(error.value.fields) == {"code", "percent_off", "max_uses"}
    box.add_promo_code(code="ABC", percent_off=101 - 1)
    with pytest.raises(PromoCodeExists):
        box.add_promo_code(code="abc", amount_off=Money(100))


@pytest.mark.usefixtures("combo")
def test_refunds_of_a_discounted_sale_add_up_to_what_it_cost(
    box: BoxOffice, session: SessionView
) -> None:
    """50.00 of seats and 30.00 of combo less 60.00 off: 20.00 paid; the first seat's refund
    is capped at 20.00, the last gives nothing more."""
    box.add_promo_code(code="SESSENTA", amount_off=Money(6000))
    made = hold(box, session, ["A1", "A2"], products={"combo-pipoca": 1}, promo="SESSENTA")
    assert made.amount == Money(2000)
    sale, _ = box.pay(made.id, "u1")
    first = box.refund(sale.id, "u1", ["A1"])
    assert first.amount == Money(2000)
    last = box.refund(sale.id, "u1", ["A2"])
    assert last.amount == Money(0)
    assert box.sale(sale.id) is not None
    assert left(box, "combo-pipoca") == 3


@pytest.mark.usefixtures("combo")
def test_a_change_keeps_products_and_recomputes_the_discount(
    box: BoxOffice, session: SessionView
) -> None:
    box.add_promo_code(code="DEZ", percent_off=10)
    made = hold(box, session, ["A1"], products={"agua": 1}, promo="DEZ")
    assert made.amount == Money(2700)
    changed = box.change(made.id, "u1", ["A1", "A2"])
    assert changed.products == made.products
    assert changed.amount == Money(5500 - 550)
