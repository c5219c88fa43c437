"""The coming sessions: listed soonest first, filtered by movie and day (also when the filters
come in the address), each leading to its seat picker; signing in by a link's fragment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.site import Site


def test_coming_sessions_are_listed_filtered_and_lead_to_their_picker(
    memory_site: Site, open_page: OpenPage
) -> None:
    """Two sessions a day apart: both listed soonest first with seats and price, one by its
    movie, one by its day; a card leads to the picker."""
    tag = f"{datetime.now(UTC):%H%M%S%f}"
    in_two_days = datetime.now(UTC).replace(hour=15, minute=0, second=0) + timedelta(days=2)
    later = memory_site.new_session(f"Beta {tag}", starts_at=in_two_days + timedelta(days=1))
    sooner = memory_site.new_session(f"Alfa {tag}", starts_at=in_two_days)
    page = open_page(memory_site.page(f"/?movie={tag}"))
    cards = page.locator(".card")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text(f"Alfa {tag}")
    expect(cards.nth(0)).to_contain_text("24 of 24 seats free")
    expect(cards.nth(0)).to_contain_text("R$\u00a025,00")

    page.get_by_label("Movie").fill(f"beta {tag}")
    page.get_by_role("button", name="Show").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(f"Beta {tag}")
    assert f"movie=beta+{tag}" in page.url

    page.get_by_label("Movie").fill(tag)
    # A day as the browser reads it, in its own time zone.
    day = in_two_days.astimezone(ZoneInfo("America/Sao_Paulo")).strftime("%Y-%m-%d")
    page.get_by_label("Day").fill(day)
    page.get_by_role("button", name="Show").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(f"Alfa {tag}")

    cards.first.get_by_role("link").click()
    expect(page).to_have_url(f"{memory_site.urls[0]}/s/{sooner}")
    expect(page.locator("h1")).to_have_text(f"Alfa {tag}")
    page.go_back()
    expect(cards).to_have_count(1)
    assert later != sooner


def test_sessions_are_filtered_by_cinema_and_priced_from_their_cheapest_seat(
    memory_site: Site, open_page: OpenPage
) -> None:
    tag = f"{datetime.now(UTC):%H%M%S%f}"
    layout = ["ssss_ssss", "pppp_pppp", "ssss_ssss"]
    prices = {"standard": "25.00", "premium": "40.00"}
    for cinema in ("Sul", "Leste"):
        room = memory_site.new_room(layout, cinema=f"{cinema} {tag}")
        memory_site.new_session(f"Filme {tag}", room_id=room, prices=prices)
    page = open_page(memory_site.page(f"/?movie={tag}"))
    cards = page.locator(".card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("from R$\u00a025,00")
    page.get_by_label("Cinema").fill(f"Leste {tag}")
    page.get_by_role("button", name="Show").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(f"Leste {tag}")
    expect(page.locator("#cinemas option")).to_have_count(2)


def test_a_token_in_the_fragment_signs_in_and_leaves_the_address_bar(
    memory_site: Site, open_page: OpenPage
) -> None:
    """The link `cinema serve` prints signs the tab in and is cleaned from the address bar;
    signing out forgets the token."""
    page = open_page(memory_site.page("/", "ana"))
    expect(page.locator("#who")).to_have_text("ana")
    assert page.url == f"{memory_site.urls[0]}/"
    assert page.evaluate("sessionStorage.getItem('cinema.token')").count(".") == 2
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('cinema.token')") is None


def test_an_unknown_session_is_a_page_saying_so(memory_site: Site, open_page: OpenPage) -> None:
    """A picker link naming no session is a page a person can read, not JSON."""
    page = open_page(memory_site.page("/s/00000000-0000-0000-0000-000000000000"))
    expect(page.locator("h1")).to_have_text("No such session")
