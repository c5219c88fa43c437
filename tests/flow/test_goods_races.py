"""The counter's limits under races: a product's stock and a promo code's max_uses are never
passed, judged by PostgreSQL alone.

As in test_database_limits.py, a seat lock that grants everything leaves the database alone
between the racers (real threads, each on a connection of its own, released together), every
racer on a seat of its own. Each control run switches the guard off (the conditional update
of the stock; the promo code's row lock) with a pause holding the window open, and shows the
race firing; the guarded run, paused the same way, shows it never does. The restock's control
forces its order instead (Schedule): with a pause, the two ways it goes wrong could cancel
out, and once under CI's load they did. Each ends with the database's own account in SQL.
The in-memory store is held to the same exact counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from adapters.postgres import PostgresReservationRepo, create_engine
from adapters.postgres.transaction import PostgresTransaction
from cinema_core import BoxOffice, ManualClock, Money, Reservation
from cinema_core.errors import ProductSoldOut, PromoCodeInvalid
from cinema_core.goods.extras import Extras
from cinema_core.memory import InMemoryReservationRepo
from tests.concurrency import run_together
from tests.conftest import new_session
from tests.contract.test_repo_port import NoSeatLock
from tests.flow.test_database_invariant import PausingRepo
from tests.unguarded_postgres import (
    NoPromoLockTransaction,
    NoStockGuardTransaction,
    SettingRestockTransaction,
    UnguardedCounterRepo,
)

HOLD = timedelta(seconds=30)
BUYERS = 16
# Units of the combo in stock, uses of the promo code: fewer than the buyers, each of whom
# asks for one.
LIMIT = 5
WINDOW = 0.05


class _Pausing:
    """A transaction that pauses after taking stock and after counting a code's uses (the
    guarded run: the locks must hold across the pause)."""

    def __init__(self, tx: PostgresTransaction, pause: float):
        self._tx = tx
        self._pause = pause

    def take_stock(self, wanted: Any) -> None:
        self._tx.take_stock(wanted)
        time.sleep(self._pause)

    def promo_code_uses(self, *args: Any) -> Any:
        found = self._tx.promo_code_uses(*args)
        # A real pause, on purpose: it is the race window, not a stand-in for a clock.
        time.sleep(self._pause)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


@pytest.fixture
def clock() -> ManualClock:
    # Holds never lapse during these races.
    return ManualClock()


@pytest.fixture
def engine(clean_postgres_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(clean_postgres_url, pool_size=BUYERS, max_overflow=0)
    yield engine
    engine.dispose()


@attrs.frozen
class Round:
    winners: int
    refused: int
    unexpected: list[BaseException]


def race(box: BoxOffice, extras: Extras, refusal: type[Exception]) -> Round:
    """BUYERS threads released together, each holding a seat of its own with ``extras``."""
    session = new_session(box, days=1).session
    labels = [str(label) for label in session.labels()]
    results = run_together(
        BUYERS, lambda i: box.reserve(f"buyer-{i}", session.id, [labels[i]], None, extras)
    )
    return Round(
        winners=sum(isinstance(r, Reservation) for r in results),
        refused=sum(isinstance(r, refusal) for r in results),
        unexpected=[
            r for r in results if isinstance(r, BaseException) and not isinstance(r, refusal)
        ],
    )


def units_held(engine: sa.Engine, code: str) -> tuple[int, int]:
    """Units of ``code`` on live reservations, and what the product says is left."""
    sql = """
    SELECT
        (SELECT coalesce(sum((p->>'quantity')::int), 0)
         FROM reservations r, jsonb_array_elements(r.products) AS p
         WHERE p->>'code' = :code AND r.status IN ('pending', 'confirmed')),
        (SELECT stock_left FROM products WHERE code = :code)
    """
    with engine.connect() as conn:
        held, left = conn.execute(sa.text(sql), {"code": code}).one()
        return int(held), int(left)


def uses_held(engine: sa.Engine, code: str) -> int:
    sql = "SELECT count(*) FROM reservations WHERE promo_code = :code AND status = 'pending'"
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql), {"code": code}).scalar_one())


def box_on(repo: Any, clock: ManualClock) -> BoxOffice:
    box = BoxOffice(PausingRepo(repo, WINDOW, _Pausing), NoSeatLock(), clock, HOLD)
    box.add_product(code="combo", name="Combo", price=Money(3000), stock=LIMIT)
    box.add_promo_code(code="POUCOS", percent_off=10, max_uses=LIMIT)
    return box


@pytest.mark.postgres
def test_control_without_the_conditional_update_the_combo_is_oversold(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """CONTROL: stock read, then written as read less one: buyers overwrite each other and
    more combos are held than there were."""
    box = box_on(UnguardedCounterRepo(engine, NoStockGuardTransaction), clock)
    outcome = race(box, Extras.asked({"combo": 1}), ProductSoldOut)
    assert outcome.unexpected == []
    held, left = units_held(engine, "combo")
    # More units held than the stock ever had: what was held plus what is left passes it.
    assert outcome.winners > LIMIT, (outcome, held, left)
    assert held + left > LIMIT, (outcome, held, left)


@pytest.mark.postgres
def test_with_the_conditional_update_exactly_the_stock_is_held(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """The same race guarded: 5 of 16 hold a combo, 11 are told it is sold out, none left."""
    box = box_on(PostgresReservationRepo(engine), clock)
    outcome = race(box, Extras.asked({"combo": 1}), ProductSoldOut)
    assert (outcome.winners, outcome.refused, outcome.unexpected) == (LIMIT, BUYERS - LIMIT, [])
    assert units_held(engine, "combo") == (LIMIT, 0)


@pytest.mark.postgres
def test_control_without_the_code_lock_the_promo_code_is_oversubscribed(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """CONTROL: uses counted without the code's lock: concurrent holders all see room."""
    box = box_on(UnguardedCounterRepo(engine, NoPromoLockTransaction), clock)
    outcome = race(box, Extras.asked(promo_code="poucos"), PromoCodeInvalid)
    assert outcome.unexpected == []
    assert outcome.winners > LIMIT, outcome
    assert uses_held(engine, "POUCOS") > LIMIT, outcome


