"""The web pages as HTTP: HTML shells whose every asset is served by the app itself (and
shipped in the package), under a policy that allows nothing from elsewhere; an unknown
session's page is a 404 a browser can read, and JSON for any other client."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from tests.contract.http_app import Api, error_code

PAGES = ["/", "/admin", "/tickets", "/door", "/counter", "/s/{session}", "/sales/{sale}/print"]
# These pages are read in English (test_http_languages.py reads them in Portuguese).
HTML = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "en"}
_IMPORT = re.compile(r"""^import\s+(?:[^'"]+\s+from\s+)?['"](\./[a-z_]+\.js)['"];""", re.M)


def _assets(api: Api, html: str) -> set[str]:
    """Every file a page loads: its links and scripts, then the modules those import."""
    found = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    pending = [path for path in found if path.endswith(".js")]
    while pending:
        module = pending.pop()
        answer = api.get(module)
        for relative in _IMPORT.findall(answer.text):
            path = module.rsplit("/", 1)[0] + relative[1:]
            if path not in found:
                found.add(path)
                pending.append(path)
    return found


@pytest.mark.parametrize("page", PAGES)
def test_a_page_is_html_whose_assets_all_come_from_the_app(api: Api, page: str) -> None:
    session = api.create_session()["id"]
    # A staff token: the printed sale is for staff; every other page ignores it.
    staff = api.auth("till", "staff")
    sale = ""
    if "{sale}" in page:
        api.post("/shifts", json={"float": "0.00"}, headers=staff)
        body = {"session_id": session, "seats": ["A1"], "payment_method": "pix"}
        sold = api.post("/counter/sales", json=body, headers=staff)
        assert sold.status_code == 201, sold.text
        sale = sold.json()["id"]
    answer = api.get(page.format(session=session, sale=sale), headers={**HTML, **staff})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    links = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
    assert all(link.startswith(("/", "#")) for link in links), links
    assets = _assets(api, answer.text)
    assert {"/static/app.css", "/static/favicon.svg"} <= assets
    assert len([a for a in assets if a.endswith(".js")]) >= 4
    for asset in assets:
        served = api.get(asset)
        assert served.status_code == 200, asset
        assert served.headers["cache-control"] == "no-cache"
        kind = served.headers["content-type"]
        assert kind.split(";")[0] in {"text/css", "text/javascript", "image/svg+xml"}, kind


def test_the_picker_page_names_its_session(api: Api) -> None:
    session = api.create_session(movie="Filme <X> & Y")
    page = api.get(f"/s/{session['id']}", headers=HTML).text
    assert "<title>Filme &lt;X&gt; &amp; Y · Cinema box office</title>" in page
    assert f'data-session-id="{session["id"]}"' in page


@pytest.mark.parametrize("session", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_an_unknown_session_page_is_a_404_in_the_asker_s_language(api: Api, session: str) -> None:
    browser = api.get(f"/s/{session}", headers=HTML)
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert "No such session" in browser.text
    client = api.get(f"/s/{session}")
    assert client.status_code == 404
    assert error_code(client) == "session_not_found"


def test_a_missing_asset_is_the_api_s_404(api: Api) -> None:
    answer = api.get("/static/js/nope.js")
    assert answer.status_code == 404
    assert error_code(answer) == "not_found"


def test_every_template_and_asset_is_declared_package_data() -> None:
    """An installed wheel serves the pages: each file under templates/ and static/ matches
    the package-data patterns in pyproject.toml."""
    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["entrypoints.http.pages"]
    package = Path(str(resources.files("entrypoints.http.pages")))
    files = [
        path.relative_to(package).as_posix()
        for folder in ("templates", "static")
        for path in (package / folder).rglob("*")
        if path.is_file()
    ]
    assert len(files) > 10
    undeclared = [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert undeclared == []
