"""The admin screen links each session to its borderô: the link is in the session's row and
downloads the statement as CSV, fetched with the admin's token."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests import services
from tests.flow.browser.conftest import OpenPage
from tests.flow.browser.site import Site


def test_each_session_row_links_to_its_statement(site: Site, open_page: OpenPage) -> None:
    """The row's "Borderô (CSV)" link downloads the session's statement with its sales."""
    # Sooner than the other tests' sessions, so that it is among the rows the screen watches.
    movie = services.unique("Borderô")
    session = site.new_session(movie, starts_at=datetime.now(UTC) + timedelta(minutes=90))
    site.buy("ana", session, ["A1", "A2"])
    page = open_page(site.page("/admin", "boss", "admin"))
    row = page.locator(f'tr[data-session="{session}"]')
    link = row.get_by_role("link", name="Borderô (CSV)")
    expect(link).to_have_attribute("href", f"/sessions/{session}/statement")
    with page.expect_download() as download:
        link.click()
    saved = Path(download.value.path())
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert download.value.suggested_filename == f"bordero-{session}.csv"
    assert rows[0]["part"] == "total"
    assert (rows[0]["movie"], rows[0]["tickets"], rows[0]["gross"]) == (movie, "2", "50.00")
