"""HTTP contract: every instant, number and text a client sends is bounded where it is declared.

An instant lies before year 9000 (a session near 9999 had no room for its end and broke every
list that showed it), a token's ``exp`` too, and text a store cannot keep (a NUL, a control
character) is a 422 in every mode, never the 503 PostgreSQL used to give. Each case runs in
memory and on PostgreSQL.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import httpx
import jwt
import pytest

from tests.contract.http_app import NEW_SESSION, SECRET, Api, bad_fields, error_code


def _listed(api: Api) -> int:
    listed = api.get("/sessions")
    assert listed.status_code == 200, listed.text
    return len(listed.json()["items"])


@pytest.mark.parametrize(
    "starts_at", ["9999-12-31T23:00:00Z", "9000-01-01T00:00:00Z", "8999-12-31T20:00:00Z"]
)
def test_a_session_too_near_year_9999_is_refused_and_lists_stay_whole(
    any_api: Api, starts_at: str
) -> None:
    """A session that could not end before 9000-01-01 is 422 starts_at; GET /sessions stays 200."""
    any_api.create_session()
    answer = any_api.post(
        "/sessions", json={**NEW_SESSION, "starts_at": starts_at}, headers=any_api.admin
    )
    assert bad_fields(answer) == {"starts_at"}
    assert _listed(any_api) == 1
    assert any_api.get("/").status_code == 200


def test_a_session_may_start_up_to_ten_hours_before_9000(any_api: Api) -> None:
    """The last start is 8999-12-31T14:00Z (its longest run ends before 9000): it lists fine."""
    made = any_api.create_session(starts_at="8999-12-31T13:59:59Z", duration_minutes=600)
    assert made["ends_at"].startswith("8999-12-31T23:59:59")
    assert _listed(any_api) == 1


def test_a_token_whose_exp_is_past_year_9000_is_401(any_api: Api) -> None:
    """exp of 400 digits (or a string, or past 9000) is 401 unauthorized, not 500."""
    for exp in (10**400, 10**12, "99999999999"):
        token = jwt.encode({"sub": "alice", "role": "customer", "exp": exp}, SECRET)
        answer = any_api.get("/users/alice/purchases", headers={"Authorization": f"Bearer {token}"})
        assert (answer.status_code, error_code(answer)) == (401, "unauthorized"), exp
    fine = jwt.encode({"sub": "alice", "role": "customer", "exp": 10**11}, SECRET)
    assert any_api.get(
        "/users/alice/purchases", headers={"Authorization": f"Bearer {fine}"}
    ).is_success


ODD_TEXT = ["%00", "a%00b", "%01", "%7F", "%C2%85", "%C2%9F", "x" * 201]


@pytest.mark.parametrize("text", ODD_TEXT)
def test_query_text_no_store_could_hold_is_422(any_api: Api, text: str) -> None:
    """cinema/movie with a NUL, a C0 or C1 control or past 200 characters: 422 naming it."""
    assert bad_fields(any_api.get(f"/rooms?cinema={text}")) == {"cinema"}
    assert bad_fields(any_api.get(f"/sessions?cinema={text}&movie={text}")) == {"cinema", "movie"}
    sales = any_api.get(f"/reports/sales?cinema={text}", headers=any_api.admin)
    assert bad_fields(sales) == {"cinema"}


@pytest.mark.parametrize(
    "bound",
    [
        "9999-12-31T23:59:59Z",
        "9000-01-01T00:00:00Z",
        "0001-01-01T00:00:00%2B05:00",
        "0001-01-01T00:00:00Z",
        "99999-01-01T00:00:00Z",
    ],
)
def test_instants_in_queries_are_bounded(any_api: Api, bound: str) -> None:
    """from/to of sessions and reports outside [0001-01-02, 9000-01-01) are 422, not 500."""
    any_api.create_session()
    assert bad_fields(any_api.get(f"/sessions?from={bound}&to={bound}")) == {"from", "to"}
    sales = any_api.get(f"/reports/sales?from={bound}&to={bound}", headers=any_api.admin)
    assert bad_fields(sales) == {"from", "to"}


def test_days_and_instants_inside_the_bounds_are_read(any_api: Api) -> None:
    """The widest bounds allowed answer 200 (the last day, 8999-12-31, counted whole)."""
    any_api.create_session()
    wide = "from=0001-01-02T00:00:00Z&to=8999-12-31T23:59:59Z"
    assert len(any_api.get(f"/sessions?{wide}").json()["items"]) == 1
    days = any_api.get("/reports/sales?from=0001-01-02&to=8999-12-31", headers=any_api.admin)
    assert days.status_code == 200
    late = any_api.get("/reports/sales?to=9999-12-31", headers=any_api.admin)
    assert bad_fields(late) == {"to"}


def _cursor(at: str) -> str:
    raw = json.dumps([at, "3fa85f64-5717-4562-b3fc-2c963f66afa6"]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_hand_made_cursor_at_the_ends_of_time_is_422(any_api: Api, at: str) -> None:
    """A cursor whose instant leaves the box office's range is 422 cursor, not 500."""
    any_api.create_session()
    assert bad_fields(any_api.get(f"/sessions?cursor={_cursor(at)}")) == {"cursor"}
    mine = any_api.get(f"/users/alice/purchases?cursor={_cursor(at)}", headers=any_api.auth())
    assert bad_fields(mine) == {"cursor"}


