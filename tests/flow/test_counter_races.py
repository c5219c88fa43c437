"""The counter's races on PostgreSQL, threads released together.

1. Many operators selling and refunding at once: each closing statement equals that operator's
   own transactions, to the cent.
2. Sales racing their shift's close: each lands in the final statement or is refused
   ``no_open_shift``; never sold in a closed shift. The guard is the shift's row, locked shared
   as the sale's last lock (exclusively by the close). Every other round the sellers get a head
   start (the close waits for half of them to commit), so the guarded run shows both outcomes:
   sales counted in the statement and sales refused. CONTROL RUN: ``UnlockedTill`` trusts the
   shift as read before its transaction and pauses, so the close commits first and sales land
   in the closed shift, missing from its statement.
3. Racing opens of one operator: one open shift. The guard is ``shifts_one_open_per_operator``;
   CONTROL RUN: the index dropped, several opens succeed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from cinema_core import BoxOffice, Money, Sale
from cinema_core.counter.shifts import Shift
from cinema_core.counter.till import PaymentMethod
from cinema_core.counter.use_cases import Counter, CounterOrder
from cinema_core.errors import NoOpenShift, ShiftOpen
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock
from tests.unguarded_counter import UnlockedTill

pytestmark = pytest.mark.postgres

SELLERS = 6
ROUNDS = 4
# How many sellers commit before the close in a head-start round.
HEAD_START = SELLERS // 2
OPERATORS = 4


@pytest.fixture
def repo(clean_postgres_url: str) -> Iterator[Any]:
    from adapters.postgres import PostgresReservationRepo

    repo = PostgresReservationRepo(clean_postgres_url)
    yield repo
    repo.close()


@pytest.fixture
def box(repo: Any) -> BoxOffice:
    return BoxOffice(repo, NoSeatLock(), hold=timedelta(seconds=30))


def _cash(session_id: Any, seat: str) -> CounterOrder:
    return CounterOrder(session_id, PaymentMethod.CASH, seats=[seat], tendered=Money(3000))


def test_many_operators_selling_and_refunding_close_to_the_cent(box: BoxOffice) -> None:
    """Each operator sells three seats (cash, card, pix) and refunds the cash one, all at once;
    each statement counts exactly that operator's: 25.00 by card and by pix, no cash kept.

    No control run: nothing here races for a shared figure that a lock guards. A statement is
    no running total that concurrent sales could lose updates to: it is computed at the close
    from the sales stored under the shift, each of which names its own shift; and operators
    never touch each other's shift. The one lock in play, the shift's row taken shared by each
    sale and refund, matters only against the close, which the close race below proves with
    its control (``UnlockedTill``)."""
    session_id = new_session(box, days=1, rows=4, seats_per_row=8).session.id
    shifts = [box.open_shift(f"op{i}", Money(10000)) for i in range(OPERATORS)]

    def work(index: int) -> None:
        me, row = f"op{index}", "ABCD"[index]
        cash = box.counter_sale(me, _cash(session_id, f"{row}1"))
        box.counter_sale(me, CounterOrder(session_id, PaymentMethod.CARD, seats=[f"{row}2"]))
        box.counter_sale(me, CounterOrder(session_id, PaymentMethod.PIX, seats=[f"{row}3"]))
        box.refund(cash.id, me)

    assert run_together(OPERATORS, work) == [None] * OPERATORS
    for index, shift in enumerate(shifts):
        _, closed = box.close_shift(shift.id, f"op{index}", Money(10000))
        figures = {m.value: str(v) for m, v in closed.by_method.items()}
        assert figures == {"cash": "0.00", "card": "25.00", "pix": "25.00"}
        assert (closed.sales, closed.refunds, str(closed.difference)) == (3, 1, "0.00")


def race_close(box: BoxOffice, counter: Counter) -> list[tuple[int, int, int]]:
    """ROUNDS rounds of SELLERS sales racing their shift's close, the sellers given a head
    start in odd rounds (the close waits until HEAD_START of them are done); per round: the
    sales the close counted, the sales stored in the shift, and the sales refused
    no_open_shift."""
    figures = []
    for round_ in range(ROUNDS):
        session_id = new_session(box, days=1).session.id
        shift = box.open_shift(f"racer{round_}", Money(0))
        done = threading.Semaphore(0)
        head_start = round_ % 2 == 1

        def act(
            index: int,
            shift: Shift = shift,
            session_id: Any = session_id,
            done: threading.Semaphore = done,
            head_start: bool = head_start,
        ) -> Any:
            if index == SELLERS:
                for _ in range(HEAD_START if head_start else 0):
                    assert done.acquire(timeout=20), "the sellers never finished"
                return box.close_shift(shift.id, shift.operator, Money(0))[1]
            seat = f"{'AB'[index // 4]}{index % 4 + 1}"
            try:
                return counter.sell(shift.operator, _cash(session_id, seat))
            finally:
                done.release()

        results = run_together(SELLERS + 1, act)
        statement = results[SELLERS]
        sold = results[:SELLERS]
        assert all(isinstance(r, Sale | NoOpenShift) for r in sold), sold
        stored = box.counter.holding.repo.shift_sales(shift.id)
        refused = sum(isinstance(r, NoOpenShift) for r in sold)
        figures.append((statement.sales, len(stored), refused))
    return figures


def test_control_sales_trusting_a_stale_shift_land_after_its_close(box: BoxOffice) -> None:
    """CONTROL: without the shift's lock, sales commit into the closed shift, uncounted."""
    figures = race_close(box, UnlockedTill(box.holding, box.holds, box.best))
    print("control (counted, stored, refused) per round:", figures)
    assert any(stored > counted for counted, stored, _ in figures)


def test_a_sale_racing_the_close_is_counted_or_refused(box: BoxOffice) -> None:
    """Guarded: every stored sale of the shift is in its final statement; the rest refused."""
    figures = race_close(box, box.counter)
    print("guarded (counted, stored, refused) per round:", figures)
    assert all(counted == stored == SELLERS - refused for counted, stored, refused in figures)
    # Both outcomes happen: sales counted before the close, and sales refused after it.
    assert any(counted > 0 for counted, _, _ in figures)
    assert any(refused > 0 for _, _, refused in figures)
    assert all(counted >= HEAD_START for counted, _, _ in figures[1::2])


def race_open(box: BoxOffice) -> int:
    results = run_together(SELLERS, lambda i: box.open_shift("twin", Money(i * 100)))
    assert all(isinstance(r, Shift | ShiftOpen) for r in results), results
    return sum(isinstance(r, Shift) for r in results)


def test_control_racing_opens_without_the_index_open_several(box: BoxOffice, repo: Any) -> None:
    """CONTROL: with shifts_one_open_per_operator dropped, racing opens all succeed."""
    with repo.engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX shifts_one_open_per_operator"))
    try:
        opened = race_open(box)
    finally:
        with repo.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM shifts"))
            connection.execute(
                sa.text(
                    "CREATE UNIQUE INDEX shifts_one_open_per_operator ON shifts (operator)"
                    " WHERE closed_at IS NULL"
                )
            )
    print("control: open shifts of one operator:", opened)
    assert opened > 1


def test_racing_opens_leave_one_open_shift(box: BoxOffice) -> None:
    """Guarded: exactly one of the racing opens succeeds; the others are shift_open."""
    assert race_open(box) == 1
