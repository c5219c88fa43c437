"""The door screen: staff scan or type a ticket's code and read, in large type, the seat, the
ticket type, the session and what to check of the holder, or why not to let them in; usable
at phone width. And the age rating shown as its badge wherever a session is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests import services
from tests.flow.browser.conftest import PHONE, OpenPage
from tests.flow.browser.site import Site
from tests.flow.browser.test_accessibility import violations

CIE = "Carteira de Identificação Estudantil (CIE)"


def rated_session(site: Site, rating: str, movie: str = "Filme Proibido") -> str:
    # In two hours: among the sessions the door lists.
    session = site.new_session(movie, starts_at=datetime.now(UTC) + timedelta(hours=2))
    with site.api() as admin:
        answer = admin.patch(f"/sessions/{session}", json={"rating": rating})
    assert answer.status_code == 200, answer.text
    return session


def bought_tickets(
    site: Site, user: str, session: str, seats: list[str], **kinds: int
) -> list[Any]:
    """A sale of ``seats`` as the given ticket types; its tickets (code, seat, type)."""
    reservation = site.hold(user, session, seats, tickets=kinds or None)
    with site.api(user, "customer") as client:
        sale = client.post(f"/reservations/{reservation['id']}/payment")
        assert sale.status_code == 201, sale.text
        found = client.get(f"/sales/{sale.json()['id']}/tickets")
    assert found.status_code == 200, found.text
    items: list[Any] = found.json()["items"]
    return items


def scan(page: Page, code: str) -> None:
    """What a USB scanner does: types the code into the focused field, then Enter."""
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_staff_check_a_half_price_ticket_of_a_16_session_in_at_phone_width(
    site: Site, open_page: OpenPage, axe_source: str
) -> None:
    """The screen says the seat, Meia-entrada, the CIE and 16; the same code again says when
    it was checked in; nothing overflows at 375 px and axe finds nothing serious."""
    session = rated_session(site, "16")
    (ticket,) = bought_tickets(site, services.unique("ana"), session, ["B3"], half=1)
    page = open_page(site.page("/door", "porteiro", "staff"), viewport=PHONE)
    expect(page.locator(f'#door-session option[value="{session}"]')).to_have_count(1)
    page.locator("#door-session").select_option(session)
    page.locator("#code").focus()
    scan(page, ticket["code"])

    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-verdict", "check")
    expect(page.locator("#verdict-seat")).to_have_text("B3")
    expect(page.locator("#verdict-ticket")).to_have_text("Meia-entrada")
    expect(page.locator("#verdict-session")).to_contain_text("Filme Proibido")
    expect(page.locator("#verdict-session [data-rating]")).to_have_text("16")
    expect(page.locator('[data-check="document"]')).to_have_text(f"Document: {CIE}")
    expect(page.locator('[data-check="age"]')).to_have_text("Age: 16 or older")
    # Large type: read at arm's length.
    size = page.locator("#verdict-seat").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert float(size) >= 32
    assert fits_the_width(page)
    assert violations(page, axe_source) == []

    scan(page, ticket["code"])
    expect(verdict).to_have_attribute("data-verdict", "refused")
    expect(page.locator("#verdict-why")).to_contain_text("Already checked in at ")
    expect(page.locator('[data-check="document"]')).to_have_count(0)
    assert fits_the_width(page)
    assert violations(page, axe_source) == []


def test_the_door_says_why_a_ticket_is_refused_in_words(
    memory_site: Site, open_page: OpenPage
) -> None:
    """An unknown code, a refunded ticket and another session's ticket are refused in words;
    a full-price ticket of an L session has nothing to check."""
    door_session = rated_session(memory_site, "L", "Filme da Porta")
    other = memory_site.new_session("Outro Filme")
    a1, a2 = bought_tickets(memory_site, "bia_door", other, ["A1", "A2"])
    with memory_site.api("bia_door", "customer") as client:
        refunded = client.post(f"/sales/{a1['sale_id']}/refunds", json={"seats": ["A2"]})
    assert refunded.status_code == 201, refunded.text
    (free_pass,) = bought_tickets(memory_site, "bia_door", door_session, ["C1"])
    page = open_page(memory_site.page("/door", "porteiro", "staff"))
    why = page.locator("#verdict-why")

    page.locator("#code").focus()
    scan(page, "no-such-code")
    expect(why).to_have_text("Unknown code: no ticket has it.")
    scan(page, a2["code"])
    expect(why).to_have_text("This ticket was refunded: it is void.")
    page.locator("#door-session").select_option(door_session)
    page.locator("#code").focus()
    scan(page, a1["code"])
    expect(why).to_contain_text("This ticket is for another session: Outro Filme · ")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "refused")
    scan(page, free_pass["code"])
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "ok")
    expect(page.locator("#verdict-title")).to_have_text("Let in")
    expect(why).to_have_text("Nothing to check.")
    expect(page.locator("#verdict-ticket")).to_have_text("Inteira")


def test_the_door_screen_is_for_staff_and_linked_for_them(
    memory_site: Site, open_page: OpenPage
) -> None:
    """A customer is asked for a staff token and sees no door link; staff see the link in the
    header, and the admin screen links to the door."""
    customer = open_page(memory_site.page("/door", "ana"))
    expect(customer.locator("#door-guard")).to_contain_text("needs a staff or admin token")
    expect(customer.locator("#door")).to_be_hidden()
    home = open_page(memory_site.page("/", "ana"))
    expect(home.locator('nav a[href="/door"]')).to_be_hidden()
    staff = open_page(memory_site.page("/", "porteiro", "staff"))
    staff.get_by_role("navigation", name="Main").get_by_role("link", name="Door").click()
    expect(staff.locator("#code")).to_be_visible()
    admin = open_page(memory_site.page("/admin", "boss", "admin"))
    expect(admin.get_by_role("link", name="Door screen")).to_have_attribute("href", "/door")


def test_every_page_shows_the_session_rating_as_its_badge(
    memory_site: Site, open_page: OpenPage
) -> None:
    """The home list, the picker, the buyer's tickets and the admin table show "14" with its
    label; the admin's forms create a session rated 12 and change it to 18."""
    session = rated_session(memory_site, "14", "Filme Catorze")
    buyer = services.unique("ana")
    bought_tickets(memory_site, buyer, session, ["A1"])
    label = "Rated 14: not recommended for under 14"
    home = open_page(memory_site.page("/?movie=Catorze", buyer))
    expect(home.locator(".card").first.get_by_role("img", name=label)).to_have_text("14")
    picker = open_page(memory_site.page(f"/s/{session}", buyer))
    expect(picker.locator(".where").get_by_role("img", name=label)).to_have_text("14")
    mine = open_page(memory_site.page("/tickets", buyer))
    expect(mine.locator(".purchase").first.get_by_role("img", name=label)).to_have_text("14")

    admin = open_page(memory_site.page("/admin", "boss", "admin"))
    row = admin.locator(f'tr[data-session="{session}"]')
    expect(row.get_by_role("img", name=label)).to_have_text("14")
    admin.get_by_label("Movie", exact=True).fill("Filme Doze")
    admin.get_by_label("Age rating").first.select_option("12")
    # Soon, so that it is among the sessions the reports table watches (the first twenty
    # coming), however many the other tests on this site made for later.
    soon = admin.evaluate(
        "() => { const at = new Date(Date.now() + 100 * 60000);"
        " at.setMinutes(at.getMinutes() - at.getTimezoneOffset());"
        " return at.toISOString().slice(0, 16); }"
    )
    admin.locator("#s-starts").fill(soon)
    admin.get_by_role("button", name="Create session").click()
    link = admin.locator("#session-info").get_by_role("link", name="open its seat picker")
    created = (link.get_attribute("href") or "").removeprefix("/s/")
    with memory_site.api() as api:
        assert api.get(f"/sessions/{created}").json()["rating"] == "12"
    expect(admin.locator(f'#c-session option[value="{created}"]')).to_have_count(1)
    admin.locator("#c-session").select_option(created)
    expect(admin.locator("#c-rating")).to_have_value("12")
    admin.locator("#c-rating").select_option("18")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin.locator("#change-info")).to_contain_text("Filme Doze")
    with memory_site.api() as api:
        assert api.get(f"/sessions/{created}").json()["rating"] == "18"
    expect(admin.locator(f'tr[data-session="{created}"] [data-rating]')).to_have_text("18")


def test_the_door_speaks_portuguese(memory_site: Site, open_page: OpenPage) -> None:
    """In pt-BR the door says what to check and why not in Portuguese, the badge too."""
    session = rated_session(memory_site, "12", "Filme Doze Anos")
    (ticket,) = bought_tickets(memory_site, services.unique("ana"), session, ["D2"], senior=1)
    page = open_page(memory_site.page("/door?lang=pt-BR", "porteiro", "staff"))
    expect(page.locator("h1")).to_have_text("Portaria")
    page.locator("#code").focus()
    scan(page, ticket["code"])
    expect(page.locator("#verdict-title")).to_have_text("Confira e deixe entrar")
    expect(page.locator('[data-check="age"]')).to_have_text("Idade: 12 anos ou mais")
    expect(page.locator('[data-check="document"]')).to_have_text(
        "Documento: Documento de identidade com foto"
    )
    badge = page.locator("#verdict-session").get_by_role(
        "img", name="Classificação 12: não recomendado para menores de 12 anos"
    )
    expect(badge).to_have_text("12")
    scan(page, "nada")
    expect(page.locator("#verdict-why")).to_have_text(
        "Código desconhecido: nenhum ingresso tem este código."
    )
