"""The counter screen: a staff member opens a shift with a float, sells two seats picked on the
live map for cash with the change shown before confirming, prints the sale (its QR codes and
seats, on A4 or an 80 mm receipt), closes the shift and reads a statement that matches; in
Portuguese (the whole story) and in English; usable at phone width. Combos sell with the seats:
the change counts them, the sale and its printout list them, a sold-out one is named, and a
promo code's discount is the server's (refused in words by its reason)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests import services
from tests.flow.browser.conftest import PHONE, NewContext, OpenPage
from tests.flow.browser.site import Site
from tests.flow.browser.test_accessibility import violations
from tests.flow.browser.test_goods import new_code, new_product, tag

NBSP = "\u00a0"


def soon_session(site: Site, movie: str) -> str:
    # In two hours: among the sessions the counter lists.
    return site.new_session(
        movie, rows=4, seats_per_row=6, starts_at=datetime.now(UTC) + timedelta(hours=2)
    )


def counter_page(open_page: OpenPage, site: Site, user: str, **options: Any) -> Page:
    page = open_page(site.page("/counter", user, "staff"), **options)
    expect(page.locator("#counter")).to_be_visible()
    return page


def open_shift(page: Page, float_: str) -> None:
    page.locator("#float").fill(float_)
    page.locator("[data-action=open-shift]").click()
    expect(page.locator("#shift-open")).to_be_visible()


def pick_session(page: Page, session: str) -> None:
    page.locator("#counter-session").select_option(session)
    expect(page.locator('#live[data-live="on"]')).to_be_visible()


def brl(amount: str) -> str:
    return f"R${NBSP}{amount}"


def test_a_cash_sale_at_the_counter_printed_and_its_shift_closed_in_portuguese(
    site: Site, new_context: NewContext, open_page: OpenPage
) -> None:
    """Float R$ 100,00; C3 and C4 (R$ 25,00 each) for R$ 60,00 in cash: change R$ 10,00 shown
    before confirming; the printout shows both seats with their QR codes and the receipt; the
    close with R$ 150,00 counted shows 1 sale, R$ 50,00 cash, expected R$ 150,00, no difference."""
    user = services.unique("caixa")
    session = soon_session(site, services.unique("Filme do Caixa"))
    context = new_context(locale="pt-BR")
    page = counter_page(open_page, site, user, context=context)
    expect(page.locator("h1")).to_have_text("Bilheteria")
    expect(page.locator('nav a[href="/counter"]')).to_be_visible()
    open_shift(page, "100,00")
    expect(page.locator("#info")).to_have_text("Caixa aberto. Escolha uma sessão para vender.")
    pick_session(page, session)

    page.locator('[data-seat="C3"]').click()
    page.locator('[data-seat="C4"]').click()
    expect(page.locator("#total")).to_have_text(brl("50,00"))
    expect(page.locator("[data-action=sell]")).to_be_disabled()
    page.locator("#tendered").fill("40")
    expect(page.locator("#change")).to_have_text(f"faltam {brl('10,00')}")
    expect(page.locator("[data-action=sell]")).to_be_disabled()
    page.locator("#tendered").fill("60,00")
    expect(page.locator("#change")).to_have_text(brl("10,00"))
    page.locator("[data-action=sell]").click()
    expect(page.locator("#sold-summary")).to_have_text(
        f"Vendidas C3 e C4 por {brl('50,00')}, em dinheiro: recebido {brl('60,00')}, "
        f"troco {brl('10,00')}."
    )
    expect(page.locator('[data-seat="C3"]')).to_have_attribute("data-status", "sold")
    expect(page.locator("#shift-summary")).to_contain_text("1 vendas")

    with page.expect_popup() as opened:
        page.locator("[data-action=print]").click()
    sheet = opened.value
    expect(sheet.locator(".printed-ticket")).to_have_count(2)
    for seat in ("C3", "C4"):
        ticket = sheet.locator(f'.printed-ticket[data-seat="{seat}"]')
        expect(ticket.locator(".printed-seat")).to_have_text(seat)
        expect(
            ticket.get_by_role("img", name=f"QR code do ingresso do assento {seat}")
        ).to_be_visible()
        expect(ticket.locator("svg path")).to_have_count(1)
    expect(sheet.locator('[data-receipt="change"]')).to_have_text(brl("10,00"))
    expect(sheet.locator('[data-receipt="method"]')).to_have_text("Dinheiro")
    expect(sheet.locator("#printout")).to_have_attribute("data-paper", "a4")
    sheet.locator('button[data-paper="receipt"]').click()
    expect(sheet.locator("#printout")).to_have_attribute("data-paper", "receipt")
    sheet.close()
    with page.expect_popup() as opened:
        page.locator("[data-action=print-receipt]").click()
    expect(opened.value.locator("#printout")).to_have_attribute("data-paper", "receipt")
    opened.value.close()

    page.locator("#counted").fill("150,00")
    page.locator("[data-action=close-shift]").click()
    expect(page.locator("#statement")).to_be_visible()
    figures = {
        name: page.locator(f'[data-statement="{name}"]').inner_text()
        for name in ("sales", "cash", "card", "pix", "expected", "counted", "difference")
    }
    assert figures == {
        "sales": "1",
        "cash": brl("50,00"),
        "card": brl("0,00"),
        "pix": brl("0,00"),
        "expected": brl("150,00"),
        "counted": brl("150,00"),
        "difference": brl("0,00"),
    }
    expect(page.locator("#open-shift")).to_be_visible()
    expect(page.locator("#sell-panel")).to_be_hidden()


def test_a_card_sale_of_the_best_seats_in_english_and_a_short_drawer(
    site: Site, open_page: OpenPage
) -> None:
    """Two best seats by card, then the close with R$ 5,00 less than the float: the
    statement's difference is -R$ 5,00."""
    user = services.unique("till")
    session = soon_session(site, services.unique("Counter Movie"))
    page = counter_page(open_page, site, user)
    expect(page.locator("h1")).to_have_text("Counter")
    open_shift(page, "20")
    pick_session(page, session)
    page.locator("#best-count").fill("2")
    page.locator("#method-card").check()
    expect(page.locator("#tendered-field")).to_be_hidden()
    expect(page.locator("#total")).to_have_text(brl("50,00"))
    page.locator("[data-action=sell]").click()
    expect(page.locator("#sold-summary")).to_contain_text(f"for {brl('50,00')}, by Card.")
    page.locator("#counted").fill("15.00")
    page.locator("[data-action=close-shift]").click()
    expect(page.locator('[data-statement="card"]')).to_have_text(brl("50,00"))
    expect(page.locator('[data-statement="difference"]')).to_have_text(f"-{brl('5,00')}")


