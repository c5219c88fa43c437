"""HTTP contract after the sale: reading and refunding sales, tickets and QR codes, the door,
reports as JSON and CSV, and the staff role (every JSON answer checked against /openapi.json)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
import segno

from cinema_core.kernel.times import parse_iso
from tests.contract.http_app import STARTS_AT, Api, error_code


def bought(api: Api, seats: list[str], user: str = "alice", **body: Any) -> dict[str, Any]:
    """A session (unless ``session_id`` is given) and a paid sale of ``seats`` in it."""
    session_id = body.pop("session_id", None) or api.create_session()["id"]
    held = api.post(
        "/reservations",
        json={"session_id": session_id, "seats": seats, **body},
        headers=api.auth(user),
    )
    assert held.status_code == 201, held.text
    paid = api.pay(held.json()["id"], user)
    assert paid.status_code == 201, paid.text
    return dict(paid.json())


def refund(
    api: Api, sale: dict[str, Any], user: str = "alice", role: str = "customer", **kw: Any
) -> Any:
    return api.post(f"/sales/{sale['id']}/refunds", headers=api.auth(user, role), **kw)


def tickets(api: Api, sale: dict[str, Any], user: str = "alice") -> list[dict[str, Any]]:
    answer = api.get(f"/sales/{sale['id']}/tickets", headers=api.auth(user))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def scan(api: Api, code: str, role: str = "staff", **body: Any) -> Any:
    return api.post("/checkins", json={"code": code, **body}, headers=api.auth("door-1", role))


# -- sales and refunds ---------------------------------------------------------------------


def test_every_view_of_a_sale_says_its_refund_status(api: Api) -> None:
    """Payment answer, GET /sales/{id} and purchases show status, refunded seats and amount."""
    sale = bought(api, ["A1", "A2"])
    assert (sale["status"], sale["refunded_seats"], sale["refunded_amount"]) == (
        "paid",
        [],
        "0.00",
    )
    answer = refund(api, sale, json={"seats": ["A2"]})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert {k: made[k] for k in ("sale_id", "session_id", "user_id", "seats", "amount")} == {
        "sale_id": sale["id"],
        "session_id": sale["session_id"],
        "user_id": "alice",
        "seats": ["A2"],
        "amount": "25.00",
    }
    assert made["currency"] == "BRL"
    assert parse_iso(made["refunded_at"])
    read = api.get(f"/sales/{sale['id']}", headers=api.auth()).json()
    assert (read["status"], read["refunded_seats"], read["refunded_amount"]) == (
        "partially_refunded",
        ["A2"],
        "25.00",
    )
    assert read["amount"] == "50.00"
    listed = api.get("/users/alice/purchases", headers=api.auth()).json()["items"]
    assert listed == [read]
    assert refund(api, sale).json()["seats"] == ["A1"]
    assert api.get(f"/sales/{sale['id']}", headers=api.auth()).json()["status"] == "refunded"


def test_a_refunded_seat_is_for_sale_again_at_once(api: Api) -> None:
    """The seat map shows it available and another buyer pays for it."""
    sale = bought(api, ["B1", "B2"])
    refund(api, sale, json={"seats": ["B1"]})
    seats = {
        s["label"]: s["status"]
        for s in api.get(f"/sessions/{sale['session_id']}/seats").json()["seats"]
    }
    assert (seats["B1"], seats["B2"]) == ("available", "sold")
    assert api.get(f"/sessions/{sale['session_id']}").json()["available"] == 15
    again = bought(api, ["B1"], user="bob", session_id=sale["session_id"])
    assert again["seats"] == ["B1"]


def test_refund_errors_change_nothing(api: Api) -> None:
    """unknown_seat (422), already_refunded and ticket_used (409) name the seats; nothing is
    refunded by a refused request."""
    sale = bought(api, ["A1", "A2", "A3"])
    answer = refund(api, sale, json={"seats": ["A1", "D4"]})
    assert (answer.status_code, error_code(answer)) == (422, "unknown_seat")
    assert answer.json()["error"]["details"]["seats"] == ["D4"]
    refund(api, sale, json={"seats": ["A1"]})
    answer = refund(api, sale, json={"seats": ["A1", "A2"]})
    assert (answer.status_code, error_code(answer)) == (409, "already_refunded")
    assert answer.json()["error"]["details"]["seats"] == ["A1"]
    scan(api, tickets(api, sale)[2]["code"])
    answer = refund(api, sale)
    assert (answer.status_code, error_code(answer)) == (409, "ticket_used")
    assert answer.json()["error"]["details"]["seats"] == ["A3"]
    read = api.get(f"/sales/{sale['id']}", headers=api.auth()).json()
    assert read["refunded_seats"] == ["A1"]
    for bad in ({"seats": []}, {"seats": "A1"}, {"seats": ["A2", "A2"]}, {"seats": [1]}):
        answer = refund(api, sale, json=bad)
        assert (answer.status_code, error_code(answer)) == (422, "validation_error"), bad
    answer = api.post(
        f"/sales/{sale['id']}/refunds",
        content=b"{not json",
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    assert (answer.status_code, error_code(answer)) == (400, "malformed_json")
    assert refund(api, sale, content=b"").status_code == 409  # no body: the rest, A3 used


def test_only_the_buyer_or_an_admin_sees_or_refunds_a_sale(api: Api) -> None:
    """Another user's sale is 404 sale_not_found, for reading, tickets and refunds alike."""
    sale = bought(api, ["A1"])
    for answer in (
        api.get(f"/sales/{sale['id']}", headers=api.auth("bob")),
        api.get(f"/sales/{sale['id']}/tickets", headers=api.auth("bob")),
        refund(api, sale, user="bob"),
        api.get("/sales/not-a-uuid", headers=api.auth()),
        api.get("/sales/00000000-0000-0000-0000-000000000000", headers=api.auth()),
    ):
        assert (answer.status_code, error_code(answer)) == (404, "sale_not_found")
    assert api.get(f"/sales/{sale['id']}", headers=api.admin).status_code == 200
    assert api.get(f"/sales/{sale['id']}").status_code == 401


