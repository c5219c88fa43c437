"""HTTP contract of the counter: shifts opened, read and closed, counter sales with change,
refunds back to their shift, the borderô naming the counter's methods, and who may do each."""

from __future__ import annotations

from typing import Any

from tests.contract.http_app import Api, error_code


def staff(api: Api, user: str = "ana") -> dict[str, str]:
    return api.auth(user, "staff")


def open_shift(api: Api, user: str = "ana", float_: str = "100.00") -> dict[str, Any]:
    answer = api.post("/shifts", json={"float": float_}, headers=staff(api, user))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def sell(api: Api, user: str = "ana", **body: Any) -> Any:
    return api.post("/counter/sales", json=body, headers=staff(api, user))


def test_shifts_and_counter_sales_are_for_staff(api: Api) -> None:
    """A customer is 403, no token 401."""
    for url in ("/shifts", "/counter/sales"):
        answer = api.post(url, json={}, headers=api.auth())
        assert (answer.status_code, error_code(answer)) == (403, "forbidden")
        assert api.post(url, json={}).status_code == 401


def test_one_open_shift_per_operator(api: Api) -> None:
    """A second open is 409 shift_open; GET /shifts lists the open one."""
    shift = open_shift(api)
    assert shift["status"] == "open"
    assert (shift["sales"], shift["expected_cash"], shift["counted_cash"]) == (0, "100.00", None)
    again = api.post("/shifts", json={"float": "10.00"}, headers=staff(api))
    assert (again.status_code, error_code(again)) == (409, "shift_open")
    listed = api.get("/shifts", headers=staff(api)).json()["items"]
    assert [s["id"] for s in listed] == [shift["id"]]
    bad = api.post("/shifts", json={"float": "-1.00"}, headers=staff(api, "bia"))
    assert (bad.status_code, error_code(bad)) == (422, "validation_error")


