"""The waiting room on screen: the admin turns it on and watches the queue; a buyer behind
others sees their place, the estimate and a progress bar, and the picker opens by itself when
admitted, reserving with the admission. In English and in Portuguese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests import services
from tests.flow.browser.conftest import NewContext, OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site


def _room(site: Site, session: str, per_minute: int) -> None:
    with site.api() as admin:
        answer = admin.put(
            f"/sessions/{session}/waiting-room",
            json={"enabled": True, "admit_per_minute": per_minute, "max_active": 100},
        )
    assert answer.status_code == 200, answer.text


def test_a_buyer_waits_in_the_queue_then_the_picker_opens_by_itself(
    site: Site, open_page: OpenPage
) -> None:
    """At twenty a minute, behind two others (the first in at once, the next three seconds
    later), the buyer sees a place and a bar, then is let in and holds seats with the
    admission."""
    session = site.new_session()
    _room(site, session, 20)
    for ahead in ("first", "second"):
        with site.api(services.unique(ahead), "customer") as buyer:
            assert buyer.post(f"/sessions/{session}/queue").status_code == 201
    ana = services.unique("ana")
    page = open_page(site.page(f"/s/{session}", ana))
    panel = page.locator("#queue-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#queue-place")).to_contain_text("in the queue: about")
    expect(page.locator("#queue-progress")).to_be_visible()
    expect(panel).to_be_hidden(timeout=20000)
    picker = SeatPicker(page).wait_live()
    picker.hold_seats("A1")
    picker.expect_held("A1")


def test_the_admin_turns_a_room_on_and_sees_the_queue_in_portuguese(
    site: Site, new_context: NewContext, open_page: OpenPage
) -> None:
    """Saved from the admin screen, the room's line counts who waits, live, in Portuguese."""
    starts = datetime.now(UTC) + timedelta(hours=2)
    session = site.new_session(movie=services.unique("Fila"), starts_at=starts)
    page = open_page(site.page("/admin", "boss", "admin"), new_context(locale="pt-BR"))
    choose = page.locator("#w-session")
    expect(choose.locator(f'option[value="{session}"]')).to_have_count(1, timeout=8000)
    choose.select_option(session)
    page.locator("#w-rate").fill("1")
    page.get_by_role("button", name="Salvar sala de espera").click()
    expect(page.locator("#waiting-info")).to_have_text("Sala de espera salva.")
    for user in ("a", "b", "c"):
        with site.api(services.unique(user), "customer") as buyer:
            buyer.post(f"/sessions/{session}/queue")
    expect(page.locator("#waiting-now")).to_contain_text(
        "2 na fila · 1 dentro · 1 admitidos", timeout=8000
    )