def test_the_buyer_may_refund_until_the_cutoff_and_an_admin_until_the_end(api: Api) -> None:
    """60 minutes before starts_at the buyer is refused refund_window_closed; an admin may
    refund until the session ends."""
    sale = bought(api, ["A1", "A2"])
    starts = parse_iso(STARTS_AT)
    api.clock.set(starts - timedelta(minutes=60))
    answer = refund(api, sale, json={"seats": ["A1"]})
    assert (answer.status_code, error_code(answer)) == (409, "refund_window_closed")
    assert parse_iso(answer.json()["error"]["details"]["closed_at"]) == api.clock.now()
    api.clock.set(starts + timedelta(minutes=119))
    assert refund(api, sale, "root", "admin", json={"seats": ["A1"]}).status_code == 201
    api.clock.set(starts + timedelta(minutes=120))
    answer = refund(api, sale, "root", "admin")
    assert (answer.status_code, error_code(answer)) == (409, "refund_window_closed")


def test_the_cutoff_is_read_from_the_settings(open_http_api: Any) -> None:
    """CINEMA_REFUND_CUTOFF_MINUTES=10 lets the buyer refund 11 minutes before the start."""
    api = open_http_api(refund_cutoff_minutes=10)
    sale = bought(api, ["A1"])
    api.clock.set(parse_iso(STARTS_AT) - timedelta(minutes=11))
    assert refund(api, sale).status_code == 201


