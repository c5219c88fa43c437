"""Usable by everyone: axe-core finds no serious or critical violation on any page, at desktop
and phone width; the seat map works from the keyboard with names a screen reader reads whole;
a seat's state shows by a mark or pattern, not by colour alone; a phone shows the page without
sideways scrolling; and no page fetches anything from outside the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests import services
from tests.flow.browser.conftest import DESKTOP, PHONE, OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site

SERIOUS = {"serious", "critical"}


def violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    # Evaluated through the driver, not as a page script: the pages' CSP forbids inline ones.
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(f"{axe_source}\n;true")
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:160] for n in v["nodes"][:5]],
        }
        for v in found
        if v["impact"] in SERIOUS
    ]


def busy_picker(site: Site, open_page: OpenPage, viewport: dict[str, int]) -> SeatPicker:
    """A picker with seats sold, held by someone else, and chosen."""
    session = site.new_session(rows=5, seats_per_row=8)
    site.buy("bia", session, ["C4", "C5"])
    site.hold("caio", session, ["B2"])
    picker = SeatPicker(open_page(site.page(f"/s/{session}", "ana"), viewport=viewport))
    picker.wait_live()
    picker.choose("D4", "D5")
    return picker


def at_both_widths(page: Page, axe_source: str) -> dict[str, list[dict[str, Any]]]:
    """axe-core's findings at desktop width, then at phone width (the page laid out again)."""
    found = {}
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        found[name] = violations(page, axe_source)
    page.set_viewport_size(DESKTOP)
    return found


def test_no_page_has_a_serious_accessibility_violation(
    memory_site: Site, open_page: OpenPage, axe_source: str
) -> None:
    """axe-core, at desktop and phone width, on the sessions list, the picker while choosing,
    holding and paid (its tickets shown), the admin screen, a buyer's tickets, the
    missing-session page, the counter selling and a sale it printed."""
    memory_site.new_session("Filme para todos")
    soon = memory_site.new_session(starts_at=datetime.now(UTC) + timedelta(hours=2))
    found: dict[str, dict[str, list[dict[str, Any]]]] = {}

    home = open_page(memory_site.page("/"))
    expect(home.locator(".card").first).to_be_visible()
    found["home"] = at_both_widths(home, axe_source)

    picker = busy_picker(memory_site, open_page, DESKTOP)
    found["picker, choosing"] = at_both_widths(picker.page, axe_source)
    picker.hold()
    picker.expect_held("D4", "D5")
    found["picker, holding"] = at_both_widths(picker.page, axe_source)
    picker.pay()
    expect(picker.page.get_by_role("img", name="QR code of the ticket for seat D5")).to_be_visible()
    found["picker, paid"] = at_both_widths(picker.page, axe_source)

    admin = open_page(memory_site.page("/admin", "boss", "admin"))
    expect(admin.locator("#reports tbody tr").first).to_be_visible()
    found["admin"] = at_both_widths(admin, axe_source)

    sale = memory_site.buy("ana", memory_site.new_session(), ["A1", "A2"])
    with memory_site.api("ana", "customer") as client:
        client.post(f"/sales/{sale['id']}/refunds", json={"seats": ["A2"]}).raise_for_status()
    mine = open_page(memory_site.page("/tickets", "ana"))
    expect(mine.get_by_role("img", name="QR code of the ticket for seat A1")).to_be_visible()
    found["my tickets"] = at_both_widths(mine, axe_source)

    missing = open_page(memory_site.page("/s/nope"))
    found["missing"] = at_both_widths(missing, axe_source)

    counter = open_page(memory_site.page("/counter", services.unique("till"), "staff"))
    counter.locator("[data-action=open-shift]").click()
    counter.locator("#counter-session").select_option(soon)
    counter.locator('[data-seat="A1"]').click()
    counter.locator("#tendered").fill("30")
    found["counter"] = at_both_widths(counter, axe_source)
    counter.locator("[data-action=sell]").click()
    with counter.expect_popup() as printed:
        counter.locator("[data-action=print]").click()
    expect(printed.value.locator(".printed-ticket")).to_have_count(1)
    found["printout"] = at_both_widths(printed.value, axe_source)
    clean = {"desktop": [], "phone": []}
    assert found == dict.fromkeys(found, clean)

    # The checker is live: a seat stripped of its name is reported.
    picker.page.evaluate("document.querySelector('[data-seat] > span').remove()")
    assert "button-name" in {v["id"] for v in violations(picker.page, axe_source)}


