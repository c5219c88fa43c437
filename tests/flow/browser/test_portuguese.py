"""The pages in Brazilian Portuguese, as a browser asking for pt-BR gets them: the home list,
the seat picker (holding and paying), the admin screen and the tickets, at desktop and phone
width; dates as ``qua., 9 de dez., 19:00`` in the cinemas' zone whatever the browser's, money as
``R$ 25,00``; the language switch remembered across pages and reloads; no serious axe finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from entrypoints.http.framework.languages import Formats
from tests.flow.browser.conftest import DESKTOP, PHONE, NewContext, OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site
from tests.flow.browser.test_accessibility import at_both_widths

ZONE = "America/Sao_Paulo"
# A browser far from the cinemas: its own day starts 12 hours before theirs.
FAR = "Asia/Tokyo"
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


def when(instant: datetime) -> str:
    return Formats("pt-BR", ZONE).when(instant)


def portuguese(
    new_context: NewContext, open_page: OpenPage, url: str, viewport: dict[str, int]
) -> Page:
    page = open_page(url, new_context(viewport, locale="pt-BR", zone=FAR))
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    return page


def fits_the_width(page: Page) -> None:
    """Nothing scrolls sideways: the page is no wider than the window."""
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    culprits = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 0.5).map(e => e.tagName + '.' + e.className + ' ' +"
        " (e.textContent || '').slice(0, 40))"
    )
    assert wide <= 0, f"{wide}px wider than the window: {culprits[:8]}"


def tag() -> str:
    return f"{datetime.now(UTC):%H%M%S%f}"


@WIDTHS
def test_the_home_list_speaks_portuguese_and_bounds_a_day_in_the_cinemas_zone(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, viewport: dict[str, int]
) -> None:
    """A session late in the evening in São Paulo (the next morning in Tokyo) is listed under
    its São Paulo day, dated and priced in Portuguese."""
    name = f"Noite {tag()}"
    local = datetime.now(ZoneInfo(ZONE)).replace(hour=22, minute=30, second=0, microsecond=0)
    starts = local + timedelta(days=2)
    memory_site.new_session(name, starts_at=starts)
    page = portuguese(new_context, open_page, memory_site.page(f"/?movie={name}"), viewport)
    cards = page.locator(".card")
    expect(cards).to_have_count(1)
    expect(cards.first.locator("time")).to_have_text(when(starts))
    expect(cards.first).to_contain_text("24 de 24 assentos livres")
    expect(cards.first).to_contain_text("R$\u00a025,00")
    expect(page.locator("#list-status")).to_have_text("1 sessão.")

    page.get_by_label("Dia").fill(starts.strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Mostrar").click()
    expect(cards).to_have_count(1)
    page.get_by_label("Dia").fill((starts + timedelta(days=1)).strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Mostrar").click()
    expect(page.locator("#list-status")).to_have_text("Nenhuma sessão futura corresponde.")
    fits_the_width(page)


@WIDTHS
def test_a_buyer_holds_and_pays_a_seat_in_portuguese(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, viewport: dict[str, int]
) -> None:
    """Choosing, holding and paying two seats: every word the picker writes is Portuguese."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    session = memory_site.new_session(f"Filme {tag()}", starts_at=starts)
    page = portuguese(new_context, open_page, memory_site.page(f"/s/{session}", "ana"), viewport)
    picker = SeatPicker(page).wait_live()
    expect(page.locator("#live")).to_have_text("ao vivo")
    expect(page.locator("#starts")).to_have_text(when(starts))
    expect(page.locator("#legend")).to_contain_text("padrão R$\u00a025,00")
    expect(page.locator("#order-title")).to_have_text("Seus assentos")
    expect(picker.action("hold")).to_have_text("Reservar assento")
    picker.choose("B3")
    expect(picker.action("hold")).to_have_text("Reservar assento")
    picker.choose("B4")
    expect(picker.action("hold")).to_have_text("Reservar 2 assentos")
    expect(picker.total).to_have_text("R$\u00a050,00")
    expect(picker.seat("B3")).to_have_accessible_name("B3, padrão, escolhido, R$\u00a025,00")

    picker.hold()
    picker.expect_held("B3", "B4")
    expect(page.locator("#order-title")).to_have_text("Sua reserva")
    expect(picker.info).to_have_text(
        "B3 e B4 estão reservados para você. Pague antes que o tempo acabe."
    )
    expect(picker.action("pay")).to_have_text("Pagar R$\u00a050,00")
    fits_the_width(page)
    picker.pay()
    expect(page.locator("#order-title")).to_have_text("Seus ingressos")
    expect(page.locator("#paid")).to_have_text(
        "Pago R$\u00a050,00 por B3 e B4. Mostre estes ingressos na entrada."
    )
    expect(page.locator("#tickets")).to_contain_text("Assento B3")
    fits_the_width(page)


