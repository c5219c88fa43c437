"""HTTP contract of the borderô, GET /sessions/{id}/statement: who may read it, its figures as
JSON (checked against /openapi.json) and as CSV, and a missing session."""

from __future__ import annotations

import csv
import io

import pytest

from tests.contract.http_app import Api, error_code
from tests.contract.test_http_after_sale import bought, refund, scan, tickets

ZERO = {
    "tickets": 0,
    "gross": "0.00",
    "refunds": 0,
    "refunded": "0.00",
    "net": "0.00",
    "checked_in": 0,
}


def test_a_session_statement_is_for_staff_or_admins(api: Api) -> None:
    """A customer is 403 forbidden, no token 401; staff and admins read it."""
    url = f"/sessions/{api.create_session()['id']}/statement"
    answer = api.get(url, headers=api.auth())
    assert (answer.status_code, error_code(answer)) == (403, "forbidden")
    assert api.get(url).status_code == 401
    for role in ("staff", "admin"):
        assert api.get(url, headers=api.auth("s", role)).status_code == 200


def test_a_session_statement_has_every_figure_of_the_sales(api: Api) -> None:
    """Tickets and money sold, refunded and net, with check-ins, in all and by ticket type,
    seat category and payment method; the session named."""
    sale = bought(api, ["A1", "A2", "A3"], tickets={"half": 1})
    bought(api, ["B1"], user="bob", session_id=sale["session_id"])
    fulls = [line["seat"] for line in sale["lines"] if line["ticket"] == "full"]
    refund(api, sale, json={"seats": [fulls[1]]})
    scan(api, next(t["code"] for t in tickets(api, sale) if t["seat"] == fulls[0]))
    session = api.get(f"/sessions/{sale['session_id']}").json()
    answer = api.get(f"/sessions/{sale['session_id']}/statement", headers=api.auth("s", "staff"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    body.pop("rating", None)  # sessions gain an age rating in another part of this work
    total = {
        "tickets": 4,
        "gross": "87.50",
        "refunds": 1,
        "refunded": "25.00",
        "net": "62.50",
        "checked_in": 1,
    }
    assert body == {
        "session_id": sale["session_id"],
        "movie": "Filme X",
        "room": session["room"],
        "cinema": session["cinema"],
        "starts_at": session["starts_at"],
        "currency": "BRL",
        "total": total,
        "by_ticket": {
            "full": {**total, "tickets": 3, "gross": "75.00", "net": "50.00"},
            "half": {**ZERO, "tickets": 1, "gross": "12.50", "net": "12.50"},
        }
        | {code: ZERO for code in body["by_ticket"] if code not in ("full", "half")},
        "by_category": {"standard": total},
        "by_method": {"instant": total},
        "products": {},
        "discounts": {},
        "takings": {"gross": "87.50", "refunded": "25.00", "net": "62.50"},
    }


def test_a_session_statement_as_csv_has_the_json_figures(api: Api) -> None:
    """Accept: text/csv gives one row for the whole session and one per ticket type, category
    and method, each naming the session; a movie that reads as a formula is defused."""
    session_id = api.create_session(movie="=HYPERLINK(1)")["id"]
    sale = bought(api, ["A1", "A2"], session_id=session_id)
    refund(api, sale, json={"seats": ["A2"]})
    url = f"/sessions/{session_id}/statement"
    as_json = api.get(url, headers=api.admin).json()
    answer = api.get(url, headers={**api.admin, "Accept": "text/csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    parts = [("total", "", as_json["total"])] + [
        (part, key, figures)
        for part in ("ticket", "category", "method")
        for key, figures in as_json[f"by_{part}"].items()
    ]
    rows, last = rows[:-1], rows[-1:]
    assert rows == [
        {
            "session_id": session_id,
            "movie": "'=HYPERLINK(1)",
            "room": as_json["room"],
            "cinema": as_json["cinema"],
            "starts_at": as_json["starts_at"],
            "part": part,
            "key": key,
            **{name: str(value) for name, value in figures.items()},
        }
        for part, key, figures in parts
    ]
    takings = {name: "" for name in last[0] if name not in ("gross", "refunded", "net")}
    assert last[0] == {
        **takings,
        "session_id": session_id,
        "movie": "'=HYPERLINK(1)",
        "room": as_json["room"],
        "cinema": as_json["cinema"],
        "starts_at": as_json["starts_at"],
        "part": "takings",
        **as_json["takings"],
    }
    assert rows[0]["net"] == "25.00"


@pytest.mark.parametrize("session_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_the_statement_of_no_session_is_404(api: Api, session_id: str) -> None:
    """An unknown or malformed session id is 404 session_not_found, never a 500."""
    answer = api.get(f"/sessions/{session_id}/statement", headers=api.admin)
    assert (answer.status_code, error_code(answer)) == (404, "session_not_found")
