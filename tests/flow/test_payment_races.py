"""Replayed notices of one approved charge racing through many threads on PostgreSQL: one sale,
one ``payment.confirmed``, never a refund beside it.

The guard is the payment's row lock taken inside the settling transaction (``lock_payment``),
with the payment judged again as locked. The CONTROL RUN settles through a test-only variant that
trusts the payment as read before its transaction (no lock on it) and pauses there, so every
thread has read it pending before the first commits: the race fires, and a sale is made and its
money also refunded (two outcomes for one payment).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from cinema_core import BoxOffice, InMemorySeatLock, ManualClock, Money
from cinema_core.payments import SandboxProvider
from cinema_core.payments.charges import Charge
from cinema_core.payments.payment import Payment
from cinema_core.payments.use_cases import Payments
from cinema_core.ports import Transaction
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres

THREADS = 6
ROUNDS = 3
# Wide enough that every racing thread has read the payment before any transaction commits.
PAUSE = 0.3


class _StalePayment:
    """A transaction whose ``lock_payment`` answers the payment as read before it began."""

    def __init__(self, tx: Transaction, known: Payment):
        self._tx, self._known = tx, known

    def lock_payment(self, payment_id: Any) -> Payment:
        return self._known

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class UnlockedPayments(Payments):
    """CONTROL ONLY: settles without the payment's lock, trusting what it read before."""

    def _decide(self, tx: Transaction, known: Payment, charge: Charge) -> Payment:
        time.sleep(PAUSE)
        return super()._decide(_StalePayment(tx, known), known, charge)  # type: ignore[arg-type]


@pytest.fixture
def repo(clean_postgres_url: str) -> Iterator[Any]:
    from adapters.postgres import PostgresReservationRepo

    repo = PostgresReservationRepo(clean_postgres_url)
    yield repo
    repo.close()


def confirmed(repo: Any) -> int:
    import sqlalchemy as sa

    with repo.engine.connect() as connection:
        count: int = connection.execute(
            sa.text("SELECT count(*) FROM outbox WHERE type = 'payment.confirmed'")
        ).scalar_one()
        return count


def race(repo: Any, *, guarded: bool) -> list[tuple[int, int, int]]:
    """ROUNDS rounds of THREADS replays of one approval settling at once; per round the sales
    made, the cents refunded at the provider, and the payment.confirmed events added."""
    clock = ManualClock()
    sandbox = SandboxProvider(clock)
    box = BoxOffice(repo, InMemorySeatLock(clock), clock, timedelta(minutes=5), provider=sandbox)
    settler = box.payments
    if not guarded:
        settler = UnlockedPayments(box.holding, sandbox, box.payment_hold)
    session = box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=clock.now() + timedelta(days=1),
        price=Money(2500),
        rows=4,
        seats_per_row=4,
    ).session.id
    results = []
    for round_ in range(ROUNDS):
        hold = box.reserve(f"buyer-{round_}", session, [f"A{round_ + 1}"])
        payment = box.start_payment(hold.id, hold.user_id)
        assert payment.charge_id is not None
        sandbox.approve(payment.charge_id)  # no listener: the notices below are the only word
        before = confirmed(repo)
        run_together(THREADS, lambda _, c=payment.charge_id: settler.settle(c))
        held = repo.get_reservation(hold.id)
        sales = 1 if held.sale_id is not None else 0
        refunded = sandbox.read(payment.charge_id).refunded.cents
        results.append((sales, refunded, confirmed(repo) - before))
    return results


def test_control_without_the_payment_lock_a_replayed_notice_sells_and_refunds(repo: Any) -> None:
    """CONTROL: settled without the payment's lock, racing replays of one approval make a sale
    and also give its money back at the provider (two outcomes) in some round."""
    results = race(repo, guarded=False)
    print("control rounds (sales, refunded cents, confirmed events):", results)
    assert any(sales == 1 and refunded > 0 for sales, refunded, _ in results), results


def test_replayed_notices_racing_make_exactly_one_sale_and_one_confirmation(repo: Any) -> None:
    """The same race through the real use case: every round exactly one sale, one
    payment.confirmed event, and nothing refunded."""
    results = race(repo, guarded=True)
    assert results == [(1, 0, 1)] * ROUNDS, results
