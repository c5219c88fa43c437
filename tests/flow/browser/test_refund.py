"""A buyer who changes their mind: refunding the tickets from the picker."""

from __future__ import annotations

from playwright.sync_api import Dialog, expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site

NBSP = "\u00a0"


def test_paid_tickets_are_refunded_after_a_confirmation_and_the_seats_are_for_sale_again(
    site: Site, open_page: OpenPage
) -> None:
    """The refund asks first (declined: nothing happens); accepted, the page says what was
    refunded, the tickets read refunded, the seats are available on this map and another
    buyer's, and the sale says so."""
    session = site.new_session()
    ana = SeatPicker(open_page(site.page(f"/s/{session}", "ana"))).wait_live()
    bia = SeatPicker(open_page(site.page(f"/s/{session}", "bia"))).wait_live()
    ana.hold_seats("B2", "B3")
    ana.pay()
    refund = ana.action("refund")
    expect(refund).to_be_visible()

    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    ana.page.once("dialog", decline)
    refund.click()
    expect(ana.seat("B2")).to_have_attribute("data-status", "sold")
    assert asked == ["Refund B2 and B3? The seats go back on sale."]
    assert site.statuses(session)["B2"] == "sold"

    ana.page.once("dialog", lambda dialog: dialog.accept())
    refund.click()
    expect(ana.page.locator("#paid")).to_have_text(
        f"Refunded R${NBSP}50,00 for B2 and B3. The seats are for sale again."
    )
    expect(refund).to_be_hidden()
    expect(ana.page.locator('[data-ticket="B2"]')).to_contain_text("refunded")
    for picker in (ana, bia):
        for label in ("B2", "B3"):
            expect(picker.seat(label)).to_have_attribute("data-status", "available")
    sale_id = ana.page.evaluate(
        f"JSON.parse(sessionStorage.getItem('cinema.order.{session}')).sale"
    )
    with site.api("ana", "customer") as client:
        sale = client.get(f"/sales/{sale_id}").json()
    assert sorted(sale["refunded_seats"]) == ["B2", "B3"]
