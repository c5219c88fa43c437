"""A real room on the picker: categories by colour and by name, aisles where the layout has
gaps, a blocked seat, couple seats chosen and priced as one, ticket types adding up to the
server's own lines, and a ticket type's quota explained when it runs out."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site

# A1–A8 standard, B premium, C: a couple seat, an aisle, a blocked seat (C4), a couple seat;
# D: wheelchair spaces at both ends. 31 seats for sale.
LAYOUT = ["ssss_ssss", "pppp_pppp", "cc_sxss_cc", "wsss_sssw"]
PRICES = {"standard": "25.00", "premium": "40.00", "couple": "30.00", "accessible": "20.00"}
NBSP = "\u00a0"


def brl(amount: str) -> str:
    return f"R${NBSP}{amount}"


def open_room(site: Site, open_page: OpenPage, user: str = "ana") -> tuple[SeatPicker, str]:
    session = site.new_session(room_id=site.new_room(LAYOUT), prices=PRICES)
    return SeatPicker(open_page(site.page(f"/s/{session}", user))).wait_live(), session


def test_the_room_is_drawn_from_its_layout(memory_site: Site, open_page: OpenPage) -> None:
    """Each seat stands in its layout column (aisles left empty), named with its category and
    price; the blocked seat is there but not for sale; the legend gives each category's price."""
    picker, _ = open_room(memory_site, open_page)
    seats = picker.page.locator("[data-seat]")
    expect(seats).to_have_count(32)
    columns = picker.page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#seat-map [data-seat]')]
             .map(e => [e.dataset.seat, e.parentElement.style.gridColumn]))"""
    )
    # Column 1 holds the row letter: layout column n is grid column n + 1.
    assert [columns[label] for label in ("A4", "A5", "C2", "C3", "C4", "C7")] == [
        "5",
        "7",
        "3",
        "5",
        "6",
        "10",
    ]
    expect(picker.seat("B5")).to_have_accessible_name(f"B5, premium, available, {brl('40,00')}")
    expect(picker.seat("D1")).to_have_accessible_name(
        f"D1, wheelchair space, available, {brl('20,00')}"
    )
    expect(picker.seat("C1")).to_have_accessible_name(
        f"C1, couple seat with C2, available, {brl('30,00')}"
    )
    expect(picker.seat("C1")).to_have_class("seat cat-couple pair-left")
    expect(picker.seat("C2")).to_have_class("seat cat-couple pair-right")
    blocked = picker.seat("C4")
    expect(blocked).to_have_attribute("data-status", "blocked")
    expect(blocked).to_have_attribute("aria-disabled", "true")
    expect(blocked).to_have_accessible_name("C4, standard, not for sale")
    blocked.press("Enter")
    expect(picker.info).to_have_text("C4 is not for sale.")
    legend = picker.page.locator("#legend")
    for text in (
        f"standard {brl('25,00')}",
        f"premium {brl('40,00')}",
        f"couple seat {brl('30,00')} each",
        f"wheelchair space {brl('20,00')}",
        "not for sale",
    ):
        expect(legend).to_contain_text(text)


def test_a_couple_seat_is_chosen_whole_and_costs_both_halves(
    memory_site: Site, open_page: OpenPage
) -> None:
    picker, _ = open_room(memory_site, open_page)
    picker.seat("C8").click()
    expect(picker.seat("C7")).to_have_attribute("data-state", "chosen")
    expect(picker.seat("C8")).to_have_attribute("data-state", "chosen")
    expect(picker.info).to_have_text("C7 and C8 form one couple seat: both are chosen.")
    expect(picker.total).to_have_text(brl("60,00"))
    picker.seat("C7").click()
    expect(picker.seat("C8")).to_have_attribute("data-state", "available")
    expect(picker.total).to_have_text(brl("0,00"))


def test_half_price_tickets_add_up_to_the_server_s_lines_and_are_paid(
    site: Site, open_page: OpenPage
) -> None:
    """Two premium seats, one of them half price: R$ 60,00 before the hold, and the hold's own
    lines and amount agree; the payment sells both."""
    picker, session = open_room(site, open_page)
    picker.choose("B4", "B5")
    picker.page.get_by_label("Meia-entrada (50 %)").fill("1")
    expect(picker.page.locator("#ticket-types")).to_contain_text("Inteira: 1")
    expect(picker.total).to_have_text(brl("60,00"))
    expect(picker.page.locator("#chosen-lines")).to_contain_text("premium · Meia-entrada")
    picker.hold()
    picker.expect_held("B4", "B5")
    held = picker.page.locator("#held-lines li")
    expect(held.nth(0)).to_have_text(f"B4premium · Meia-entrada{brl('20,00')}")
    expect(held.nth(1)).to_have_text(f"B5premium · Inteira{brl('40,00')}")
    expect(picker.page.locator("#held-total")).to_have_text(brl("60,00"))
    picker.pay()
    expect(picker.page.locator("#paid")).to_contain_text(f"Paid {brl('60,00')} for B4 and B5.")
    assert (site.statuses(session)["B4"], site.statuses(session)["B5"]) == ("sold", "sold")


def test_an_exhausted_half_price_quota_is_explained(memory_site: Site, open_page: OpenPage) -> None:
    """The session's 40 % half-price quota (12 of 31 seats) taken by others: a half-price hold
    is refused with the number left, nothing is held, and full price goes through."""
    picker, session = open_room(memory_site, open_page)
    memory_site.hold("bia", session, [f"A{n}" for n in range(1, 7)], tickets={"half": 6})
    memory_site.hold("caio", session, [f"D{n}" for n in range(2, 8)], tickets={"half": 6})
    picker.choose("B1")
    picker.page.get_by_label("Meia-entrada (50 %)").fill("1")
    picker.hold()
    expect(picker.problem).to_have_attribute("data-code", "ticket_quota_exhausted")
    expect(picker.problem).to_have_text(
        "Only 0 Meia-entrada tickets are left for this session. Choose fewer Meia-entrada tickets."
    )
    expect(picker.seat("B1")).to_have_attribute("data-state", "chosen")
    assert memory_site.statuses(session)["B1"] == "available"
    picker.page.get_by_label("Meia-entrada (50 %)").fill("0")
    picker.hold()
    picker.expect_held("B1")