@WIDTHS
def test_the_admin_screen_speaks_portuguese(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, viewport: dict[str, int]
) -> None:
    """The layout's preview and its errors, the rooms, and the coming sessions' figures."""
    movie = f"Relatório {tag()}"
    # Soon, so that it is among the next sessions the table watches on a site that serves the
    # whole run's sessions.
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    memory_site.new_session(movie, starts_at=starts)
    page = portuguese(new_context, open_page, memory_site.page("/admin", "boss", "admin"), viewport)
    layout = page.locator("#room-layout")
    layout.fill("")
    expect(page.locator("#layout-summary")).to_contain_text("Digite pelo menos uma fileira.")
    layout.fill("ssss_ssss\npppp_pppx\ncc_ww")
    expect(page.locator("#layout-summary")).to_have_text(
        "3 fileiras, 19 assentos à venda (8 padrão, 7 premium, 2 de casal, "
        "2 para cadeira de rodas), 1 bloqueado."
    )
    layout.fill("ssss_ssss\nccc")
    expect(page.locator("#layout-summary")).to_contain_text(
        "Fileira B: assentos de casal (c) vêm em pares, mas as células 1–3 são 3."
    )
    row = page.locator("#reports tbody tr", has_text=movie)
    expect(row).to_contain_text("Borderô (CSV)")
    expect(row.locator('[data-figure="starts"]')).to_have_text(when(starts))
    expect(row.locator('[data-figure="revenue"]')).to_have_text("R$\u00a00,00")
    expect(page.locator("#s-room option").first).to_have_text("Uma sala simples para esta sessão")
    fits_the_width(page)


@WIDTHS
def test_the_tickets_page_speaks_portuguese(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, viewport: dict[str, int]
) -> None:
    """A purchase: paid in reais, on a Portuguese date, its seat refundable in Portuguese."""
    buyer = f"lia{tag()}"
    session = memory_site.new_session(f"Ingresso {tag()}")
    memory_site.buy(buyer, session, ["A1"])
    page = portuguese(new_context, open_page, memory_site.page("/tickets", buyer), viewport)
    purchase = page.locator(".purchase")
    expect(purchase).to_have_count(1)
    expect(purchase).to_contain_text("Pagos R$\u00a025,00 em")
    expect(purchase.locator('[data-action="refund"]')).to_have_text("Reembolsar assento A1")
    fits_the_width(page)


def test_the_language_switch_is_remembered_across_pages_and_reloads(
    memory_site: Site, new_context: NewContext, open_page: OpenPage
) -> None:
    """A pt-BR browser switches to English: the next page, and a reload, stay English; the
    switch back to Portuguese holds the same way."""
    page = portuguese(new_context, open_page, memory_site.page("/"), DESKTOP)
    expect(page.locator("h1")).to_have_text("Próximas sessões")
    page.locator('.languages [data-lang="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Coming sessions")
    page.get_by_role("link", name="My tickets").click()
    expect(page.locator("h1")).to_have_text("My tickets")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator('.languages [data-lang="pt-BR"]').click()
    expect(page.locator("h1")).to_have_text("Meus ingressos")
    page.get_by_role("link", name="Próximas sessões").or_(
        page.get_by_role("link", name="Sessões")
    ).first.click()
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    page.reload()
    expect(page.locator("h1")).to_have_text("Próximas sessões")


def test_no_portuguese_page_has_a_serious_accessibility_violation(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, axe_source: str
) -> None:
    """axe-core on every page in pt-BR, at desktop and phone width."""
    session = memory_site.new_session(f"Acesso {tag()}", rows=5, seats_per_row=8)
    memory_site.buy("bia", session, ["C4", "C5"])
    pages = {
        "home": memory_site.page("/"),
        "picker": memory_site.page(f"/s/{session}", "bia"),
        "tickets": memory_site.page("/tickets", "bia"),
        "admin": memory_site.page("/admin", "boss", "admin"),
    }
    found = {}
    for name, url in pages.items():
        page = portuguese(new_context, open_page, url, DESKTOP)
        if name == "picker":
            SeatPicker(page).wait_live().choose("D4")
        else:
            expect(page.locator("main")).to_be_visible()
            page.wait_for_load_state("networkidle")
        found[name] = at_both_widths(page, axe_source)
    assert not {name: v for name, v in found.items() if any(v.values())}, found
