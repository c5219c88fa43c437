"""A buyer who lets the box office choose: the "best available" form of the seat picker."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site


def test_best_available_holds_seats_side_by_side_and_the_map_shows_them(
    site: Site, open_page: OpenPage
) -> None:
    """Three seats asked for together come back as one hold of three neighbours in one row,
    drawn as the buyer's on this map and held on another buyer's; then they are paid."""
    session = site.new_session()
    ana = SeatPicker(open_page(site.page(f"/s/{session}", "ana"))).wait_live()
    bia = SeatPicker(open_page(site.page(f"/s/{session}", "bia"))).wait_live()
    form = ana.page.locator("#best")
    expect(form).to_be_visible()
    ana.page.locator("#best-count").fill("3")
    expect(ana.page.locator("#best-together")).to_be_checked()
    form.get_by_role("button", name="Find seats").click()

    expect(ana.page.locator("#hold-panel")).to_be_visible()
    kept = f"JSON.parse(sessionStorage.getItem('cinema.order.{session}'))"
    reservation = site.reservation("ana", ana.page.evaluate(kept)["reservation"])
    seats = reservation["seats"]
    assert len(seats) == 3
    assert len({label[0] for label in seats}) == 1, "one row"
    numbers = sorted(int(label[1:]) for label in seats)
    assert numbers == list(range(numbers[0], numbers[0] + 3)), "side by side"
    ana.expect_held(*seats)
    for label in seats:
        expect(bia.seat(label)).to_have_attribute("data-status", "held")
        assert site.statuses(session)[label] == "held"

    ana.pay()
    for label in seats:
        expect(ana.seat(label)).to_have_attribute("data-status", "sold")
    assert site.reservation("ana", reservation["id"])["status"] == "confirmed"


def test_asking_for_more_seats_than_a_hold_may_have_is_refused_on_the_page(
    site: Site, open_page: OpenPage
) -> None:
    """The form says how many seats it takes before anything is sent; nothing is held."""
    session = site.new_session()
    ana = SeatPicker(open_page(site.page(f"/s/{session}", "ana"))).wait_live()
    count = ana.page.locator("#best-count")
    # The browser's own check of max="10" would stop the form first: lift it, as a script might.
    count.evaluate("input => input.removeAttribute('max')")
    count.fill("11")
    ana.page.locator("#best").get_by_role("button", name="Find seats").click()
    expect(ana.problem).to_have_attribute("data-code", "validation_error")
    expect(ana.problem).to_contain_text("Ask for 1 to 10 seats.")
    expect(ana.page.locator("#hold-panel")).to_be_hidden()
    assert "held" not in site.statuses(session).values()
