"""Swagger UI at ``/api-docs`` renders under its Content-Security-Policy: every operation drawn,
the document fetched, and nothing refused by the policy."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.site import Site


def test_swagger_ui_renders_under_its_content_security_policy(
    memory_site: Site, open_page: OpenPage
) -> None:
    """The page draws the API's operations and the policy refuses none of its own assets."""
    refused: list[str] = []
    page = open_page("about:blank")
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    answer = page.goto(memory_site.page("/api-docs"))
    assert answer is not None
    assert "script-src" in answer.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    page.locator(".opblock-summary", has_text="/sessions").first.click()
    expect(page.locator(".try-out__btn").first).to_be_visible()
    assert refused == []
