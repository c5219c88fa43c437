"""Browser fixtures: Debian's Chromium driven by Playwright, headless, against ``cinema serve``
run as a real process (in memory, or two processes on PostgreSQL + Redis + RabbitMQ).

Chromium (``apt-get install chromium``) and axe-core (``npm ci`` in ``tests/``) are found on
the machine; without them these tests skip saying why, or fail under
``CINEMA_REQUIRE_SERVICES=1``, as CI sets.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests import services
from tests.flow.browser.site import Site, start_site

# Chromium is found on PATH unless CINEMA_TEST_CHROMIUM names it; axe-core where `npm ci` puts it.
CHROMIUM = os.environ.get("CINEMA_TEST_CHROMIUM")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# No sandbox (root in a container), and nothing that would reach beyond this machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}
# ``new_context(viewport=None)`` and ``open_page(url, context=None, viewport=None)``.
NewContext = Callable[..., BrowserContext]
OpenPage = Callable[..., Page]
PHONE = {"width": 375, "height": 740}


def need_file(what: str, path: Path, how: str) -> None:
    """Skip (or, when services are required, fail) unless ``path`` exists."""
    if path.exists():
        return
    reason = f"{what} is not at {path} ({how})"
    if services.services_required():
        pytest.fail(f"{reason}, and CINEMA_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"{reason}; set CINEMA_REQUIRE_SERVICES=1 to make this a failure")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope: Playwright's sync API keeps an event loop on this thread while it lives,
    # which must not outlast the browser tests.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if CHROMIUM is not None:
        need_file("Chromium", Path(CHROMIUM), "CINEMA_TEST_CHROMIUM names it")
        chromium = CHROMIUM
    else:
        chromium = services.program("chromium", "apt-get install chromium")
    launched = playwright.chromium.launch(
        executable_path=chromium, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts made by the test (each one a browser of its own: separate storage);
    closed after it."""
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


@pytest.fixture
def axe_source() -> str:
    need_file("axe-core", AXE, "run npm ci in tests/")
    return AXE.read_text()


@pytest.fixture(scope="package")
def memory_site() -> Iterator[Site]:
    """One in-memory ``cinema serve`` process for the package's tests (30 s holds)."""
    with start_site(processes=1) as site:
        yield site


@pytest.fixture(scope="package")
def sandbox_site() -> Iterator[Site]:
    """One in-memory ``cinema serve`` process taking Pix through the sandbox (its charges live
    in that process, so one process plays the bank)."""
    with start_site(processes=1, payment_provider="sandbox") as site:
        yield site


@pytest.fixture(scope="package")
def services_site(postgres_template: str) -> Iterator[Site]:
    """Two ``cinema serve`` processes on one PostgreSQL, Redis and RabbitMQ."""
    services.need("Redis", services.REDIS_URL, 6379)
    services.need("RabbitMQ", services.AMQP_URL, 5672)
    with (
        services.database("cinema_browser", template=postgres_template) as (_, url),
        start_site(
            processes=2,
            database_url=url,
            redis_url=services.REDIS_URL,
            amqp_url=services.AMQP_URL,
        ) as site,
    ):
        yield site


@pytest.fixture(params=["memory", "services"])
def site(request: pytest.FixtureRequest) -> Site:
    """The box office under test: in memory, then on the real backends with two processes."""
    found: Site = request.getfixturevalue(f"{request.param}_site")
    return found


@pytest.fixture
def new_context(browser: Browser, contexts: list[BrowserContext]) -> NewContext:
    """``new_context(viewport=DESKTOP, locale="en-US", zone="America/Sao_Paulo")``: a fresh
    browser (storage of its own) asking for pages in ``locale`` (its Accept-Language), with its
    clock in ``zone``."""

    def make(
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
        zone: str = "America/Sao_Paulo",
    ) -> BrowserContext:
        context = browser.new_context(viewport=viewport or DESKTOP, locale=locale, timezone_id=zone)
        context.set_default_timeout(5000)
        contexts.append(context)
        return context

    return make


@pytest.fixture
def open_page(new_context: NewContext) -> Iterator[OpenPage]:
    """``open_page(url, context=None, viewport=None)``: a page in a new (or the given) browser.
    After the test, no page may have thrown an uncaught script error."""
    errors: list[str] = []

    def open(
        url: str, context: BrowserContext | None = None, viewport: dict[str, int] | None = None
    ) -> Page:
        page = (context or new_context(viewport)).new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.goto(url)
        return page

    yield open
    assert not errors, errors
