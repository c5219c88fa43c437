"""The picker tells how many meias-entradas are left, live: another buyer's half-price hold
lowers the count on an open page without a reload."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site


def test_another_buyers_half_price_hold_lowers_the_meia_count_without_a_reload(
    site: Site, open_page: OpenPage
) -> None:
    """24 seats: 9 meias-entradas (40 %); a hold of two half tickets elsewhere (through the
    other process, on the real backends) makes it 7, a full-price hold leaves it so."""
    session = site.new_session(rows=4, seats_per_row=6)
    picker = SeatPicker(open_page(site.page(f"/s/{session}", "ana"))).wait_live()
    page = picker.page
    meia = page.locator('#quotas [data-quota="meia"]')
    expect(meia).to_have_text("9 half-price tickets (meia-entrada) left")
    page.evaluate("window.notReloaded = true")

    via = len(site.urls) - 1
    site.hold("bia", session, ["C1", "C2"], via=via, tickets={"half": 2})
    expect(meia).to_have_attribute("data-left", "7", timeout=5000)
    expect(meia).to_have_text("7 half-price tickets (meia-entrada) left")
    site.hold("caio", session, ["D1"], via=via)
    expect(picker.seat("D1")).to_have_attribute("data-status", "held")
    expect(meia).to_have_attribute("data-left", "7")
    assert page.evaluate("window.notReloaded === true")