@pytest.mark.postgres
def test_with_the_code_lock_exactly_max_uses_are_held(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """The same race guarded: 5 of 16 hold the code, 11 are told it is used up."""
    box = box_on(PostgresReservationRepo(engine), clock)
    outcome = race(box, Extras.asked(promo_code="poucos"), PromoCodeInvalid)
    assert (outcome.winners, outcome.refused, outcome.unexpected) == (LIMIT, BUYERS - LIMIT, [])
    assert uses_held(engine, "POUCOS") == LIMIT


class Schedule:
    """The control's order, forced: every restock reads what is left before any buyer holds,
    and writes only once every buyer is done, so both ways the read-then-set goes wrong fire
    every time (the restocks write over each other, and over every hold), whatever the
    scheduler does."""

    def __init__(self) -> None:
        self._read = threading.Barrier(RESTOCKS, timeout=10)
        self.all_read = threading.Event()
        self._bought = 0
        self._all_bought = threading.Event()
        self._mutex = threading.Lock()

    def after_reading(self) -> None:
        if self._read.wait() == 0:
            self.all_read.set()
        assert self._all_bought.wait(10), "the buyers did not all finish"

    def bought(self) -> None:
        with self._mutex:
            self._bought += 1
            if self._bought == BUYERS - RESTOCKS:
                self._all_bought.set()


def restock_race(box: BoxOffice, schedule: Schedule | None = None) -> Round:
    """BUYERS threads released together: half add one combo to the stock (an admin's PATCH
    /products/{code}), half hold a seat of their own with one combo."""
    session = new_session(box, days=1).session
    labels = [str(label) for label in session.labels()]

    def buy(i: int) -> Reservation:
        return box.reserve(f"buyer-{i}", session.id, [labels[i]], None, Extras.asked({"combo": 1}))

    def act(i: int) -> Any:
        if i % 2:
            return box.change_product("combo", add=1)
        if schedule is None:
            return buy(i)
        assert schedule.all_read.wait(10), "the restocks did not all read"
        try:
            return buy(i)
        finally:
            schedule.bought()

    results = run_together(BUYERS, act)
    return Round(
        winners=sum(isinstance(r, Reservation) for r in results),
        refused=sum(isinstance(r, ProductSoldOut) for r in results),
        unexpected=[
            r for r in results if isinstance(r, BaseException) and not isinstance(r, ProductSoldOut)
        ],
    )


RESTOCKS = BUYERS // 2


@pytest.mark.postgres
def test_control_a_restock_that_sets_the_stock_undoes_racing_holds(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """CONTROL: a restock that reads what is left and sets it plus one, in the order that
    shows it (Schedule): all eight read 5, the buyers hold the 5 there are, and every restock
    sets 6, writing over the holds and over each other. Units are made up and lost:
    held + left is 5 + 6, not the stock plus the restocks (13)."""
    schedule = Schedule()

    class Scheduled(SettingRestockTransaction):
        def between_read_and_write(self) -> None:
            schedule.after_reading()

    box = box_on(UnguardedCounterRepo(engine, Scheduled), clock)
    outcome = restock_race(box, schedule)
    assert outcome.unexpected == []
    assert (outcome.winners, outcome.refused) == (LIMIT, BUYERS - RESTOCKS - LIMIT)
    assert units_held(engine, "combo") == (LIMIT, LIMIT + 1)


@pytest.mark.postgres
def test_an_added_restock_racing_holds_loses_and_makes_up_no_unit(
    engine: sa.Engine, clock: ManualClock
) -> None:
    """The same race with the restock added under the row lock (PATCH /products/{code}
    "add"): every unit is held or left, exactly the stock plus the restocks."""
    box = box_on(PostgresReservationRepo(engine), clock)
    outcome = restock_race(box)
    assert outcome.unexpected == []
    held, left = units_held(engine, "combo")
    assert (held, held + left) == (outcome.winners, LIMIT + RESTOCKS), outcome


def test_the_memory_store_is_exact_too(clock: ManualClock) -> None:
    """Threads on the in-memory store: exactly 5 combos and 5 uses, whatever the interleaving."""
    box = BoxOffice(InMemoryReservationRepo(), NoSeatLock(), clock, HOLD)
    box.add_product(code="combo", name="Combo", price=Money(3000), stock=LIMIT)
    box.add_promo_code(code="POUCOS", percent_off=10, max_uses=LIMIT)
    stock = race(box, Extras.asked({"combo": 1}), ProductSoldOut)
    uses = race(box, Extras.asked(promo_code="poucos"), PromoCodeInvalid)
    assert [(r.winners, r.refused, r.unexpected) for r in (stock, uses)] == [
        (LIMIT, BUYERS - LIMIT, [])
    ] * 2
    assert box.products()[0].left == 0
    restocked = restock_race(box)
    assert restocked.unexpected == []
    assert box.products()[0].left == RESTOCKS - restocked.winners
