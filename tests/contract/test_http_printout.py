"""HTTP contract of a sale printed (``GET /sales/{id}/print``): its tickets with their QR codes
and session, its receipt with the cash tendered and the change, both papers, both languages,
and who may print."""

from __future__ import annotations

import re
from typing import Any

from tests.contract.http_app import Api, error_code

HTML = {"Accept": "text/html"}


def counter_sale(
    api: Api, movie: str = "Filme X", user: str = "ana"
) -> tuple[dict[str, Any], dict[str, str]]:
    staff = api.auth(user, "staff")
    session = api.create_session(movie=movie, rating="14")
    opened = api.post("/shifts", json={"float": "50.00"}, headers=staff)
    assert opened.status_code in (201, 409), opened.text
    body = {
        "session_id": session["id"],
        "seats": ["B2", "B3"],
        "tickets": {"half": 1},
        "payment_method": "cash",
        "tendered": "50.00",
    }
    sold = api.post("/counter/sales", json=body, headers=staff)
    assert sold.status_code == 201, sold.text
    return sold.json(), staff


def test_a_printed_counter_sale_shows_its_tickets_codes_and_receipt(api: Api) -> None:
    """Each seat with its QR code (an inline SVG), type, price, session and rating; the
    receipt's total, method, cash tendered and change; A4 unless the receipt is asked for."""
    sale, staff = counter_sale(api)
    page = api.get(f"/sales/{sale['id']}/print", headers={**staff, "Accept-Language": "en"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    text = page.text
    assert 'data-paper="a4"' in text
    assert len(re.findall(r'<li class="printed-ticket" data-seat="B[23]"', text)) == 2
    assert text.count("<svg") == 2
    assert 'aria-label="QR code of the ticket for seat B2"' in text
    assert "Meia-entrada" in text
    assert "Inteira" in text
    assert 'data-rating="14"' in text
    for figure, value in (("total", "37,50"), ("tendered", "50,00"), ("change", "12,50")):
        assert re.search(rf'data-receipt="{figure}">R\$\xa0{value}<', text), figure
    assert 'data-receipt="method">Cash<' in text
    receipt = api.get(f"/sales/{sale['id']}/print?paper=receipt", headers=staff)
    assert 'data-paper="receipt"' in receipt.text


def test_the_printout_speaks_portuguese(api: Api) -> None:
    sale, staff = counter_sale(api, user="bia")
    text = api.get(f"/sales/{sale['id']}/print", headers={**staff, "Accept-Language": "pt-BR"}).text
    assert '<html lang="pt-BR"' in text
    assert "Troco" in text
    assert "Dinheiro" in text
    assert 'aria-label="QR code do ingresso do assento B2"' in text


def test_a_printout_escapes_what_people_typed(api: Api) -> None:
    sale, staff = counter_sale(api, movie="<script>alert(1)</script>", user="cai")
    text = api.get(f"/sales/{sale['id']}/print", headers=staff).text
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_an_online_sale_prints_without_till_lines_and_refunded_seats_without_codes(
    api: Api,
) -> None:
    session = api.create_session()
    reservation = api.reserve(session["id"], ["C1", "C2"]).json()
    sale = api.pay(reservation["id"]).json()
    api.post(f"/sales/{sale['id']}/refunds", json={"seats": ["C1"]}, headers=api.auth())
    text = api.get(
        f"/sales/{sale['id']}/print", headers={**api.admin, "Accept-Language": "en"}
    ).text
    assert text.count("<svg") == 1
    assert "Refunded: this ticket is void." in text
    assert 'data-receipt="method">Online<' in text
    assert 'data-receipt="tendered"' not in text
    assert 'data-receipt="change"' not in text


def test_who_may_print_and_what_is_refused(api: Api) -> None:
    """A customer 403, no token 401, a missing or malformed sale 404 (a page for a browser),
    an unknown paper 422."""
    sale, staff = counter_sale(api, user="dan")
    url = f"/sales/{sale['id']}/print"
    customer = api.get(url, headers=api.auth())
    assert (customer.status_code, error_code(customer)) == (403, "forbidden")
    assert api.get(url).status_code == 401
    for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        answer = api.get(f"/sales/{missing}/print", headers=staff)
        assert (answer.status_code, error_code(answer)) == (404, "sale_not_found")
        page = api.get(
            f"/sales/{missing}/print", headers={**staff, **HTML, "Accept-Language": "en"}
        )
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "No such sale" in page.text
    bad = api.get(f"{url}?paper=letter", headers=staff)
    assert (bad.status_code, error_code(bad)) == (422, "validation_error")


def test_the_receipt_lists_the_combos_and_the_discount_in_both_languages(api: Api) -> None:
    """A 25.00 seat and two 12.00 combos, 10 % off: the receipt's combo line (2 × its name,
    24.00), the discount line (-4.90) and the total 44.10; the product's name escaped."""
    product = {"code": "combo-recibo", "name": "Pipoca <b>grande</b>", "price": "12.00"}
    assert api.post("/products", json=product, headers=api.admin).status_code == 201
    promo = {"code": "RECIBO10", "percent_off": 10}
    assert api.post("/promo-codes", json=promo, headers=api.admin).status_code == 201
    staff = api.auth("eva", "staff")
    session = api.create_session()
    assert api.post("/shifts", json={"float": "0.00"}, headers=staff).status_code == 201
    body = {
        "session_id": session["id"],
        "seats": ["A1"],
        "products": {"combo-recibo": 2},
        "promo_code": "RECIBO10",
        "payment_method": "card",
    }
    sold = api.post("/counter/sales", json=body, headers=staff)
    assert sold.status_code == 201, sold.text
    url = f"/sales/{sold.json()['id']}/print"
    for language, discount in (("en", "Discount"), ("pt-BR", "Desconto")):
        text = api.get(url, headers={**staff, "Accept-Language": language}).text
        combo = re.search(r'data-receipt="product" data-product="combo-recibo">(.*?)</tr>', text)
        assert combo is not None, language
        assert "2 × Pipoca &lt;b&gt;grande&lt;/b&gt;" in combo.group(1)
        assert "R$\xa024,00" in combo.group(1)
        line = re.search(r'<tr data-receipt="discount">(.*?)</tr>', text)
        assert line is not None, language
        assert f"{discount} (RECIBO10)" in line.group(1)
        assert "-R$\xa04,90" in line.group(1)
        assert re.search(r'data-receipt="total">R\$\xa044,10<', text)
        assert "<b>grande" not in text
