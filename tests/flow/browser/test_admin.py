"""The admin screen: a room's layout previewed as it is typed, a session created and listed,
its figures filling up as seats sell; a customer is asked for an admin token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests import services
from tests.flow.browser.conftest import PHONE, OpenPage
from tests.flow.browser.site import Site


def test_the_admin_creates_a_session_and_watches_it_sell(site: Site, open_page: OpenPage) -> None:
    """A session in a plain room, made from the form, is listed with its picker's link; a
    sale made meanwhile shows in its row (seats and revenue) within a refresh."""
    page = open_page(site.page("/admin", "boss", "admin"))
    movie = f"Estreia {datetime.now(UTC):%H%M%S%f}"
    page.get_by_label("Movie", exact=True).fill(movie)
    page.get_by_label("Rows", exact=True).fill("5")
    page.get_by_label("Seats a row").fill("8")
    page.get_by_label("Every seat").fill("30.00")
    page.get_by_role("button", name="Create session").click()
    info = page.locator("#session-info")
    expect(info).to_contain_text(f"{movie} on ")
    link = info.get_by_role("link", name="open its seat picker")
    session = (link.get_attribute("href") or "").removeprefix("/s/")

    row = page.locator(f'tr[data-session="{session}"]')
    expect(row).to_contain_text(movie)
    expect(row.locator('[data-figure="available"]')).to_have_text("40")
    expect(row.locator('[data-figure="sold"]')).to_have_text("0")
    expect(row.locator('[data-figure="revenue"]')).to_have_text("R$\u00a00,00")
    site.buy("ana", session, ["A1", "A2"])
    expect(row.locator('[data-figure="sold"]')).to_have_text("2", timeout=5000)
    expect(row.locator('[data-figure="available"]')).to_have_text("38")
    expect(row.locator('[data-figure="revenue"]')).to_have_text("R$\u00a060,00")


def test_the_admin_creates_a_room_then_a_session_in_it(site: Site, open_page: OpenPage) -> None:
    """The example layout becomes a room of 39 seats, listed and chosen for the new session,
    whose prices are asked per category; the session is listed with the room's seats. The same
    room name again is refused in words."""
    page = open_page(site.page("/admin", "boss", "admin"))
    name = services.unique("Sala")
    page.get_by_label("Cinema", exact=True).fill("Norte")
    page.get_by_label("Name", exact=True).first.fill(name)
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#room-info")).to_have_text(f"{name} created at Norte: 39 seats for sale.")
    expect(page.locator("#rooms")).to_contain_text(f"Norte · {name}: 39 seats")
    expect(page.get_by_label("Room", exact=True)).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    expect(page.locator("#plain-room")).to_be_hidden()
    labels = page.locator("#price-fields label")
    expect(labels).to_have_text(["Standard", "Premium", "Couple (each half)", "Wheelchair"])
    page.get_by_label("Premium", exact=True).fill("42.00")
    movie = services.unique("Estreia")
    page.get_by_label("Movie", exact=True).fill(movie)
    page.get_by_role("button", name="Create session").click()
    link = page.locator("#session-info").get_by_role("link", name="open its seat picker")
    session = (link.get_attribute("href") or "").removeprefix("/s/")
    row = page.locator(f'tr[data-session="{session}"]')
    expect(row).to_contain_text(f"{movie} · {name} · Norte")
    expect(row.locator('[data-figure="available"]')).to_have_text("39")
    with site.api() as admin:
        created = admin.get(f"/sessions/{session}").json()
    assert (created["cinema"], created["room"], created["prices"]["premium"]) == (
        "Norte",
        name,
        "42.00",
    )

    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#room-problem")).to_have_text(f"Norte already has a room named {name}.")


def test_a_refused_session_says_which_field_is_wrong(
    memory_site: Site, open_page: OpenPage
) -> None:
    """A start in the past is refused by the server, and the page names the field."""
    page = open_page(memory_site.page("/admin", "boss", "admin"))
    page.get_by_label("Movie", exact=True).fill("Ontem")
    yesterday = datetime.now() - timedelta(days=1)
    page.get_by_label("Starts", exact=True).fill(yesterday.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Create session").click()
    problem = page.locator("#session-problem")
    expect(problem).to_have_attribute("data-code", "validation_error")
    expect(problem).to_contain_text("starts_at")


def test_the_layout_preview_draws_and_counts_the_room_as_it_is_typed(
    memory_site: Site, open_page: OpenPage
) -> None:
    """The example layout reads as 39 seats for sale and one blocked, drawn with its gaps,
    couple pairs and blocked seat; an odd run of couple seats is pointed out at once."""
    page = open_page(memory_site.page("/admin", "boss", "admin"))
    summary = page.locator("#layout-summary")
    expect(summary).to_have_text(
        "5 rows, 39 seats for sale (24 standard, 8 premium, 4 couple, 3 wheelchair), 1 blocked."
    )
    preview = page.locator("#layout-preview")
    expect(preview.locator("[data-seat]")).to_have_count(40)
    expect(preview.locator('[data-seat="E2"]')).to_have_attribute("data-status", "blocked")
    expect(preview.locator('[data-seat="D1"]')).to_have_class("seat cat-couple pair-left")
    assert preview.locator('[data-seat="A5"]').evaluate("e => e.style.gridColumn") == "7"

    page.get_by_label("Layout, one row a line, front row first").fill("ssssssss\nccc_sssss\nssss")
    expect(summary).to_contain_text("couple seats (c) come in pairs")
    expect(summary).to_have_attribute("data-valid", "false")
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#room-problem")).to_contain_text("Row B: couple seats (c) come in pairs")


def test_a_customer_is_asked_for_an_admin_token(memory_site: Site, open_page: OpenPage) -> None:
    """A customer's token does not open the admin screen: the page asks for an admin's."""
    page = open_page(memory_site.page("/admin", "ana"))
    expect(page.locator("#admin-guard")).to_contain_text("This screen needs an admin token")
    expect(page.locator("#admin")).to_be_hidden()


def test_the_sessions_table_fits_a_phone(memory_site: Site, open_page: OpenPage) -> None:
    """At 375 px the admin screen does not scroll sideways and nothing of a session's row is
    cut off: its name, start and every figure lie inside the screen, each figure named."""
    session = memory_site.new_session("Um filme de título bem comprido, mesmo comprido demais")
    page = open_page(memory_site.page("/admin", "boss", "admin"), viewport=PHONE)
    row = page.locator(f'tr[data-session="{session}"]')
    expect(row.locator('[data-figure="revenue"]')).to_have_text("R$\u00a00,00")
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == PHONE["width"]
    cut = row.evaluate(
        """row => [row.querySelector('a'), ...row.querySelectorAll('th, td')]
             .filter(e => { const r = e.getBoundingClientRect();
                            return r.left < 0 || r.right > innerWidth
                                   || e.scrollWidth > e.clientWidth; })
             .map(e => e.dataset.figure ?? e.tagName)"""
    )
    assert cut == []
    for figure, name in (("sold", "Sold"), ("held", "Held"), ("available", "Free")):
        cell = row.locator(f'[data-figure="{figure}"]')
        expect(cell).to_be_visible()
        assert cell.evaluate("e => getComputedStyle(e, '::before').content") == f'"{name}"'
