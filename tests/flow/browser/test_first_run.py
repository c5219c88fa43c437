"""A newcomer's first minute: ``cinema serve --demo`` in memory, with no configuration,
prints links that open the seat picker (and the admin screen) already signed in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.picker import SeatPicker
from tests.flow.browser.site import free_port

_BACKENDS = ("CINEMA_DATABASE_URL", "CINEMA_REDIS_URL", "CINEMA_AMQP_URL", "CINEMA_AUTH_SECRET")


@pytest.fixture
def printed() -> Iterator[dict[str, str]]:
    """`cinema serve --demo` running; the links it printed, by name."""
    env = {k: v for k, v in os.environ.items() if k not in _BACKENDS}
    env["CINEMA_LOG_LEVEL"] = "WARNING"
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--demo", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        links: dict[str, str] = {}
        assert process.stdout is not None
        for line in process.stdout:
            found = re.match(r"\s+(seat picker|sessions|admin screen):\s+(\S+)$", line)
            if found:
                links[found[1]] = found[2]
            if "admin screen" in links:
                break
        yield links
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_printed_links_open_the_pages_signed_in(
    printed: dict[str, str], open_page: OpenPage
) -> None:
    """The picker link shows a sample session with seats already sold, signed in as alice,
    ready to hold a seat; the admin link opens the admin screen."""
    assert set(printed) == {"seat picker", "sessions", "admin screen"}
    assert all("#token=" in link for link in printed.values())
    picker = SeatPicker(open_page(printed["seat picker"])).wait_live()
    expect(picker.page.locator("#who")).to_have_text("alice")
    expect(picker.page.locator('[data-status="sold"]')).to_have_count(11)
    picker.choose("A1")
    picker.hold()
    picker.expect_held("A1")

    admin = open_page(printed["admin screen"])
    expect(admin.locator("#who")).to_have_text("admin (admin)")
    expect(admin.locator("#reports tbody tr[data-session]")).to_have_count(3)
