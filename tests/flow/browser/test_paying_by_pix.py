"""Paying by Pix on the seat picker (the sandbox provider): the QR code, the copy-paste code and
the charge's countdown; the page turning to the tickets by itself when the bank approves,
played from the admin screen in another browser; a decline said in words with what to do; and
the payment state usable by everyone, at phone width too."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site
from tests.flow.browser.test_accessibility import at_both_widths

# The page's own slow poll is 5 s; the seat stream must turn it well before that.
BY_ITSELF_MS = 3000
# A decline leaves the seats held, so the stream says nothing: the slow poll finds it.
BY_THE_POLL_MS = 12000


def start_paying(
    site: Site, open_page: OpenPage, user: str = "ana", role: str = "customer"
) -> Page:
    """A picker whose buyer held B2 + B3 and pressed Pay: the Pix payment is under way."""
    session = site.new_session()
    page = open_page(site.page(f"/s/{session}", user, role))
    buyer = SeatPicker(page).wait_live()
    buyer.hold_seats("B2", "B3")
    buyer.action("pay").click()
    expect(page.locator("#paying-panel")).to_be_visible()
    return page


def test_a_pix_payment_shows_its_code_and_turns_to_the_tickets_when_the_bank_approves(
    sandbox_site: Site, open_page: OpenPage
) -> None:
    """Pay starts a Pix charge: its QR code drawn, its copy-paste code and a countdown shown.
    The customer cannot play the bank and is sent to the admin screen; an admin approves it
    there, in another browser, and the picker turns to the tickets on its own."""
    page = start_paying(sandbox_site, open_page)
    [payment] = [p for p in sandbox_site.pending_payments() if p["user_id"] == "ana"]
    expect(page.locator("#pix-code")).to_have_value(payment["pix"]["qr_code"])
    qr = page.get_by_role("img", name="Pix QR code of this payment")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    expect(page.locator("#pay-countdown")).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    expect(page.locator("#pix-amount")).to_contain_text("R$")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator('[data-action="copy"]').click()
    expect(page.locator("#info")).to_have_text("Pix code copied: paste it in your bank's app.")

    page.locator('[data-action="approve"]').click()
    refusal = page.locator("#sandbox-admin")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Playing the bank needs an admin")
    expect(refusal.get_by_role("link", name="admin screen")).to_have_attribute("href", "/admin")

    admin = open_page(sandbox_site.page("/admin", "boss", "admin"))
    panel = admin.locator("#sandbox-panel")
    expect(panel).to_be_visible()
    item = panel.locator(f'[data-payment="{payment["id"]}"]')
    expect(item).to_contain_text("from ana")
    # Just after one of the picker's slow polls, so that only the seat stream can turn it in
    # time: the next poll is 5 s away.
    read = f"/payments/{payment['id']}"
    with page.expect_request(lambda r: r.url.endswith(read), timeout=8000):
        pass
    item.locator('[data-sandbox="approve"]').click()
    expect(admin.locator("#sandbox-info")).to_contain_text("Approved: ana's")
    expect(item).to_have_count(0)

    expect(page.locator("#tickets-panel")).to_be_visible(timeout=BY_ITSELF_MS)
    expect(page.locator("#paid")).to_contain_text("for B2 and B3. Show these at the door.")
    expect(page.locator('[data-ticket="B2"]')).to_be_visible()
    expect(page.locator('[data-seat="B2"]')).to_have_attribute("data-status", "sold")


def test_an_admin_on_the_picker_simulates_the_banks_approval(
    sandbox_site: Site, open_page: OpenPage
) -> None:
    """Signed in as an admin, "Simulate the bank's approval" pays and shows the tickets."""
    page = start_paying(sandbox_site, open_page, "boss", "admin")
    page.locator('[data-action="approve"]').click()
    expect(page.locator("#tickets-panel")).to_be_visible()
    expect(page.locator("#sandbox-admin")).to_be_hidden()


def test_a_declined_pix_payment_is_explained_and_the_hold_pays_again(
    sandbox_site: Site, open_page: OpenPage
) -> None:
    """The bank declines (played through the API; the seats stay held, so the page's slow poll
    hears of it): the page says nothing was charged and the seats are still held; Pay again
    starts a new Pix charge."""
    page = start_paying(sandbox_site, open_page, "dani")
    [payment] = [p for p in sandbox_site.pending_payments() if p["user_id"] == "dani"]
    with sandbox_site.api() as admin:
        assert admin.post(f"/sandbox/payments/{payment['id']}/decline").status_code == 200
    problem = page.locator("#problem")
    expect(problem).to_have_attribute("data-code", "payment_declined", timeout=BY_THE_POLL_MS)
    expect(problem).to_have_text(
        "Your bank declined the Pix payment, so nothing was charged. Your seats are still "
        "held: pay again, or cancel."
    )
    expect(page.locator("#hold-panel")).to_be_visible()
    page.locator('[data-action="pay"]').click()
    expect(page.locator("#paying-panel")).to_be_visible()
    [again] = [p for p in sandbox_site.pending_payments() if p["user_id"] == "dani"]
    assert again["id"] != payment["id"]
    expect(page.locator("#pix-code")).to_have_value(again["pix"]["qr_code"])


def test_the_payment_state_has_no_serious_accessibility_violation(
    sandbox_site: Site, open_page: OpenPage, axe_source: str
) -> None:
    """axe-core on the picker while a Pix payment is under way, at desktop and phone width,
    and on the admin screen's sandbox panel."""
    page = start_paying(sandbox_site, open_page, "edu")
    expect(page.get_by_role("img", name="Pix QR code of this payment")).to_be_visible()
    assert at_both_widths(page, axe_source) == {"desktop": [], "phone": []}
    admin = open_page(sandbox_site.page("/admin", "boss", "admin"))
    expect(admin.locator('#sandbox-payments [data-sandbox="approve"]').first).to_be_visible()
    assert at_both_widths(admin, axe_source) == {"desktop": [], "phone": []}
