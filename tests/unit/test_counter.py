"""The counter's rules: shifts, sales at the till, refunds back to their shift, the statement."""

from __future__ import annotations

import pytest

from cinema_core import BoxOffice, Money, SessionView
from cinema_core.counter.till import PaymentMethod
from cinema_core.counter.use_cases import CounterOrder
from cinema_core.errors import (
    NoOpenShift,
    SeatsUnavailable,
    ShiftClosed,
    ShiftNotFound,
    ShiftOpen,
    TicketQuotaExhausted,
    ValidationFailed,
)

CASH, CARD, PIX = PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.PIX


def _m(text: str) -> Money:
    return Money.parse(text)


def _cash(session: SessionView, seats: list[str], tendered: str) -> CounterOrder:
    return CounterOrder(session.session.id, CASH, seats=seats, tendered=_m(tendered))


def test_an_operator_has_one_open_shift_at_a_time(box: BoxOffice) -> None:
    """A second open is refused until the first closes; then a new one opens."""
    shift = box.open_shift("ana", _m("100.00"))
    with pytest.raises(ShiftOpen):
        box.open_shift("ana", _m("50.00"))
    assert box.open_shift("bia", _m("50.00")).operator == "bia"
    box.close_shift(shift.id, "ana", _m("100.00"))
    assert box.open_shift("ana", _m("20.00")).is_open


def test_a_cash_sale_gives_change_and_sells_the_seats(box: BoxOffice, session: SessionView) -> None:
    """Cash tendered over the amount comes back as change; the seats are sold at once."""
    box.open_shift("ana", _m("100.00"))
    sale = box.counter_sale("ana", _cash(session, ["A1", "A2"], "60.00"))
    assert (str(sale.amount), str(sale.change), sale.channel) == ("50.00", "10.00", "counter")
    with pytest.raises(SeatsUnavailable):
        box.reserve("buyer", session.session.id, ["A1"])


def test_a_count_takes_the_best_seats(box: BoxOffice, session: SessionView) -> None:
    """``count`` sells the best available seats, as best available holds them."""
    box.open_shift("ana", _m("0.00"))
    sale = box.counter_sale("ana", CounterOrder(session.session.id, CARD, count=2))
    assert len(sale.seats) == 2
    assert sale.change is None


def test_payment_shapes_are_checked(box: BoxOffice, session: SessionView) -> None:
    """Cash needs enough tendered; card and Pix take none; nothing is sold on a refusal."""
    box.open_shift("ana", _m("0.00"))
    for order in (
        CounterOrder(session.session.id, CASH, seats=["A1"]),
        _cash(session, ["A1"], "24.99"),
        CounterOrder(session.session.id, PIX, seats=["A1"], tendered=_m("30.00")),
    ):
        with pytest.raises(ValidationFailed):
            box.counter_sale("ana", order)
    assert box.counter_sale("ana", CounterOrder(session.session.id, PIX, seats=["A1"])).seats


def test_no_sale_without_an_open_shift(box: BoxOffice, session: SessionView) -> None:
    """No open shift, or a closed one: ``no_open_shift``, and the seats stay free."""
    with pytest.raises(NoOpenShift):
        box.counter_sale("ana", _cash(session, ["A1"], "25.00"))
    shift = box.open_shift("ana", _m("0.00"))
    box.close_shift(shift.id, "ana", _m("0.00"))
    with pytest.raises(NoOpenShift):
        box.counter_sale("ana", _cash(session, ["A1"], "25.00"))
    assert box.reserve("buyer", session.session.id, ["A1"]).seats


def test_quotas_hold_at_the_counter(box: BoxOffice) -> None:
    """Meia-entrada's quota counts counter sales as it counts holds."""
    from tests.conftest import new_session

    small = new_session(box, rows=2, seats_per_row=8)  # 40 % of 16: six meias
    box.open_shift("ana", _m("0.00"))
    six = [f"A{n}" for n in range(1, 7)]
    box.counter_sale("ana", CounterOrder(small.session.id, CARD, seats=six, tickets={"half": 6}))
    with pytest.raises(TicketQuotaExhausted):
        box.counter_sale(
            "ana", CounterOrder(small.session.id, CARD, seats=["B1"], tickets={"half": 1})
        )


def test_the_statement_counts_the_shift_to_the_cent(box: BoxOffice, session: SessionView) -> None:
    """Sales by method, net of refunds; expected cash is the float plus the cash kept."""
    shift = box.open_shift("ana", _m("100.00"))
    cash = box.counter_sale("ana", _cash(session, ["A1", "A2"], "50.00"))
    box.counter_sale("ana", CounterOrder(session.session.id, CARD, seats=["B1"]))
    box.counter_sale("ana", CounterOrder(session.session.id, PIX, seats=["C1"]))
    box.refund(cash.id, "ana", ["A2"])
    _, running = box.shift(shift.id, "ana")
    assert running.counted_cash is None
    _, closed = box.close_shift(shift.id, "ana", _m("120.00"))
    assert closed.sales == 3
    assert closed.refunds == 1
    assert {m.value: str(v) for m, v in closed.by_method.items()} == {
        "cash": "25.00",
        "card": "25.00",
        "pix": "25.00",
    }
    assert (str(closed.expected_cash), str(closed.difference)) == ("125.00", "-5.00")


def test_a_closed_shift_is_final(box: BoxOffice, session: SessionView) -> None:
    """Closing twice is refused, and so is a refund of a sale of a closed shift."""
    shift = box.open_shift("ana", _m("0.00"))
    sale = box.counter_sale("ana", _cash(session, ["A1"], "25.00"))
    _, first = box.close_shift(shift.id, "ana", _m("25.00"))
    with pytest.raises(ShiftClosed):
        box.close_shift(shift.id, "ana", _m("25.00"))
    with pytest.raises(ShiftClosed):
        box.refund(sale.id, "ana", admin=True)
    assert box.shift(shift.id, "ana")[1] == first


def test_only_its_operator_or_an_admin_sees_or_closes_a_shift(box: BoxOffice) -> None:
    """Another operator is told there is no such shift."""
    shift = box.open_shift("ana", _m("0.00"))
    with pytest.raises(ShiftNotFound):
        box.shift(shift.id, "bia")
    with pytest.raises(ShiftNotFound):
        box.close_shift(shift.id, "bia", _m("0.00"))
    assert box.close_shift(shift.id, "root", _m("0.00"), admin=True)[0].closed_at


def test_the_borderos_methods_name_the_counters(box: BoxOffice, session: SessionView) -> None:
    """The session statement counts counter sales under cash, card and pix."""
    box.open_shift("ana", _m("0.00"))
    box.counter_sale("ana", _cash(session, ["A1"], "25.00"))
    box.counter_sale("ana", CounterOrder(session.session.id, PIX, seats=["A2"]))
    box.pay(box.reserve("buyer", session.session.id, ["A3"]).id, "buyer")
    methods = box.session_statement(session.session.id).by_method
    assert {k: v.tickets for k, v in methods.items()} == {"cash": 1, "instant": 1, "pix": 1}
