"""A buyer on the seat picker: choosing, the price adding up, a refusal explained, paying,
cancelling, a hold kept across a reload, and the sign-in a hold needs."""

from __future__ import annotations

import re

from playwright.sync_api import Route, expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site

NBSP = "\u00a0"


def money(text: str) -> str:
    return text.replace(" ", NBSP)


def test_a_taken_seat_is_refused_with_a_clear_message_then_the_rest_is_paid(
    site: Site, open_page: OpenPage
) -> None:
    """With the live stream cut, the map is drawn once and goes stale; Bia takes A3 meanwhile.
    Ana's hold of A3 + A4 is refused naming A3, which turns held; A4 stays chosen and is held
    and paid alone; its ticket is shown with its code and QR code."""
    session = site.new_session()
    page = open_page("about:blank")

    def cut(route: Route) -> None:
        route.abort()

    page.route("**/seats/stream", cut)
    page.goto(site.page(f"/s/{session}", "ana"))
    ana = SeatPicker(page)
    expect(ana.seat("A3")).to_have_attribute("data-status", "available")
    site.hold("bia", session, ["A3"])

    ana.choose("A3", "A4")
    expect(ana.total).to_have_text(money("R$ 50,00"))
    ana.hold()
    expect(ana.problem).to_have_attribute("data-code", "seats_unavailable")
    expect(ana.problem).to_contain_text("A3 was just taken by someone else, so nothing was held.")
    expect(ana.seat("A3")).to_have_attribute("data-status", "held")
    expect(ana.seat("A4")).to_have_attribute("data-state", "chosen")
    expect(ana.total).to_have_text(money("R$ 25,00"))

    ana.hold()
    ana.expect_held("A4")
    expect(ana.problem).to_be_hidden()
    expect(ana.countdown).to_have_text("0:30")
    expect(page.locator("#held-total")).to_have_text(money("R$ 25,00"))
    ana.pay()
    expect(page.locator("#paid")).to_have_text(
        money("Paid R$ 25,00 for A4. Show these at the door.")
    )
    ticket = page.locator('[data-ticket="A4"]')
    qr = ticket.get_by_role("img", name="QR code of the ticket for seat A4")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    sale_id = page.evaluate(f"JSON.parse(sessionStorage.getItem('cinema.order.{session}')).sale")
    with site.api("ana", "customer") as client:
        issued = client.get(f"/sales/{sale_id}/tickets").json()["items"]
    assert [item["seat"] for item in issued] == ["A4"]
    expect(ticket.locator("code")).to_have_text(issued[0]["code"])
    expect(ana.seat("A4")).to_have_attribute("data-status", "sold")
    assert site.statuses(session)["A4"] == "sold"


def test_a_chosen_seat_someone_else_takes_is_let_go_with_a_notice(
    memory_site: Site, open_page: OpenPage
) -> None:
    """Ana has chosen B2 and B3 but not held them; Bia holds B2: Ana's map shows B2 held,
    drops it from her choice and says so."""
    session = memory_site.new_session()
    ana = SeatPicker(open_page(memory_site.page(f"/s/{session}", "ana"))).wait_live()
    ana.choose("B2", "B3")
    memory_site.hold("bia", session, ["B2"])
    expect(ana.seat("B2")).to_have_attribute("data-status", "held")
    expect(ana.info).to_have_text("B2 was just taken by someone else.")
    expect(ana.seat("B3")).to_have_attribute("data-state", "chosen")
    expect(ana.page.locator("#chosen-lines li")).to_have_count(1)


def test_cancel_frees_the_seats_and_a_taken_seat_cannot_be_chosen(
    memory_site: Site, open_page: OpenPage
) -> None:
    """A cancelled hold frees its seats at once; a held seat says why it cannot be chosen."""
    session = memory_site.new_session()
    memory_site.buy("bia", session, ["C1"])
    ana = SeatPicker(open_page(memory_site.page(f"/s/{session}", "ana"))).wait_live()
    ana.seat("C1").press("Enter")
    expect(ana.info).to_have_text("C1 is sold.")
    expect(ana.seat("C1")).to_have_attribute("aria-disabled", "true")

    ana.choose("C2", "C3")
    ana.hold()
    ana.expect_held("C2", "C3")
    assert memory_site.statuses(session)["C2"] == "held"
    ana.cancel()
    expect(ana.info).to_have_text("Hold cancelled: the seats are free again.")
    expect(ana.seat("C2")).to_have_attribute("data-state", "available")
    statuses = memory_site.statuses(session)
    assert (statuses["C2"], statuses["C3"]) == ("available", "available")


def test_a_hold_needs_a_sign_in_and_survives_a_reload(
    memory_site: Site, open_page: OpenPage
) -> None:
    """Without a token the picker asks for one; pasted in, the hold goes through, and a
    reload finds the hold again with its countdown where it was, not started over."""
    session = memory_site.new_session()
    page = open_page(memory_site.page(f"/s/{session}"))
    ana = SeatPicker(page).wait_live()
    ana.choose("D1")
    ana.hold()
    expect(ana.problem).to_have_attribute("data-code", "unauthorized")
    expect(page.locator("#token-input")).to_be_focused()
    page.locator("#token-input").fill(memory_site.page("", "ana").split("#token=")[1])
    page.locator("#sign-in button[type=submit]").click()
    expect(page.locator("#who")).to_have_text("ana")

    ana.hold()
    ana.expect_held("D1")
    under_29 = re.compile(r"^0:(2[0-8]|1[0-9])$")
    expect(ana.countdown).to_have_text(under_29)
    page.reload()
    ana.wait_live()
    ana.expect_held("D1")
    expect(ana.countdown).to_have_text(under_29, timeout=200)


def test_the_next_order_starts_with_no_ticket_types_counted(
    memory_site: Site, open_page: OpenPage
) -> None:
    """One Meia-entrada counted for a paid order, then for a cancelled one: each time the next
    order's counts start at nought, so its seats are priced full until the buyer says."""
    session = memory_site.new_session()
    ana = SeatPicker(open_page(memory_site.page(f"/s/{session}", "ana"))).wait_live()
    half = ana.page.get_by_label("Meia-entrada (50 %)")
    for finish in ("pay", "cancel"):
        seats = ("A1", "A2") if finish == "pay" else ("B1", "B2")
        ana.choose(*seats)
        half.fill("1")
        expect(ana.total).to_have_text(money("R$ 37,50"))
        ana.hold()
        ana.expect_held(*seats)
        if finish == "pay":
            ana.pay()
            ana.page.get_by_role("button", name="Choose more seats").click()
        else:
            ana.cancel()
            expect(ana.info).to_have_text("Hold cancelled: the seats are free again.")
        expect(half).to_have_value("0")
        ana.choose("C1", "C2")
        expect(ana.total).to_have_text(money("R$ 50,00"))
        for seat in ("C1", "C2"):
            ana.seat(seat).click()
        expect(ana.total).to_have_text(money("R$ 0,00"))