def test_the_counter_at_phone_width_and_for_a_customer(
    memory_site: Site, open_page: OpenPage, axe_source: str
) -> None:
    """At 375 px nothing scrolls sideways and axe finds nothing serious; a customer is told
    the screen is for staff."""
    user = services.unique("phone")
    session = soon_session(memory_site, services.unique("Filme Pequeno"))
    page = counter_page(open_page, memory_site, user, viewport=PHONE)
    open_shift(page, "0")
    pick_session(page, session)
    page.locator('[data-seat="A1"]').click()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert violations(page, axe_source) == []
    customer = open_page(memory_site.page("/counter", services.unique("buyer")))
    expect(customer.locator("#counter-guard")).to_be_visible()
    expect(customer.locator("#counter")).to_be_hidden()


def test_a_seat_and_a_combo_sold_for_cash_and_printed_in_portuguese(
    site: Site, new_context: NewContext, open_page: OpenPage
) -> None:
    """C2 (R$ 25,00) and one combo of R$ 30,00 for R$ 60,00 in cash: total R$ 55,00 and change
    R$ 5,00 before confirming; the sale lists the combo, and so does the printed receipt."""
    name = f"Combo Caixa {tag()}"
    code = new_product(site, name, "30.00", stock=10)
    user = services.unique("caixa")
    session = soon_session(site, services.unique("Filme com Combo"))
    page = counter_page(open_page, site, user, context=new_context(locale="pt-BR"))
    open_shift(page, "50,00")
    pick_session(page, session)
    page.locator('[data-seat="C2"]').click()
    combo = page.locator(f'#product-list li[data-product="{code}"]')
    expect(combo).to_contain_text(brl("30,00"))
    combo.get_by_role("button", name=f"Mais um {name}").click()
    expect(combo.locator("output")).to_have_text("1")
    expect(page.locator("#chosen-products")).to_contain_text(f"1 × {name}")
    expect(page.locator("#total")).to_have_text(brl("55,00"))
    page.locator("#tendered").fill("50")
    expect(page.locator("#change")).to_have_text(f"faltam {brl('5,00')}")
    page.locator("#tendered").fill("60")
    expect(page.locator("#change")).to_have_text(brl("5,00"))
    page.locator("[data-action=sell]").click()
    expect(page.locator("#sold-summary")).to_have_text(
        f"Vendidas C2 por {brl('55,00')}, em dinheiro: recebido {brl('60,00')}, "
        f"troco {brl('5,00')}."
    )
    expect(page.locator(f'#sold-goods [data-product="{code}"]')).to_contain_text(f"1 × {name}")
    expect(combo.locator("output")).to_have_text("0")
    expect(page.locator("#chosen-products li")).to_have_count(0)

    with page.expect_popup() as opened:
        page.locator("[data-action=print-receipt]").click()
    sheet = opened.value
    line = sheet.locator(f'[data-receipt="product"][data-product="{code}"]')
    expect(line).to_contain_text(f"1 × {name}")
    expect(line).to_contain_text(brl("30,00"))
    expect(sheet.locator('[data-receipt="total"]')).to_have_text(brl("55,00"))
    expect(sheet.locator('[data-receipt="change"]')).to_have_text(brl("5,00"))
    sheet.close()


