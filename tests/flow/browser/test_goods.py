"""Combos and promo codes on the seat picker: a buyer adds a combo with its stepper and types a
promo code, holds, sees the combo's line, the discount line and the new total, pays, and the
purchase shows the combo (in pt-BR, at desktop and phone width); a refused code is said in
words by its reason (in English); a sold-out combo is shown as such, and a hold refused for it
names it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.flow.browser.conftest import DESKTOP, PHONE, NewContext, OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site
from tests.flow.browser.test_accessibility import violations
from tests.flow.browser.test_portuguese import fits_the_width

NBSP = "\u00a0"


def tag() -> str:
    return f"{datetime.now(UTC):%H%M%S%f}"


def new_product(site: Site, name: str, price: str, stock: int | None = None) -> str:
    code = f"combo-{tag()}"
    with site.api() as admin:
        answer = admin.post(
            "/products", json={"code": code, "name": name, "price": price, "stock": stock}
        )
    assert answer.status_code == 201, answer.text
    return code


def new_code(site: Site, **terms: object) -> str:
    code = f"CINE{tag()}"
    with site.api() as admin:
        answer = admin.post("/promo-codes", json={"code": code, **terms})
    assert answer.status_code == 201, answer.text
    return code


def picker(
    site: Site, new_context: NewContext, open_page: OpenPage, user: str, locale: str, **more: object
) -> tuple[Page, SeatPicker, str]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    session = site.new_session(f"Combo {tag()}", starts_at=starts)
    viewport = more.get("viewport", DESKTOP)
    page = open_page(site.page(f"/s/{session}", user), new_context(viewport, locale=locale))  # type: ignore[arg-type]
    return page, SeatPicker(page).wait_live(), session


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_buyer_adds_a_combo_and_a_promo_code_and_pays_in_portuguese(
    memory_site: Site,
    new_context: NewContext,
    open_page: OpenPage,
    viewport: dict[str, int],
    axe_source: str,
) -> None:
    """Two combos of R$ 30,00 with seat B3 (R$ 25,00) and 10 % off: R$ 85,00 before the hold,
    then the discount line −R$ 8,50 and R$ 76,50 to pay; the tickets and the purchase on My
    tickets show the combo."""
    name = f"Pipoca {tag()}"
    new_product(memory_site, name, "30.00", stock=50)
    code = new_code(memory_site, percent_off=10)
    buyer = f"ana{tag()}"
    page, buyer_picker, _ = picker(
        memory_site, new_context, open_page, buyer, "pt-BR", viewport=viewport
    )
    combo = page.locator("#product-list li", has_text=name)
    expect(combo).to_contain_text(f"R${NBSP}30,00")
    more = combo.get_by_role("button", name=f"Mais um {name}")
    more.click()
    more.click()
    expect(combo.locator("output")).to_have_text("2")
    buyer_picker.choose("B3")
    expect(page.locator("#chosen-products")).to_contain_text(f"2 × {name}")
    expect(buyer_picker.total).to_have_text(f"R${NBSP}85,00")
    page.get_by_label("Cupom de desconto").fill(code.lower())
    fits_the_width(page)
    assert violations(page, axe_source) == []

    buyer_picker.hold()
    buyer_picker.expect_held("B3")
    held = page.locator("#held-goods")
    expect(held.locator('[data-line="product"]')).to_contain_text(f"2 × {name}")
    expect(held.locator('[data-line="product"]')).to_contain_text(f"R${NBSP}60,00")
    expect(held.locator('[data-line="discount"]')).to_contain_text(f"Desconto ({code})")
    expect(held.locator('[data-line="discount"]')).to_contain_text("8,50")
    expect(page.locator("#held-total")).to_have_text(f"R${NBSP}76,50")
    expect(buyer_picker.action("pay")).to_have_text(f"Pagar R${NBSP}76,50")
    fits_the_width(page)
    assert violations(page, axe_source) == []

    buyer_picker.pay()
    expect(page.locator("#paid")).to_contain_text(f"Pago R${NBSP}76,50 por B3")
    expect(page.locator("#sale-goods")).to_contain_text(f"2 × {name}")
    expect(page.locator("#sale-goods")).to_contain_text(f"Desconto ({code})")
    # Choosing more starts afresh: no combo counted, and the stock read again (48 left).
    page.locator("#again").click()
    expect(combo.locator("output")).to_have_text("0")
    expect(combo.get_by_role("button", name=f"Mais um {name}")).to_be_enabled()

    page.goto(memory_site.page("/tickets", buyer))
    purchase = page.locator(".purchase")
    expect(purchase).to_have_count(1)
    expect(purchase).to_contain_text(f"Pagos R${NBSP}76,50 em")
    expect(purchase.locator(".lines")).to_contain_text(f"2 × {name}")
    fits_the_width(page)


def test_a_refused_promo_code_is_said_by_its_reason_in_english(
    memory_site: Site, new_context: NewContext, open_page: OpenPage
) -> None:
    """An unknown code, then one not valid yet: each refusal says why, nothing is held, and
    the seat stays chosen for another try without the code."""
    later = new_code(
        memory_site,
        percent_off=5,
        valid_from=(datetime.now(UTC) + timedelta(days=5)).isoformat(timespec="seconds"),
    )
    page, buyer, _ = picker(memory_site, new_context, open_page, f"bob{tag()}", "en-US")
    buyer.choose("C2")
    page.get_by_label("Promo code").fill("NOPE42")
    buyer.hold()
    expect(buyer.problem).to_have_text(
        "The promo code NOPE42 does not exist: check how it is written, or hold without it. "
        "Nothing was held."
    )
    expect(buyer.problem).to_have_attribute("data-code", "promo_code_invalid")
    expect(page.get_by_label("Promo code")).to_have_attribute("aria-invalid", "true")
    expect(buyer.seat("C2")).to_have_attribute("data-state", "chosen")
    page.get_by_label("Promo code").fill(later)
    buyer.hold()
    expect(buyer.problem).to_have_text(
        f"The promo code {later} is not valid yet. Nothing was held."
    )
    page.get_by_label("Promo code").fill("")
    buyer.hold()
    buyer.expect_held("C2")


def test_a_sold_out_combo_is_shown_as_such_and_a_refusal_names_it(
    memory_site: Site, new_context: NewContext, open_page: OpenPage
) -> None:
    """A combo with one unit left: the buyer asks for it, another buyer takes it first; the
    hold is refused naming the combo, which then reads sold out."""
    name = f"Nachos {tag()}"
    code = new_product(memory_site, name, "18.00", stock=1)
    page, buyer, session = picker(memory_site, new_context, open_page, f"cid{tag()}", "en-US")
    combo = page.locator("#product-list li", has_text=name)
    combo.get_by_role("button", name=f"One more {name}").click()
    expect(combo.get_by_role("button", name=f"One more {name}")).to_be_disabled()
    with memory_site.api(f"dora{tag()}", "customer") as other:
        taken = other.post(
            "/reservations", json={"session_id": session, "seats": ["A1"], "products": {code: 1}}
        )
    assert taken.status_code == 201, taken.text
    buyer.choose("D4")
    buyer.hold()
    expect(buyer.problem).to_contain_text(f"{name} is sold out: only 0 left.")
    expect(combo).to_contain_text("sold out")
    expect(combo).to_have_attribute("data-sold-out", "true")
    buyer.hold()
    buyer.expect_held("D4")


def test_an_admin_adds_a_product_restocks_it_and_adds_a_promo_code(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, axe_source: str
) -> None:
    """On the admin screen (pt-BR): a product with a stock of 5, restocked by 3 (8 left), and a
    promo code, each confirmed in words; the panel has no serious axe finding."""
    page = open_page(
        memory_site.page("/admin", "boss", "admin"), new_context(DESKTOP, locale="pt-BR")
    )
    code = f"balde-{tag()}"
    name = f"Balde {tag()}"
    form = page.locator("#product-form")
    form.get_by_label("Código").fill(code)
    form.get_by_label("Nome").fill(name)
    form.get_by_label("Preço (R$)").fill("42,50")
    form.get_by_label("Estoque (vazio: sem controle)").fill("5")
    form.get_by_role("button", name="Adicionar produto").click()
    expect(page.locator("#goods-info")).to_have_text(f"{name} está à venda.")
    product = page.locator("#admin-products li", has_text=name)
    expect(product).to_contain_text(f"R${NBSP}42,50 · restam 5")
    product.get_by_label(f"Unidades a repor de {name}").fill("3")
    product.get_by_role("button", name="Repor estoque").click()
    expect(page.locator("#goods-info")).to_have_text(f"{name}: restam 8 agora.")
    expect(page.locator("#admin-products li", has_text=name)).to_contain_text("restam 8")
    promo = page.locator("#promo-form")
    coupon = f"ADM{tag()}"
    promo.get_by_label("Código").fill(coupon.lower())
    promo.get_by_label("Porcentagem de desconto").fill("15")
    promo.get_by_role("button", name="Adicionar cupom").click()
    expect(page.locator("#goods-info")).to_have_text(f"Cupom {coupon} adicionado.")
    assert violations(page, axe_source) == []
