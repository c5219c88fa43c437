"""Products and promo codes through HTTP: added by an admin, listed with their stock, carried
by a reservation as product lines and a discount, in its total and its sale, and refused by
the reasons the contract names."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.http_app import Api, bad_fields, error_code

COMBO = {"code": "combo-pipoca", "name": "Combo pipoca", "price": "32.00", "stock": 2}


@pytest.fixture
def session_id(api: Api) -> str:
    return str(api.create_session()["id"])


def hold(api: Api, session_id: str, seats: list[str], user: str = "alice", **more: Any) -> Any:
    body = {"session_id": session_id, "seats": seats, **more}
    return api.post("/reservations", json=body, headers=api.auth(user))


def test_an_admin_adds_a_product_and_anyone_lists_it(api: Api) -> None:
    """POST /products is admin only (customer 403); GET /products is open, with left."""
    assert api.post("/products", json=COMBO, headers=api.auth()).status_code == 403
    response = api.post("/products", json=COMBO, headers=api.admin)
    assert response.status_code == 201, response.text
    made = response.json()
    assert {k: made[k] for k in ("code", "name", "price", "currency", "left")} == {
        "code": "combo-pipoca",
        "name": "Combo pipoca",
        "price": "32.00",
        "currency": "BRL",
        "left": 2,
    }
    again = api.post("/products", json=COMBO, headers=api.admin)
    assert (again.status_code, error_code(again)) == (409, "product_exists")
    listed = api.get("/products")
    assert listed.status_code == 200
    assert [p["code"] for p in listed.json()["items"]] == ["combo-pipoca"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**COMBO, "code": "Combo Pipoca"}, "code"),
        ({**COMBO, "price": "-1.00"}, "price"),
        ({**COMBO, "price": "1.001"}, "price"),
        ({**COMBO, "stock": -1}, "stock"),
        ({**COMBO, "stock": "10"}, "stock"),
        ({**COMBO, "name": " "}, "name"),
    ],
)
def test_bad_products_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    assert field in bad_fields(api.post("/products", json=body, headers=api.admin))


def test_a_reservation_with_combos_and_a_promo_code_shows_every_line(
    api: Api, session_id: str
) -> None:
    """A 25.00 seat with two 32.00 combos, 10 % off: subtotal 89.00, 8.90 off, 80.10."""
    api.post("/products", json=COMBO, headers=api.admin)
    promo = api.post(
        "/promo-codes", json={"code": "pipoca10", "percent_off": 10}, headers=api.admin
    )
    assert promo.status_code == 201, promo.text
    assert promo.json()["code"] == "PIPOCA10"
    response = hold(api, session_id, ["A1"], products={"combo-pipoca": 2}, promo_code="Pipoca10")
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["products"] == [
        {
            "code": "combo-pipoca",
            "name": "Combo pipoca",
            "quantity": 2,
            "unit_price": "32.00",
            "amount": "64.00",
        }
    ]
    assert made["subtotal"] == "89.00"
    assert made["discount"] == {
        "code": "PIPOCA10",
        "percent_off": 10,
        "amount_off": None,
        "amount": "8.90",
    }
    assert made["amount"] == "80.10"
    assert api.get("/products").json()["items"][0]["left"] == 0
    sale = api.pay(made["id"]).json()
    assert (sale["amount"], sale["products"], sale["discount"]) == (
        "80.10",
        made["products"],
        made["discount"],
    )


def test_stock_and_promo_refusals_name_what_and_why(api: Api, session_id: str) -> None:
    api.post("/products", json=COMBO, headers=api.admin)
    api.post(
        "/promo-codes",
        json={"code": "UMA", "amount_off": "5.00", "max_uses": 1},
        headers=api.admin,
    )
    sold_out = hold(api, session_id, ["A1"], products={"combo-pipoca": 3})
    assert (sold_out.status_code, error_code(sold_out)) == (409, "product_sold_out")
    assert sold_out.json()["error"]["details"]["product"] == "combo-pipoca"
    unknown = hold(api, session_id, ["A1"], products={"nada": 1})
    assert (unknown.status_code, error_code(unknown)) == (422, "unknown_product")
    assert hold(api, session_id, ["A1"], promo_code="uma").status_code == 201
    used = hold(api, session_id, ["A2"], user="bob", promo_code="uma")
    assert (used.status_code, error_code(used)) == (409, "promo_code_invalid")
    assert used.json()["error"]["details"]["reason"] == "used_up"
    nothing = hold(api, session_id, ["A2"], user="bob", promo_code="NADA")
    assert nothing.json()["error"]["details"]["reason"] == "unknown"
    # Nothing was held by the refusals: A2 is still for sale.
    assert hold(api, session_id, ["A2"], user="bob").status_code == 201


def test_promo_codes_are_admin_only_unique_and_checked(api: Api) -> None:
    body = {"code": "DEZ", "percent_off": 10}
    assert api.post("/promo-codes", json=body, headers=api.auth()).status_code == 403
    assert api.post("/promo-codes", json=body, headers=api.admin).status_code == 201
    again = api.post("/promo-codes", json={**body, "code": "dez"}, headers=api.admin)
    assert (again.status_code, error_code(again)) == (409, "promo_code_exists")
    both = {"code": "AMBOS", "percent_off": 10, "amount_off": "1.00"}
    assert "percent_off" in bad_fields(api.post("/promo-codes", json=both, headers=api.admin))
    assert "percent_off" in bad_fields(
        api.post("/promo-codes", json={"code": "X1", "percent_off": 0}, headers=api.admin)
    )


def test_an_admin_restocks_renames_and_reprices_a_product(api: Api, session_id: str) -> None:
    """PATCH /products/{code} adds units on top of what is left (a hold's units stay taken),
    and a new name or price is for holds made afterwards; admin only."""
    api.post("/products", json=COMBO, headers=api.admin)
    first = hold(api, session_id, ["A1"], products={"combo-pipoca": 2})
    assert first.status_code == 201, first.text
    url = "/products/combo-pipoca"
    assert api.patch(url, json={"add": 1}, headers=api.auth()).status_code == 403
    answer = api.patch(url, json={"add": 3, "price": "30.00"}, headers=api.admin)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["left"], answer.json()["price"]) == (3, "30.00")
    renamed = api.patch(url, json={"name": "Combo grande"}, headers=api.admin).json()
    assert (renamed["name"], renamed["left"], renamed["price"]) == ("Combo grande", 3, "30.00")
    held = api.get(f"/reservations/{first.json()['id']}", headers=api.auth("alice")).json()
    assert held["products"][0]["unit_price"] == "32.00"
    second = hold(api, session_id, ["A2"], user="bob", products={"combo-pipoca": 3}).json()
    assert second["products"][0]["unit_price"] == "30.00"
    assert api.get("/products").json()["items"][0]["left"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "add"),
        ({"add": 0}, "add"),
        ({"add": "3"}, "add"),
        ({"stock": 5}, "stock"),
        ({"name": " "}, "name"),
        ({"price": "-1.00"}, "price"),
    ],
)
def test_bad_product_changes_are_422_and_change_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    api.post("/products", json=COMBO, headers=api.admin)
    assert field in bad_fields(api.patch("/products/combo-pipoca", json=body, headers=api.admin))
    assert api.get("/products").json()["items"][0]["left"] == 2


def test_restocking_an_unknown_product_or_one_without_stock(api: Api) -> None:
    """An unknown code is 404; a product that keeps no stock cannot be restocked (422)."""
    missing = api.patch("/products/nada", json={"add": 1}, headers=api.admin)
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    api.post("/products", json={**COMBO, "code": "agua", "stock": None}, headers=api.admin)
    assert "add" in bad_fields(api.patch("/products/agua", json={"add": 1}, headers=api.admin))


def test_the_reports_break_out_products_and_discounts(api: Api, session_id: str) -> None:
    """A sale of A1 (25.00) with two combos (64.00) and 10 % off (8.90), and another of A2
    refunded in full with its combo: the sales report's row and the borderô count the standing
    combos and discount by code, and their money adds up to what was kept, in JSON and CSV."""
    api.post("/products", json={**COMBO, "stock": 10}, headers=api.admin)
    api.post("/promo-codes", json={"code": "PIPOCA10", "percent_off": 10}, headers=api.admin)
    kept = hold(api, session_id, ["A1"], products={"combo-pipoca": 2}, promo_code="pipoca10")
    assert api.pay(kept.json()["id"]).status_code == 201
    back = hold(api, session_id, ["A2"], user="bob", products={"combo-pipoca": 1}).json()
    sale = api.pay(back["id"], "bob").json()
    refunded = api.post(f"/sales/{sale['id']}/refunds", json={}, headers=api.auth("bob"))
    assert refunded.status_code == 201, refunded.text
    (row,) = api.get("/reports/sales", headers=api.admin).json()["items"]
    assert {k: v for k, v in row.items() if k not in ("date", "cinema", "movie")} == {
        "sessions": 1,
        "tickets": 1,
        "revenue": "80.10",
        "ticket_revenue": "25.00",
        "products_sold": 2,
        "products_revenue": "64.00",
        "discounts_used": 1,
        "discounts_amount": "8.90",
        "products": {"combo-pipoca": {"units": 2, "revenue": "64.00"}},
        "discounts": {"PIPOCA10": {"uses": 1, "amount": "8.90"}},
    }
    sheet = api.get("/reports/sales", headers={**api.admin, "Accept": "text/csv"}).text
    assert sheet.splitlines()[0].endswith(
        "revenue,ticket_revenue,products_sold,products_revenue,discounts_used,discounts_amount"
    )
    assert sheet.splitlines()[1].endswith(",1,1,80.10,25.00,2,64.00,1,8.90")
    statement = api.get(f"/sessions/{session_id}/statement", headers=api.admin).json()
    assert statement["products"] == {
        "combo-pipoca": {
            "count": 3,
            "gross": "96.00",
            "refunds": 1,
            "refunded": "32.00",
            "net": "64.00",
        }
    }
    assert statement["discounts"] == {
        "PIPOCA10": {"count": 1, "gross": "8.90", "refunds": 0, "refunded": "0.00", "net": "8.90"}
    }
    assert statement["takings"] == {"gross": "137.10", "refunded": "57.00", "net": "80.10"}
    sheet = api.get(
        f"/sessions/{session_id}/statement", headers={**api.admin, "Accept": "text/csv"}
    ).text
    assert ",product,combo-pipoca,3,96.00,1,32.00,64.00," in sheet
    assert ",discount,PIPOCA10,1,8.90,0,0.00,8.90," in sheet