@pytest.mark.parametrize("key", ["a\x01b", "a\tb", "é", "k\x7f"])
def test_an_idempotency_key_of_other_than_printable_ascii_is_422(any_api: Api, key: str) -> None:
    """An Idempotency-Key with a control or non-ASCII character is 422 naming it; nothing held."""
    session_id = any_api.create_session()["id"]
    headers: dict[str, Any] = {**any_api.auth(), "Idempotency-Key": key.encode("utf-8")}
    body = {"session_id": session_id, "seats": ["A1"]}
    answer = any_api.post("/reservations", json=body, headers=headers)
    assert bad_fields(answer) == {"Idempotency-Key"}
    assert any_api.get(f"/sessions/{session_id}").json()["available"] == 16


def test_ticket_counts_keyed_by_text_no_store_could_hold_are_422(any_api: Api) -> None:
    """A tickets key with a NUL or a lone surrogate is 422 naming tickets; nothing held."""
    session_id = any_api.create_session()["id"]
    for key in ("\\u0000", "\\ud800"):
        raw = f'{{"session_id": "{session_id}", "seats": ["A1"], "tickets": {{"{key}": 1}}}}'
        answer = any_api.post(
            "/reservations",
            content=raw.encode(),
            headers={**any_api.auth(), "Content-Type": "application/json"},
        )
        assert bad_fields(answer) == {"tickets"}
    assert any_api.get(f"/sessions/{session_id}").json()["available"] == 16


CONTROLS = ["\u0085", "\u0080", "\u009f", "\x00", "\x1b", "\x7f"]


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_names_with_a_control_character_are_422(any_api: Api, control: str) -> None:
    """Movie, room, cinema and ticket type names refuse C0, DEL and C1 (NEL U+0085) alike."""
    name = f"a{control}b"
    kinds = [{"code": "full", "name": name, "percent": 100}]
    sessions = [
        {**NEW_SESSION, "movie": name},
        {**NEW_SESSION, "room": name},
        {**NEW_SESSION, "ticket_types": kinds},
    ]
    for body in sessions:
        assert bad_fields(any_api.post("/sessions", json=body, headers=any_api.admin))
    layout = ["ssss", "ssss", "ssss", "ssss"]
    for field in ("cinema", "name"):
        room = {"cinema": "Centro", "name": "Sala 1", "layout": layout, field: name}
        assert bad_fields(any_api.post("/rooms", json=room, headers=any_api.admin)) == {field}
    assert _listed(any_api) == 0
    assert any_api.get("/rooms").json() == {"items": []}


