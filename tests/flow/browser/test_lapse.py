"""A hold lapsing on screen: the countdown runs out, the page says so, the seats come back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site, start_site

HOLD_SECONDS = 2.0


@pytest.fixture(scope="module")
def quick_site() -> Iterator[Site]:
    """An in-memory box office whose holds last two seconds."""
    with start_site(hold_seconds=HOLD_SECONDS) as site:
        yield site


def test_a_hold_lapses_on_screen_and_its_seats_are_free_again(
    quick_site: Site, open_page: OpenPage
) -> None:
    """The countdown starts at the hold's length and reaches zero; then the page says the hold
    lapsed and nothing was charged, the seats read available (on this page and another), and
    the reservation reads expired."""
    session = quick_site.new_session()
    ana = SeatPicker(open_page(quick_site.page(f"/s/{session}", "ana"))).wait_live()
    bia = SeatPicker(open_page(quick_site.page(f"/s/{session}", "bia"))).wait_live()
    ana.hold_seats("A1", "A2")
    expect(ana.countdown).to_have_text("0:02")
    kept = f"JSON.parse(sessionStorage.getItem('cinema.order.{session}'))"
    reservation_id = ana.page.evaluate(kept)["reservation"]
    expect(bia.seat("A1")).to_have_attribute("data-status", "held")

    expect(ana.problem).to_have_attribute("data-code", "hold_lapsed", timeout=4000)
    expect(ana.problem).to_contain_text(
        "Your hold on A1 and A2 lapsed before payment, so the seats were released"
    )
    expect(ana.page.locator("#hold-panel")).to_be_hidden()
    expect(ana.action("pay")).to_be_hidden()
    for picker in (ana, bia):
        expect(picker.seat("A1")).to_have_attribute("data-status", "available", timeout=3000)
        expect(picker.seat("A2")).to_have_attribute("data-state", "available")
    assert ana.page.evaluate(kept) is None, "the page forgets the lapsed hold"
    assert quick_site.reservation("ana", reservation_id)["status"] == "expired"
