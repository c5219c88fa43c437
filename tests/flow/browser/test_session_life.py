"""A session's life on the pages: the admin changes a session and cancels it; its picker then
says "sales closed" instead of offering seats, also to a buyer whose page was already open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Dialog, expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site

CANCELLED = (
    "Sales closed: this session was cancelled, and every ticket bought for it was refunded in full."
)


def test_the_admin_changes_a_session_then_cancels_it_after_a_confirmation(
    site: Site, open_page: OpenPage
) -> None:
    """The admin renames a session and moves it an hour later (the API and the picker read the
    change); the cancellation asks first (declined: nothing happens), then cancels: the sale is
    refunded and the session's picker shows "sales closed" with no seat to hold."""
    start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    session = site.new_session("Filme Velho", starts_at=start)
    sale = site.buy("ana", session, ["A1"])
    page = open_page(site.page("/admin", "boss", "admin"))
    # The change panel's own session list (the waiting room's panel has one too).
    chosen = page.get_by_role("region", name="Change or cancel a session").get_by_label("Session")
    chosen.select_option(session)
    expect(page.get_by_label("New movie")).to_have_value("Filme Velho")
    page.get_by_label("New movie").fill("Filme Novo")
    later = start + timedelta(hours=1)
    page.get_by_label("New start").fill(
        page.evaluate(
            "iso => { const d = new Date(iso), p = n => String(n).padStart(2, '0');"
            " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}"
            "T${p(d.getHours())}:${p(d.getMinutes())}`; }",
            later.isoformat(),
        )
    )
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#change-info")).to_contain_text("Filme Novo on ")
    with site.api() as admin:
        changed = admin.get(f"/sessions/{session}").json()
    assert changed["movie"] == "Filme Novo"
    assert changed["starts_at"] == later.isoformat().replace("+00:00", "Z")
    # The panel offers every session still to run (the table watches the next few only, and
    # this site serves the whole run's sessions).
    option = chosen.locator(f'option[value="{session}"]')
    expect(option).to_contain_text("Filme Novo")
    buyer = open_page(site.page(f"/s/{session}", "bia"))
    expect(buyer.locator("#movie")).to_have_text("Filme Novo")

    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.get_by_role("button", name="Cancel this session").click()
    expect(page.get_by_role("button", name="Cancel this session")).to_be_enabled()
    assert len(asked) == 1
    assert asked[0].startswith("Cancel Filme Novo on ")
    with site.api() as admin:
        assert admin.get(f"/sessions/{session}").json()["status"] == "on_sale"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel this session").click()
    expect(page.locator("#change-info")).to_contain_text("is cancelled: its holds were released")
    expect(option).to_have_count(0)
    with site.api("ana", "customer") as client:
        assert client.get(f"/sales/{sale['id']}").json()["status"] == "refunded"

    closed = SeatPicker(open_page(site.page(f"/s/{session}", "bia")))
    expect(closed.page.locator("#closed")).to_have_text(CANCELLED, use_inner_text=True)
    expect(closed.page.locator("#order-title")).to_have_text("Sales closed")
    expect(closed.action("hold")).to_be_hidden()
    expect(closed.action("best")).to_be_hidden()


def test_an_open_picker_says_sales_closed_when_its_session_is_cancelled_meanwhile(
    memory_site: Site, open_page: OpenPage
) -> None:
    """Ana's picker was open when the admin cancelled: her hold is refused in words, nothing is
    held, and the page turns to "sales closed"."""
    session = memory_site.new_session()
    ana = SeatPicker(open_page(memory_site.page(f"/s/{session}", "ana"))).wait_live()
    ana.choose("B2")
    with memory_site.api() as admin:
        assert admin.delete(f"/sessions/{session}").status_code == 200
    ana.hold()
    expect(ana.problem).to_have_attribute("data-code", "session_cancelled")
    expect(ana.problem).to_have_text("This session was cancelled, so nothing was held or paid.")
    expect(ana.page.locator("#closed")).to_have_text(CANCELLED, use_inner_text=True)
    expect(ana.action("hold")).to_be_hidden()
    ana.seat("B3").click()
    expect(ana.seat("B3")).to_have_attribute("data-state", "available")
    assert memory_site.statuses(session)["B2"] == "available"