def test_a_seat_that_would_sell_for_nothing_is_refused(any_api: Api) -> None:
    """0.01 with a 1 % ticket type rounds to 0.00: 422 naming the price, no session made."""
    kinds = [
        {"code": "full", "name": "Inteira", "percent": 100},
        {"code": "promo", "name": "Promo", "percent": 1},
    ]
    one = any_api.post(
        "/sessions",
        json={**NEW_SESSION, "price": "0.01", "ticket_types": kinds},
        headers=any_api.admin,
    )
    assert bad_fields(one) == {"price"}
    assert "0.00" in one.json()["error"]["details"]["fields"]["price"]
    room = any_api.post(
        "/rooms",
        json={"cinema": "Centro", "name": "Sala 2", "layout": ["ssss", "ssss", "pppp", "pppp"]},
        headers=any_api.admin,
    ).json()

    def priced(premium: str) -> httpx.Response:
        body = {
            "movie": "Filme X",
            "room_id": room["id"],
            "starts_at": NEW_SESSION["starts_at"],
            "prices": {"standard": "25.00", "premium": premium},
            "ticket_types": kinds,
        }
        return any_api.post("/sessions", json=body, headers=any_api.admin)

    assert bad_fields(priced("0.49")) == {"prices.premium"}
    assert _listed(any_api) == 0
    # 0.50 at 1 % is 0.005, which rounds half up to 0.01: for sale.
    fine = priced("0.50")
    assert fine.status_code == 201, fine.text


FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"]


def test_report_csv_cells_that_a_spreadsheet_would_run_are_neutralised(any_api: Api) -> None:
    """A movie named like a formula is written after a ' in CSV (OWASP); JSON keeps it as is."""
    for index, movie in enumerate(FORMULAS):
        session_id = any_api.create_session(movie=movie, room=f"Sala {index}")["id"]
        held = any_api.post(
            "/reservations",
            json={"session_id": session_id, "seats": ["A1"]},
            headers=any_api.auth(),
        )
        assert any_api.pay(held.json()["id"]).status_code == 201
    as_json = any_api.get("/reports/sales", headers=any_api.admin).json()["items"]
    assert sorted(item["movie"] for item in as_json) == sorted(FORMULAS)
    answer = any_api.get("/reports/sales", headers={**any_api.admin, "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(row["movie"] for row in rows) == sorted("'" + movie for movie in FORMULAS)
    assert {row["revenue"] for row in rows} == {"25.00"}


_BODY = '{"movie": "Filme X", "room": "Sala 1", "starts_at": "2026-12-01T19:00:00Z", '
_BODY += '"price": "25.00", "rows": 4, "seats_per_row": 4}'
NOT_UTF8 = {
    "UTF-16 with its mark": (_BODY.encode("utf-16"), "application/json"),
    "UTF-16LE": (_BODY.encode("utf-16-le"), "application/json"),
    "UTF-16BE": (_BODY.encode("utf-16-be"), "application/json"),
    "UTF-32 with its mark": (_BODY.encode("utf-32"), "application/json"),
    "UTF-32LE": (_BODY.encode("utf-32-le"), "application/json"),
    "UTF-8 with a mark": (_BODY.encode("utf-8-sig"), "application/json"),
    "Latin-1": (_BODY.replace("Filme X", "Café").encode("latin-1"), "application/json"),
    "charset=utf-16": (_BODY.encode("utf-8"), "application/json; charset=utf-16"),
    "charset=latin-1": (_BODY.encode("utf-8"), 'application/json; charset="ISO-8859-1"'),
}


@pytest.mark.parametrize("case", sorted(NOT_UTF8))
def test_a_body_that_is_not_utf8_json_is_400(any_api: Api, case: str) -> None:
    """JSON is UTF-8: UTF-16/32, a byte order mark or another charset is 400 malformed_json."""
    raw, content_type = NOT_UTF8[case]
    headers = {**any_api.admin, "Content-Type": content_type}
    answer = any_api.post("/sessions", content=raw, headers=headers)
    assert (answer.status_code, error_code(answer)) == (400, "malformed_json")
    assert _listed(any_api) == 0
    utf8 = {**any_api.admin, "Content-Type": "application/json; charset=UTF-8"}
    assert any_api.post("/sessions", content=_BODY.encode(), headers=utf8).status_code == 201