def test_a_cash_sale_gives_change_and_the_close_counts_it(api: Api) -> None:
    """Cash with change, a card sale, a refund; the close's statement agrees to the cent."""
    session_id = api.create_session()["id"]
    shift = open_shift(api)
    cash = sell(
        api, session_id=session_id, seats=["A1", "A2"], payment_method="cash", tendered="60.00"
    )
    assert cash.status_code == 201, cash.text
    sale = cash.json()
    assert (sale["amount"], sale["change"], sale["tendered"]) == ("50.00", "10.00", "60.00")
    assert (sale["channel"], sale["payment_method"], sale["shift_id"]) == (
        "counter",
        "cash",
        shift["id"],
    )
    card = sell(api, session_id=session_id, count=1, payment_method="card")
    assert card.status_code == 201, card.text
    assert "change" not in card.json()
    refunded = api.post(f"/sales/{sale['id']}/refunds", json={"seats": ["A1"]}, headers=staff(api))
    assert refunded.status_code == 201, refunded.text
    running = api.get(f"/shifts/{shift['id']}", headers=staff(api)).json()
    assert running["expected_cash"] == "125.00"
    closed = api.post(
        f"/shifts/{shift['id']}/close", json={"counted_cash": "120.00"}, headers=staff(api)
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["by_method"] == {"cash": "25.00", "card": "25.00", "pix": "0.00"}
    assert (body["sales"], body["expected_cash"], body["difference"]) == (2, "125.00", "-5.00")
    assert body["status"] == "closed"
    twice = api.post(
        f"/shifts/{shift['id']}/close", json={"counted_cash": "120.00"}, headers=staff(api)
    )
    assert (twice.status_code, error_code(twice)) == (409, "shift_closed")
    late = api.post(f"/sales/{sale['id']}/refunds", json={"seats": ["A2"]}, headers=api.admin)
    assert (late.status_code, error_code(late)) == (409, "shift_closed")
    statement = api.get(f"/sessions/{session_id}/statement", headers=api.admin).json()
    assert set(statement["by_method"]) == {"cash", "card"}


def test_refusals_change_nothing(api: Api) -> None:
    """No shift 409 no_open_shift; cash without enough tendered or card with tendered 422."""
    session_id = api.create_session()["id"]
    none = sell(api, "cai", session_id=session_id, seats=["A1"], payment_method="pix")
    assert (none.status_code, error_code(none)) == (409, "no_open_shift")
    open_shift(api, "cai")
    for body in (
        {"payment_method": "cash"},
        {"payment_method": "cash", "tendered": "1.00"},
        {"payment_method": "card", "tendered": "30.00"},
        {"payment_method": "coins"},
    ):
        answer = sell(api, "cai", session_id=session_id, seats=["A1"], **body)
        assert (answer.status_code, error_code(answer)) == (422, "validation_error"), body
    ok = sell(api, "cai", session_id=session_id, seats=["A1"], payment_method="pix")
    assert ok.status_code == 201, ok.text
    taken = sell(api, "cai", session_id=session_id, seats=["A1"], payment_method="pix")
    assert (taken.status_code, error_code(taken)) == (409, "seats_unavailable")


def test_a_counter_sale_honours_idempotency_keys(api: Api) -> None:
    """A retry with the same key and body gets the first sale again, never a second."""
    session_id = api.create_session()["id"]
    open_shift(api, "dan")
    headers = {**staff(api, "dan"), "Idempotency-Key": "till-1"}
    body = {"session_id": session_id, "seats": ["B2"], "payment_method": "card"}
    first = api.post("/counter/sales", json=body, headers=headers)
    second = api.post("/counter/sales", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]


def test_another_operators_shift_is_not_found(api: Api) -> None:
    """Another operator's shift is 404 shift_not_found, as is a malformed id."""
    shift = open_shift(api, "eva")
    for url in (f"/shifts/{shift['id']}", "/shifts/nope"):
        answer = api.get(url, headers=staff(api, "fay"))
        assert (answer.status_code, error_code(answer)) == (404, "shift_not_found")
    answer = api.post(
        f"/shifts/{shift['id']}/close", json={"counted_cash": "0.00"}, headers=staff(api, "fay")
    )
    assert (answer.status_code, error_code(answer)) == (404, "shift_not_found")


def test_a_counter_sale_carries_combos_and_a_promo_code_into_its_shift(api: Api) -> None:
    """A 25.00 seat and a 32.00 combo, 10 % off: 51.30 in cash from 60.00 (8.70 change); the
    combo's stock is taken, the next sale of it is product_sold_out, and the close counts the
    whole amount."""
    session_id = api.create_session()["id"]
    product = {"code": "combo-balcao", "name": "Combo balcão", "price": "32.00", "stock": 1}
    assert api.post("/products", json=product, headers=api.admin).status_code == 201
    promo = {"code": "BALCAO10", "percent_off": 10}
    assert api.post("/promo-codes", json=promo, headers=api.admin).status_code == 201
    shift = open_shift(api, "caio")
    answer = sell(
        api,
        "caio",
        session_id=session_id,
        seats=["B1"],
        products={"combo-balcao": 1},
        promo_code="balcao10",
        payment_method="cash",
        tendered="60.00",
    )
    assert answer.status_code == 201, answer.text
    sale = answer.json()
    assert [(p["code"], p["quantity"]) for p in sale["products"]] == [("combo-balcao", 1)]
    assert (sale["subtotal"], sale["discount"]["amount"]) == ("57.00", "5.70")
    assert (sale["amount"], sale["change"]) == ("51.30", "8.70")
    gone = sell(
        api,
        "caio",
        session_id=session_id,
        seats=["B2"],
        products={"combo-balcao": 1},
        payment_method="card",
    )
    assert (gone.status_code, error_code(gone)) == (409, "product_sold_out")
    assert gone.json()["error"]["details"]["product"] == "combo-balcao"
    closed = api.post(
        f"/shifts/{shift['id']}/close", json={"counted_cash": "151.30"}, headers=staff(api, "caio")
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["sales"], body["by_method"]["cash"], body["difference"]) == (1, "51.30", "0.00")
