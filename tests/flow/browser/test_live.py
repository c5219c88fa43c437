"""Two browsers on one session: what one buyer does shows on the other's map at once, also
when the two are served by different processes (the change crosses RabbitMQ)."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site


def test_a_hold_in_one_browser_greys_the_seat_in_the_other_within_a_second(
    site: Site, open_page: OpenPage
) -> None:
    """Ana holds B3 (through the first process); Bia's map (from the last) shows it held
    within a second, then sold when Ana pays, and a cancelled hold free again."""
    session = site.new_session()
    via = len(site.urls) - 1
    ana = SeatPicker(open_page(site.page(f"/s/{session}", "ana"))).wait_live()
    bia = SeatPicker(open_page(site.page(f"/s/{session}", "bia", via=via))).wait_live()
    expect(bia.seat("B3")).to_have_attribute("data-status", "available")

    ana.choose("B3")
    ana.hold()
    ana.expect_held("B3")
    held = time.monotonic()
    expect(bia.seat("B3")).to_have_attribute("data-status", "held", timeout=1000)
    assert time.monotonic() - held < 1.0
    expect(bia.seat("B3")).to_have_accessible_name("B3, standard, held by someone else")

    ana.pay()
    expect(bia.seat("B3")).to_have_attribute("data-status", "sold", timeout=1000)

    ana.page.locator("#again").click()
    ana.choose("B4")
    ana.hold()
    ana.expect_held("B4")
    expect(bia.seat("B4")).to_have_attribute("data-status", "held", timeout=1000)
    ana.cancel()
    expect(ana.info).to_contain_text("Hold cancelled")
    expect(bia.seat("B4")).to_have_attribute("data-status", "available", timeout=1000)
    assert site.statuses(session)["B4"] == "available"
