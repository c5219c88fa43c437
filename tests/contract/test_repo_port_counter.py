"""The ReservationRepo port at the counter: shifts and counter sales, held to one contract.

Every store must refuse a second open shift of an operator by itself (however many opens race),
keep a counter sale's till (shift, method, cash tendered) with it, hand a shift's sales back
with their refunds, keep a closed shift's statement as closed, and name the counter's methods
in the session's statement.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cinema_core import BoxOffice, ManualClock, Money, SessionView
from cinema_core.counter.shifts import Shift
from cinema_core.counter.till import PaymentMethod
from cinema_core.counter.use_cases import CounterOrder
from cinema_core.errors import NoOpenShift, ShiftClosed, ShiftOpen
from cinema_core.ports import Transaction
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock


@pytest.fixture
def box(repo: Any, clock: ManualClock) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), clock, timedelta(seconds=30))


@pytest.fixture
def session(box: BoxOffice) -> SessionView:
    return new_session(box, days=1)


def _m(text: str) -> Money:
    return Money.parse(text)


def test_the_store_refuses_a_second_open_shift_of_an_operator(box: BoxOffice, repo: Any) -> None:
    """add_shift of another open shift of the operator raises ShiftOpen, even past the use
    case's own check; after the close a new one is stored."""
    first = box.open_shift("ana", _m("10.00"))
    other = Shift.open(box.new_id(), "ana", _m("0.00"), box.clock.now())

    def add(tx: Transaction) -> None:
        tx.add_shift(other)

    with pytest.raises(ShiftOpen):
        repo.atomic(add)
    assert repo.open_shift("ana").id == first.id
    box.close_shift(first.id, "ana", _m("10.00"))
    assert repo.open_shift("ana") is None
    repo.atomic(add)
    assert repo.get_shift(other.id).is_open


def test_racing_opens_leave_one_open_shift(box: BoxOffice, repo: Any) -> None:
    """Eight opens of one operator at once: exactly one succeeds."""
    results = run_together(8, lambda i: box.open_shift("bia", _m(f"{i}.00")))
    opened = [r for r in results if isinstance(r, Shift)]
    assert len(opened) == 1
    assert all(isinstance(r, ShiftOpen) for r in results if not isinstance(r, Shift))
    assert repo.open_shift("bia").id == opened[0].id


def test_a_counter_sale_keeps_its_till(box: BoxOffice, repo: Any, session: SessionView) -> None:
    """The stored sale names its shift, method and the cash tendered; the shift lists it."""
    shift = box.open_shift("ana", _m("50.00"))
    order = CounterOrder(session.session.id, PaymentMethod.CASH, seats=["A1"], tendered=_m("30.00"))
    sale = box.counter_sale("ana", order)
    stored = repo.get_sale(sale.id)
    assert stored == sale
    assert str(stored.change) == "5.00"
    assert [s.id for s in repo.shift_sales(shift.id)] == [sale.id]


def test_a_closed_statement_is_kept_as_closed(
    box: BoxOffice, repo: Any, session: SessionView
) -> None:
    """Sales and refunds counted by method; once closed the stored statement is final and
    later sales and refunds are refused."""
    shift = box.open_shift("ana", _m("100.00"))
    cash = box.counter_sale(
        "ana",
        CounterOrder(session.session.id, PaymentMethod.CASH, seats=["A1", "A2"], tendered=_m("50")),
    )
    box.counter_sale("ana", CounterOrder(session.session.id, PaymentMethod.CARD, count=2))
    box.refund(cash.id, "ana", ["A1"])
    _, closed = box.close_shift(shift.id, "ana", _m("125.00"))
    assert (closed.sales, closed.refunds, str(closed.expected_cash)) == (2, 1, "125.00")
    assert str(closed.by_method[PaymentMethod.CARD]) == "50.00"
    assert repo.get_shift(shift.id).statement == closed
    with pytest.raises(ShiftClosed):
        box.refund(cash.id, "ana", ["A2"])
    with pytest.raises(NoOpenShift):
        box.counter_sale("ana", CounterOrder(session.session.id, PaymentMethod.PIX, count=1))
    assert box.shift(shift.id, "ana")[1] == closed


def test_the_session_statement_names_the_counters_methods(
    box: BoxOffice, session: SessionView
) -> None:
    """statement_groups counts a counter sale under its method, an online one under instant."""
    box.open_shift("ana", _m("0.00"))
    box.counter_sale("ana", CounterOrder(session.session.id, PaymentMethod.PIX, seats=["A1"]))
    box.pay(box.reserve("u1", session.session.id, ["A2"]).id, "u1")
    methods = box.session_statement(session.session.id).by_method
    assert {k: v.tickets for k, v in methods.items()} == {"instant": 1, "pix": 1}
