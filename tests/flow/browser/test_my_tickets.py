"""A buyer finds their tickets again on "My tickets" (``/tickets``) and refunds one seat at a
time while refunds are open; a refunded ticket shows no code to scan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.site import Site, token

NBSP = "\u00a0"


@pytest.fixture
def ana() -> str:
    """A buyer of this test's own: the sites serve every test of the run, and "My tickets"
    lists all of its user's purchases."""
    return f"ana-{uuid.uuid4().hex[:8]}"


def purchase(page: Page, sale_id: str) -> Locator:
    return page.locator(f'[data-sale="{sale_id}"]')


def test_a_buyer_refunds_one_seat_of_a_purchase_after_a_confirmation(
    ana: str, site: Site, open_page: OpenPage
) -> None:
    """Ana's purchases are listed newest first with their sessions and QR codes; refunding B2
    asks first (declined: nothing happens), then refunds B2 alone: its ticket reads refunded
    with no QR code and no code, B3 keeps both, and B2 is for sale again."""
    older = site.new_session("Filme Antigo")
    session = site.new_session("Filme Novo")
    first = site.buy(ana, older, ["A1"])
    sale = site.buy(ana, session, ["B2", "B3"])
    site.buy("bia", session, ["C1"])
    page = open_page(site.page("/tickets", ana))
    cards = page.locator("[data-sale]")
    expect(cards).to_have_count(2)
    assert cards.evaluate_all("cards => cards.map(c => c.dataset.sale)") == [
        sale["id"],
        first["id"],
    ]
    card = purchase(page, sale["id"])
    expect(card.get_by_role("heading")).to_have_text("Filme Novo")
    expect(card.get_by_role("link", name="Filme Novo")).to_have_attribute("href", f"/s/{session}")
    expect(card.locator(".sale-status")).to_contain_text(f"Paid R${NBSP}50,00 on ")
    for seat in ("B2", "B3"):
        qr = card.get_by_role("img", name=f"QR code of the ticket for seat {seat}")
        expect(qr).to_be_visible()

    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    card.get_by_role("button", name="Refund seat B2").click()
    expect(card.get_by_role("button", name="Refund seat B2")).to_be_enabled()
    assert asked == ["Refund seat B2 of Filme Novo? It goes back on sale."]
    assert site.statuses(session)["B2"] == "sold"

    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Refund seat B2").click()
    expect(page.locator("#info")).to_have_text(
        f"Refunded R${NBSP}25,00 for seat B2. The seat is for sale again."
    )
    b2, b3 = card.locator('[data-ticket="B2"]'), card.locator('[data-ticket="B3"]')
    expect(b2).to_contain_text("refunded")
    expect(b2.get_by_role("img")).to_have_count(0)
    expect(b2.locator("code")).to_have_count(0)
    expect(b2.get_by_role("button")).to_have_count(0)
    expect(b3.get_by_role("img", name="QR code of the ticket for seat B3")).to_be_visible()
    expect(b3.locator("code")).to_have_count(1)
    expect(b3.get_by_role("button", name="Refund seat B3")).to_be_visible()
    expect(card.locator(".sale-status")).to_contain_text(f"Partly refunded (R${NBSP}25,00 back)")
    statuses = site.statuses(session)
    assert (statuses["B2"], statuses["B3"]) == ("available", "sold")
    with site.api(ana, "customer") as client:
        found = client.get(f"/sales/{sale['id']}").json()
    assert found["refunded_seats"] == ["B2"]


def test_a_refusal_is_said_in_words_and_the_ticket_drawn_as_it_is(
    ana: str, memory_site: Site, open_page: OpenPage
) -> None:
    """A seat checked in at the door after the page was drawn cannot be refunded: the page says
    so and draws the ticket as checked in, with nothing refunded."""
    session = memory_site.new_session()
    sale = memory_site.buy(ana, session, ["A1"])
    page = open_page(memory_site.page("/tickets", ana))
    card = purchase(page, sale["id"])
    refund = card.get_by_role("button", name="Refund seat A1")
    expect(refund).to_be_visible()
    with memory_site.api(ana, "customer") as client:
        code = client.get(f"/sales/{sale['id']}/tickets").json()["items"][0]["code"]
    with memory_site.api("door", "staff") as door:
        assert door.post("/checkins", json={"code": code}).status_code == 201

    page.once("dialog", lambda dialog: dialog.accept())
    refund.click()
    problem = page.locator("#problem")
    expect(problem).to_have_attribute("data-code", "ticket_used")
    expect(problem).to_have_text("A1 was already checked in at the door, so nothing was refunded.")
    expect(card.locator('[data-ticket="A1"]')).to_contain_text("checked in")
    expect(card.get_by_role("button")).to_have_count(0)
    assert memory_site.statuses(session)["A1"] == "sold"


def test_refunds_closed_show_no_refund_button(
    ana: str, memory_site: Site, open_page: OpenPage
) -> None:
    """A session starting within the refund cutoff (60 min) lists its tickets, valid, with
    their QR codes, but offers no refund and says why."""
    soon = memory_site.new_session("Já Vai", starts_at=datetime.now(UTC) + timedelta(minutes=30))
    sale = memory_site.buy(ana, soon, ["A1"])
    page = open_page(memory_site.page("/tickets", ana))
    card = purchase(page, sale["id"])
    expect(card.get_by_role("img", name="QR code of the ticket for seat A1")).to_be_visible()
    expect(card.locator(".sale-status")).to_contain_text("Refunds for this session have closed.")
    expect(card.get_by_role("button")).to_have_count(0)


def test_purchases_come_a_page_at_a_time(memory_site: Site, open_page: OpenPage) -> None:
    """Eleven purchases show ten, then the eleventh after "Show more purchases"."""
    session = memory_site.new_session()
    for seat in [f"{row}{n}" for row in "AB" for n in range(1, 7)][:11]:
        memory_site.buy("caio", session, [seat])
    page = open_page(memory_site.page("/tickets", "caio"))
    cards = page.locator("[data-sale]")
    expect(cards).to_have_count(10)
    page.get_by_role("button", name="Show more purchases").click()
    expect(cards).to_have_count(11)
    expect(page.get_by_role("button", name="Show more purchases")).to_be_hidden()


def test_a_visitor_is_asked_to_sign_in_and_every_page_links_my_tickets(
    memory_site: Site, open_page: OpenPage
) -> None:
    """Without a token the page asks for one; once signed in, it lists that buyer's tickets
    (none yet). The other pages' navigation leads here."""
    page = open_page(memory_site.page("/tickets"))
    expect(page.locator("#problem")).to_have_text(
        "Sign in to see your tickets: paste your token in the form above."
    )
    expect(page.get_by_label("Bearer token")).to_be_focused()
    page.get_by_label("Bearer token").fill(token("nobody-yet"))
    page.get_by_label("Bearer token").press("Enter")
    expect(page.locator("#none")).to_be_visible()
    expect(page.locator("#problem")).to_be_hidden()
    for path in ("/", "/admin"):
        other = open_page(memory_site.page(path))
        other.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
        expect(other).to_have_title("My tickets · Cinema box office")