def test_the_seat_map_is_driven_by_the_keyboard(memory_site: Site, open_page: OpenPage) -> None:
    """One seat is in the tab order; arrows move between seats (skipping taken ones only in
    what they say), Enter chooses, and each seat's name reads whole."""
    session = memory_site.new_session(rows=3, seats_per_row=6)
    memory_site.buy("bia", session, ["B2"])
    picker = SeatPicker(open_page(memory_site.page(f"/s/{session}", "ana"))).wait_live()
    page = picker.page
    assert page.locator('[data-seat][tabindex="0"]').count() == 1
    page.locator("[data-action=hold]").focus()
    page.locator('[data-seat="A1"]').focus()
    a1 = picker.seat("A1")
    expect(a1).to_have_accessible_name("A1, standard, available, R$\u00a025,00")

    page.keyboard.press("ArrowRight")
    expect(picker.seat("A2")).to_be_focused()
    page.keyboard.press("ArrowDown")
    b2 = picker.seat("B2")
    expect(b2).to_be_focused()
    expect(b2).to_have_accessible_name("B2, standard, sold")
    page.keyboard.press("Enter")
    expect(picker.info).to_have_text("B2 is sold.")
    page.keyboard.press("End")
    expect(picker.seat("B6")).to_be_focused()
    page.keyboard.press(" ")
    expect(picker.seat("B6")).to_have_attribute("aria-pressed", "true")
    expect(picker.seat("B6")).to_have_accessible_name("B6, standard, chosen, R$\u00a025,00")
    page.keyboard.press("Control+Home")
    expect(a1).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(a1).to_be_focused()
    assert page.locator('[data-seat][tabindex="0"]').count() == 1
    expect(page.locator('[role="grid"] [role="row"]')).to_have_count(3)
    expect(page.locator('[role="row"]').first.locator('[role="rowheader"]')).to_have_text("A")


def test_a_seat_state_shows_by_more_than_colour(memory_site: Site, open_page: OpenPage) -> None:
    """Chosen and held-for-you seats carry a check mark, held seats a stripe pattern, sold
    seats a cross, so each reads without telling colours apart."""
    picker = busy_picker(memory_site, open_page, DESKTOP)
    marks = picker.page.evaluate(
        """labels => Object.fromEntries(labels.map(l => {
             const e = document.querySelector(`[data-seat="${l}"]`);
             return [l, {mark: getComputedStyle(e, '::before').content,
                         pattern: getComputedStyle(e).backgroundImage}];
           }))""",
        ["A1", "D4", "B2", "C4"],
    )
    assert marks["A1"] == {"mark": "none", "pattern": "none"}
    assert marks["D4"]["mark"].startswith('"✓"')
    assert "repeating-linear-gradient" in marks["B2"]["pattern"]
    assert marks["C4"]["pattern"].count("linear-gradient") == 2


def test_a_phone_shows_the_picker_without_sideways_scrolling(
    memory_site: Site, open_page: OpenPage
) -> None:
    """At 375 px the page does not scroll sideways; a wide room scrolls inside its own box;
    seats stay at least 24 px (a finger's target) and the hold button is reachable."""
    session = memory_site.new_session(rows=6, seats_per_row=20)
    page = open_page(memory_site.page(f"/s/{session}", "ana"), viewport=PHONE)
    picker = SeatPicker(page).wait_live()
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == PHONE["width"]
    box = picker.seat("A1").bounding_box()
    assert box is not None
    assert box["width"] >= 24
    assert box["height"] >= 24
    picker.seat("F20").scroll_into_view_if_needed()
    picker.choose("F20")
    picker.hold()
    picker.expect_held("F20")


def test_no_page_fetches_anything_from_outside_the_app(
    memory_site: Site, open_page: OpenPage
) -> None:
    """Every request the pages make, until they are drawn, goes to the app itself."""
    session = memory_site.new_session()
    base = memory_site.urls[0]
    pages = [
        (memory_site.page("/"), ".card"),
        (memory_site.page(f"/s/{session}", "ana"), '#live[data-live="on"]'),
        (memory_site.page("/admin", "boss", "admin"), "#reports tbody tr[data-session]"),
    ]
    for url, drawn in pages:
        page = open_page("about:blank")
        fetched: list[str] = []
        page.on("request", lambda request, into=fetched: into.append(request.url))
        page.goto(url)
        expect(page.locator(drawn).first).to_be_visible()
        outside = [found for found in fetched if not found.startswith(base)]
        assert len(fetched) > 5
        assert outside == [], url