def test_a_sold_out_combo_is_named_and_a_promo_code_priced_by_the_sale_in_english(
    memory_site: Site, open_page: OpenPage
) -> None:
    """A combo with one unit left goes to another buyer first: the sale is refused naming it,
    and it reads sold out. An unknown code is refused by its reason; a 10 % code shows the
    total as before the discount, and the sale's answer the discounted amount and change."""
    name = f"Nachos Caixa {tag()}"
    code = new_product(memory_site, name, "20.00", stock=1)
    promo = new_code(memory_site, percent_off=10)
    user = services.unique("till")
    session = soon_session(memory_site, services.unique("Combo Movie"))
    page = counter_page(open_page, memory_site, user)
    open_shift(page, "0")
    pick_session(page, session)
    combo = page.locator(f'#product-list li[data-product="{code}"]')
    combo.get_by_role("button", name=f"One more {name}").click()
    with memory_site.api(services.unique("other"), "customer") as other:
        taken = other.post(
            "/reservations", json={"session_id": session, "seats": ["A1"], "products": {code: 1}}
        )
    assert taken.status_code == 201, taken.text
    page.locator('[data-seat="D5"]').click()
    page.locator("#method-card").check()
    page.locator("[data-action=sell]").click()
    expect(page.locator("#problem")).to_contain_text(
        f"{name} is sold out: only 0 left. Sell fewer, or the seats without it. Nothing was sold."
    )
    expect(combo).to_have_attribute("data-sold-out", "true")
    expect(combo).to_contain_text("sold out")

    page.locator("#promo-code").fill("NOSUCHCODE")
    expect(page.locator("#total")).to_have_text(f"{brl('25,00')} before the discount")
    page.locator("[data-action=sell]").click()
    expect(page.locator("#problem")).to_have_text(
        "The promo code NOSUCHCODE does not exist: check how it is written, or sell without "
        "it. Nothing was sold."
    )
    expect(page.locator("#promo-code")).to_have_attribute("aria-invalid", "true")

    page.locator("#promo-code").fill(promo)
    page.locator("#method-cash").check()
    page.locator("#tendered").fill("30")
    expect(page.locator("#change")).to_have_text(f"{brl('5,00')} or more")
    page.locator("[data-action=sell]").click()
    expect(page.locator("#sold-summary")).to_have_text(
        f"Sold D5 for {brl('22,50')}, in cash: {brl('30,00')} tendered, change {brl('7,50')}."
    )
    expect(page.locator('#sold-goods [data-line="discount"]')).to_contain_text(promo)
    expect(page.locator("#promo-code")).to_have_value("")
