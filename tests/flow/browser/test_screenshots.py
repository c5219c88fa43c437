"""Pictures of the pages as a buyer and a manager see them: the seat picker (desktop and
phone), the tickets after payment, and the admin screen. ``nox -s screenshots`` writes them to
``docs/screenshots`` (the README shows them); a plain test run writes them to a temporary folder
and checks they were drawn."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from entrypoints.sample_sessions import PRICES, ROOMS
from tests.flow.browser.conftest import DESKTOP, PHONE
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import Site, start_site


@pytest.fixture(scope="module")
def showroom() -> Iterator[tuple[Site, list[str]]]:
    """A fresh box office with tomorrow evening's sessions in the sample rooms, some seats
    sold and some held."""
    prices = {str(category): str(price) for category, price in PRICES.items()}
    with start_site() as site:
        evening = datetime.now(ZoneInfo("America/Sao_Paulo")).replace(
            hour=19, minute=30, second=0, microsecond=0
        ) + timedelta(days=1)
        big, small = (site.new_room(list(ROOMS[name]), name=name) for name in ROOMS)
        sessions = [
            site.new_session("Filme X", room_id=big, prices=prices, starts_at=evening),
            site.new_session(
                "Cidade de Deus",
                room_id=small,
                prices=prices,
                starts_at=evening + timedelta(hours=2, minutes=30),
            ),
        ]
        site.buy("bia", sessions[0], ["C9", "C10", "D6", "D7", "E5", "E6", "E7", "H1", "H2"])
        site.buy("caio", sessions[0], ["F5", "F6", "A1", "A2", "G12", "G13", "G14"])
        site.hold("duda", sessions[0], ["D10", "D11"])
        site.buy("bia", sessions[1], ["B4", "B5", "B6"])
        yield site, sessions


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    wanted = os.environ.get("CINEMA_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def _page(browser: Browser, viewport: dict[str, int], contexts: list[BrowserContext]) -> Page:
    context = browser.new_context(
        viewport=viewport,
        # The README shows the pages as a Brazilian box office does: in Portuguese.
        locale="pt-BR",
        timezone_id="America/Sao_Paulo",
        reduced_motion="reduce",
        device_scale_factor=1,
    )
    contexts.append(context)
    return context.new_page()


def test_screenshots_of_the_picker_and_the_admin_screen(
    showroom: tuple[Site, list[str]],
    browser: Browser,
    contexts: list[BrowserContext],
    folder: Path,
) -> None:
    site, sessions = showroom
    for name, viewport in (("picker-phone", PHONE), ("picker", DESKTOP)):
        page = _page(browser, viewport, contexts)
        page.goto(site.page(f"/s/{sessions[0]}", "ana"))
        picker = SeatPicker(page).wait_live()
        picker.choose("E9", "E10")
        page.get_by_label("Meia-entrada (50 %)").fill("1")
        expect(picker.total).to_contain_text("60,00")
        page.evaluate("document.activeElement.blur()")
        page.mouse.move(0, 0)
        page.screenshot(path=folder / f"{name}.png", full_page=True)

    # The desktop buyer holds and pays: the tickets with their QR codes.
    picker.hold()
    picker.expect_held("E9", "E10")
    picker.pay()
    for seat in ("E9", "E10"):
        expect(
            page.get_by_role("img", name=f"QR code do ingresso do assento {seat}")
        ).to_be_visible()
    page.mouse.move(0, 0)
    page.screenshot(path=folder / "tickets.png")

    page = _page(browser, DESKTOP, contexts)
    page.goto(site.page("/admin", "boss", "admin"))
    expect(page.locator("#reports tbody tr[data-session]")).to_have_count(2)
    page.get_by_label("Nome", exact=True).first.fill("Sala 3")
    page.get_by_label("Filme", exact=True).fill("Bacurau")
    page.get_by_label("Sala", exact=True).select_option(label="Centro · Sala 1 (124 assentos)")
    expect(page.locator("#price-fields input")).to_have_count(4)
    page.evaluate("document.activeElement.blur()")
    page.screenshot(path=folder / "admin.png", full_page=True)

    for name in ("picker", "picker-phone", "tickets", "admin"):
        png = (folder / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(png) > 20_000, name