def test_a_refund_honours_idempotency_key(api: Api) -> None:
    """The same key and body replay the first answer; another body with it is 422."""
    sale = bought(api, ["A1", "A2"])
    key = {"Idempotency-Key": "refund-1", **api.auth()}
    first = api.post(f"/sales/{sale['id']}/refunds", json={"seats": ["A1"]}, headers=key)
    again = api.post(f"/sales/{sale['id']}/refunds", json={"seats": ["a1"]}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    other = api.post(f"/sales/{sale['id']}/refunds", json={"seats": ["A2"]}, headers=key)
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")
    assert api.get(f"/sales/{sale['id']}", headers=api.auth()).json()["refunded_seats"] == ["A1"]


def test_a_refund_reaches_the_audit_trail(api: Api) -> None:
    """sale.refunded and seat.released (reason refunded, with sale_id) are recorded."""
    sale = bought(api, ["A1"])
    made = refund(api, sale).json()
    api.services.relay.run_once()
    trail = api.get("/admin/events?limit=3", headers=api.admin).json()["items"]
    by_type = {event["type"]: event["data"] for event in trail}
    assert by_type["sale.refunded"]["refund_id"] == made["id"]
    assert by_type["sale.refunded"]["amount"] == "25.00"
    assert by_type["seat.released"] == {
        "session_id": sale["session_id"],
        "seats": ["A1"],
        "reservation_id": sale["reservation_id"],
        "reason": "refunded",
        "sale_id": sale["id"],
    }
    only = api.get("/admin/events?type=sale.refunded", headers=api.admin).json()["items"]
    assert [event["type"] for event in only] == ["sale.refunded"]


# -- tickets, QR codes and the door ----------------------------------------------------------


def test_a_sale_has_one_ticket_per_seat_with_a_qr_code(api: Api) -> None:
    """Tickets carry seat, type, code and status; the SVG is a QR code of the code."""
    sale = bought(api, ["A2", "A1"], tickets={"half": 1})
    found = tickets(api, sale)
    assert [(t["seat"], t["ticket"], t["status"]) for t in found] == [
        ("A1", "half", "valid"),
        ("A2", "full", "valid"),
    ]
    assert all(t["checked_in_at"] is None and len(t["code"]) <= 200 for t in found)
    qr = api.get(f"/tickets/{found[0]['id']}/qr.svg", headers=api.auth())
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert "no-store" in qr.headers["cache-control"]
    assert qr_modules(qr.text) == expected_modules(found[0]["code"])
    other = api.get(f"/tickets/{found[0]['id']}/qr.svg", headers=api.auth("bob"))
    assert (other.status_code, error_code(other)) == (404, "ticket_not_found")
    assert api.get("/tickets/nope/qr.svg", headers=api.auth()).status_code == 404


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules drawn by a segno SVG path (``M x y`` moves, ``h`` runs, ``m`` moves)."""
    root = ET.fromstring(svg)
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, a, b in re.findall(r"([MmHhVv])(-?[0-9.]+)(?:[ ,](-?[0-9.]+))?", path.get("d", "")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        elif op == "h":
            dark |= {(int(x) + i, int(y)) for i in range(int(float(a)))}
            x += float(a)
    return dark


def expected_modules(code: str) -> set[tuple[int, int]]:
    """The dark modules of ``code``'s QR symbol as segno encodes it, border of 4."""
    matrix = segno.make(code, error="m", micro=False).matrix
    return {(x + 4, y + 4) for y, row in enumerate(matrix) for x, bit in enumerate(row) if bit}


def test_a_ticket_checks_in_once_and_then_is_used(api: Api) -> None:
    """201 with ticket, session, seat, type and instant; again 409 already_checked_in with it."""
    sale = bought(api, ["C3"])
    ticket = tickets(api, sale)[0]
    first = scan(api, ticket["code"], session_id=sale["session_id"])
    assert first.status_code == 201, first.text
    assert first.json() == {
        "ticket_id": ticket["id"],
        "session_id": sale["session_id"],
        "seat": "C3",
        "ticket": "full",
        "checked_in_at": first.json()["checked_in_at"],
        "checks": {"document": None, "age": None},
    }
    again = scan(api, ticket["code"], role="admin")
    assert (again.status_code, error_code(again)) == (409, "already_checked_in")
    assert (
        again.json()["error"]["details"]["checked_in_at"][:19] == first.json()["checked_in_at"][:19]
    )
    assert tickets(api, sale)[0]["status"] == "used"


def test_the_door_refuses_refunded_foreign_and_forged_tickets(api: Api) -> None:
    """ticket_refunded, wrong_session (naming the ticket's), ticket_not_found; bad bodies 422."""
    sale = bought(api, ["A1", "A2"])
    other = api.create_session(starts_at="2026-12-02T19:00:00Z")
    a1, a2 = tickets(api, sale)
    refund(api, sale, json={"seats": ["A1"]})
    answer = scan(api, a1["code"])
    assert (answer.status_code, error_code(answer)) == (409, "ticket_refunded")
    answer = scan(api, a2["code"], session_id=other["id"])
    assert (answer.status_code, error_code(answer)) == (409, "wrong_session")
    assert answer.json()["error"]["details"]["session_id"] == sale["session_id"]
    for forged in (a2["code"][:-1] + ("A" if a2["code"][-1] != "A" else "B"), "x"):
        answer = scan(api, forged)
        assert (answer.status_code, error_code(answer)) == (404, "ticket_not_found")
    for bad in ({"code": ""}, {"code": "x" * 201}, {"code": 7}, {"code": "x", "session_id": "1"}):
        answer = api.post("/checkins", json=bad, headers=api.auth("door", "staff"))
        assert (answer.status_code, error_code(answer)) == (422, "validation_error"), bad
    assert scan(api, a2["code"], session_id=sale["session_id"]).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/checkins"), ("GET", "/sessions/{id}/report")]
)
def test_the_door_and_session_reports_are_for_staff_or_admins(
    api: Api, method: str, path: str
) -> None:
    """A customer is 403 forbidden; staff and admins are let through."""
    session = api.create_session()
    url = path.replace("{id}", session["id"])
    body = {"json": {"code": "nothing"}} if method == "POST" else {}
    answer = api.request(method, url, headers=api.auth(), **body)
    assert (answer.status_code, error_code(answer)) == (403, "forbidden")
    for role in ("staff", "admin"):
        answer = api.request(method, url, headers=api.auth("s", role), **body)
        assert answer.status_code in (200, 404), answer.text


def test_staff_may_not_do_what_only_admins_may(api: Api) -> None:
    """Staff are not admins: the sales report, the audit trail and sessions are refused."""
    staff = api.auth("door", "staff")
    assert api.get("/reports/sales", headers=staff).status_code == 403
    assert api.get("/admin/events", headers=staff).status_code == 403
    assert api.post("/sessions", json={}, headers=staff).status_code == 403


# -- reports ------------------------------------------------------------------------------


def test_a_session_report_has_the_contracts_figures(api: Api) -> None:
    """Counts by status, check-ins, revenue net of refunds, per category and ticket type."""
    sale = bought(api, ["A1", "A2", "A3"], tickets={"half": 1})
    api.reserve(sale["session_id"], ["B1"], user="bob")
    refund(api, sale, json={"seats": ["A3"]})
    scan(api, tickets(api, sale)[0]["code"])
    answer = api.get(f"/sessions/{sale['session_id']}/report", headers=api.auth("s", "staff"))
    assert answer.status_code == 200
    assert answer.json() == {
        "session_id": sale["session_id"],
        "seat_count": 16,
        "available": 13,
        "held": 1,
        "sold": 2,
        "blocked": 0,
        "checked_in": 1,
        "revenue": "37.50",
        "refunded": "25.00",
        "by_category": {"standard": {"seats": 16, "sold": 2, "revenue": "37.50"}},
        "by_ticket": {
            "full": {"sold": 1, "revenue": "25.00"},
            "half": {"sold": 1, "revenue": "12.50"},
            "senior": {"sold": 0, "revenue": "0.00"},
        },
    }
    missing = api.get("/sessions/00000000-0000-0000-0000-000000000000/report", headers=api.admin)
    assert (missing.status_code, error_code(missing)) == (404, "session_not_found")


def test_the_sales_report_is_json_or_csv_with_the_same_figures(api: Api) -> None:
    """Rows per day of payment, cinema and movie; Accept: text/csv gives the same as CSV."""
    sale = bought(api, ["A1", "A2"])
    bought(api, ["A3"], user="bob", session_id=sale["session_id"])
    refund(api, sale, json={"seats": ["A2"]})
    day = sale["paid_at"][:10]
    answer = api.get(f"/reports/sales?from={day}&to={day}", headers=api.admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "items": [
            {
                "date": day,
                "cinema": "",
                "movie": "Filme X",
                "sessions": 1,
                "tickets": 2,
                "revenue": "50.00",
                "ticket_revenue": "50.00",
                "products_sold": 0,
                "products_revenue": "0.00",
                "discounts_used": 0,
                "discounts_amount": "0.00",
                "products": {},
                "discounts": {},
            }
        ]
    }
    as_csv = api.get(f"/reports/sales?from={day}", headers={**api.admin, "Accept": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    # The CSV has the goods' totals; their break-down by code is the JSON's.
    assert rows == [
        {k: str(v) for k, v in item.items() if k not in ("products", "discounts")}
        for item in answer.json()["items"]
    ]
    later = api.get("/reports/sales?from=2099-01-01", headers=api.admin).json()
    assert later == {"items": []}
    elsewhere = api.get("/reports/sales?cinema=Norte", headers=api.admin).json()
    assert elsewhere == {"items": []}


@pytest.mark.parametrize(
    "query", ["from=yesterday", "to=2026-13-01", "from=2026-12-01T10:00:00", "cinema=%00"]
)
def test_bad_sales_report_bounds_are_422(api: Api, query: str) -> None:
    """A bound that is neither a day nor an instant with a timezone names its field."""
    answer = api.get(f"/reports/sales?{query}", headers=api.admin)
    assert (answer.status_code, error_code(answer)) == (422, "validation_error")
    assert set(answer.json()["error"]["details"]["fields"]) == {query.split("=")[0]}
