"""The money ledger: over many randomised runs, every charge the provider approved ends as a sale
of exactly the money kept at the provider, or refunded there in full, to the cent.

Each run (seeded; the seed is in the failure) plays buyers through the sandbox provider: approvals
in time, notices lost (only reconciliation hears of them, late, with the seats free or taken),
repeated, refused refunds and refunds that crash after the provider gave the money back but before
anything was recorded, declines and new attempts, seat refunds of provider-paid sales and the
session's cancellation. Faults stop, reconciliation settles everything, then the ledger is read:
for every payment, what the provider kept equals what the box office's sale kept.

``CINEMA_LEDGER_RUNS`` sets the number of runs in memory (default 200) and on PostgreSQL (default
a tenth of it).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from cinema_core import BoxOffice, InMemoryReservationRepo, InMemorySeatLock, ManualClock, Money
from cinema_core.errors import CinemaError
from cinema_core.payments import SandboxProvider
from cinema_core.payments.charges import Charge, ChargeRequest, ChargeStatus
from cinema_core.payments.errors import PaymentProviderUnavailable, RefundRefused
from cinema_core.payments.payment import PaymentStatus
from cinema_core.selling.reservations import Reservation

RUNS = int(os.environ.get("CINEMA_LEDGER_RUNS", "200"))
HOLD = timedelta(seconds=30)
PAYMENT_HOLD = timedelta(seconds=60)
QUIET = timedelta(seconds=10)
LABELS = [f"{row}{number}" for row in "AB" for number in range(1, 5)]


class Crash(Exception):
    """The process died between the provider's answer and the transaction recording it."""


class FaultyProvider:
    """The sandbox behind a faulty road: refunds refused, provider reads down, and crashes right
    after a refund the provider did make. ``calm()`` ends every fault."""

    def __init__(self, sandbox: SandboxProvider, rng: random.Random):
        self.sandbox, self.rng, self.faulty = sandbox, rng, True
        self.name = sandbox.name

    def calm(self) -> None:
        self.faulty = False

    def _roll(self, chance: float) -> bool:
        return self.faulty and self.rng.random() < chance

    def start(self, request: ChargeRequest) -> Charge:
        return self.sandbox.start(request)

    def read(self, charge_id: str) -> Charge:
        if self._roll(0.1):
            raise PaymentProviderUnavailable("ledger: provider down")
        return self.sandbox.read(charge_id)

    def cancel(self, charge_id: str) -> Charge:
        return self.sandbox.cancel(charge_id)

    def refund(self, charge_id: str, amount: Money, idempotency_key: str) -> Charge:
        if self._roll(0.25):
            raise RefundRefused(charge_id, "ledger: refused")
        charge = self.sandbox.refund(charge_id, amount, idempotency_key)
        if self._roll(0.2):
            raise Crash(charge_id)
        return charge


class Run:
    """One randomised run: a box office on ``repo`` taking money through a faulty sandbox."""

    def __init__(self, seed: int, repo: Any):
        self.rng = random.Random(seed)
        self.clock = ManualClock()
        self.sandbox = SandboxProvider(self.clock)
        self.provider = FaultyProvider(self.sandbox, self.rng)
        self.box = BoxOffice(
            repo,
            InMemorySeatLock(self.clock),
            self.clock,
            HOLD,
            provider=self.provider,
            payment_hold=PAYMENT_HOLD,
            reconcile_quiet=QUIET,
        )
        self.session = self.box.create_session(
            movie="Filme X",
            room="Sala 1",
            starts_at=self.clock.now() + timedelta(days=2),
            price=Money(2500),
            rows=4,
            seats_per_row=4,
        ).session.id
        self.holds: list[Reservation] = []
        self.charges: list[str] = []
        # Seat refunds that crashed after the provider paid back: their buyer asks again.
        self.unfinished: list[tuple[UUID, list[str]]] = []
        self.buyers = 0

    # -- the buyers, the bank and the network ----------------------------------------------

    def attempt(self, action: Callable[[], Any]) -> Any:
        """``action``, with the refusals a client is told of (and a crash) swallowed."""
        try:
            return action()
        except (CinemaError, Crash):
            return None

    def buy(self) -> None:
        self.buyers += 1
        seats = self.rng.sample(LABELS, self.rng.choice([1, 2]))
        user = f"buyer-{self.buyers}"
        hold = self.attempt(lambda: self.box.reserve(user, self.session, seats))
        if hold is not None:
            self.holds.append(hold)
            self.pay(hold)

    def pay(self, hold: Reservation) -> None:
        payment = self.attempt(lambda: self.box.start_payment(hold.id, hold.user_id))
        if payment is not None and payment.charge_id not in self.charges:
            self.charges.append(payment.charge_id)

    def notify(self, charge_id: str) -> None:
        """The notice of a change: lost, delivered once, or again and again."""
        for _ in range(self.rng.choice([0, 0, 1, 1, 1, 2, 3])):
            self.attempt(lambda: self.box.settle_payment(charge_id))

    def pending_charge(self) -> str | None:
        pending = [c for c in self.charges if self.sandbox.read(c).status is ChargeStatus.PENDING]
        return self.rng.choice(pending) if pending else None

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.2:
            self.buy()
        elif roll < 0.45:
            charge = self.pending_charge()
            if charge is not None:
                self.sandbox.approve(charge)
                self.notify(charge)
        elif roll < 0.55:
            charge = self.pending_charge()
            if charge is not None:
                self.sandbox.decline(charge)
                self.notify(charge)
                if self.rng.random() < 0.7:
                    # A new attempt at the same hold (a new charge).
                    for hold in self.holds:
                        self.pay(hold)
        elif roll < 0.7:
            self.clock.advance(self.rng.choice([5, 15, 31, 61]))
            self.attempt(lambda: self.box.expire_due())
        elif roll < 0.8:
            self.attempt(self.box.reconcile_payments)
        elif roll < 0.85 and self.charges:
            self.notify(self.rng.choice(self.charges))
        elif roll < 0.97:
            self.refund_seats()
        elif self.rng.random() < 0.3:
            self.attempt(lambda: self.box.cancel_session(self.session, "admin-1"))

    def refund_seats(self) -> None:
        sales = [p.sale_id for p in self.payments() if p.sale_id is not None]
        if not sales:
            return
        sale_id = self.rng.choice(sales)
        sale = self.box.repo.get_sale(sale_id)
        assert sale is not None
        left = [seat for seat in sale.seats if seat not in sale.refunded]
        if not left:
            return
        seats = self.rng.sample(left, self.rng.randint(1, len(left)))
        try:
            self.box.refund(sale_id, "admin-1", seats, admin=True)
        except Crash:
            self.unfinished.append((sale_id, seats))
        except CinemaError:
            pass

    # -- the end ---------------------------------------------------------------------------

    def settle_everything(self) -> None:
        """No more faults; the crashed refunds asked again; time passes and reconciliation runs
        until no payment is pending or owing money back."""
        self.provider.calm()
        for sale_id, seats in self.unfinished:
            self.attempt(
                lambda sale_id=sale_id, seats=seats: self.box.refund(
                    sale_id, "admin-1", seats, admin=True
                )
            )
        for _ in range(6):
            self.clock.advance((PAYMENT_HOLD + QUIET).total_seconds())
            self.box.expire_due()
            while self.box.reconcile_payments():
                pass

    def payments(self) -> list[Any]:
        return [p for h in self.holds for p in self.box.repo.payments_of_reservation(h.id)]

    def ledger(self) -> list[str]:
        """Every disagreement between the provider's money and the box office's tickets."""
        wrong = []
        paid_charges = set()
        for payment in self.payments():
            charge = self.sandbox.read(payment.charge_id)
            paid_charges.add(payment.charge_id)
            kept = 0
            if charge.status is ChargeStatus.APPROVED:
                kept = charge.amount.cents - charge.refunded.cents
            sold = 0
            if payment.sale_id is not None:
                sale = self.box.repo.get_sale(payment.sale_id)
                assert sale is not None
                sold = sale.amount.cents - sale.refunded_amount.cents
            if kept != sold:
                wrong.append(
                    f"payment {payment.id} ({payment.status}, late={payment.late}): the provider "
                    f"kept {kept} cents, the box office's sale {sold}"
                )
            if payment.status in (PaymentStatus.PENDING, PaymentStatus.REVIEW):
                wrong.append(f"payment {payment.id} still {payment.status} after reconciliation")
        missing = set(self.charges) - paid_charges
        if missing:
            wrong.append(f"charges with no payment here: {sorted(missing)}")
        for hold in self.holds:
            current = self.box.repo.get_reservation(hold.id)
            assert current is not None
            sale_id = current.sale_id
            if sale_id is not None and self.box.repo.payment_of_sale(sale_id) is None:
                wrong.append(f"sale {sale_id} made with no payment")
        return wrong


def play(seed: int, repo: Any) -> Run:
    run = Run(seed, repo)
    for _ in range(2):
        run.buy()
    for _ in range(run.rng.randint(10, 30)):
        run.step()
    run.settle_everything()
    return run


def check_runs(seeds: Iterator[int], repo_for: Callable[[], Any]) -> None:
    for seed in seeds:
        run = play(seed, repo_for())
        wrong = run.ledger()
        assert not wrong, f"seed {seed}: " + "; ".join(wrong)


def test_every_approved_charge_is_a_sale_of_the_money_kept_or_refunded_in_memory() -> None:
    """RUNS randomised runs in memory: the provider's money and the tickets agree to the cent."""
    base = int(os.environ.get("CINEMA_LEDGER_SEED", random.randrange(1 << 30)))
    print("ledger seed base:", base)
    check_runs(iter(range(base, base + RUNS)), InMemoryReservationRepo)


@pytest.mark.postgres
def test_every_approved_charge_is_a_sale_of_the_money_kept_or_refunded_on_postgres(
    migrated_postgres_url: str,
) -> None:
    """A tenth of the runs on PostgreSQL: the same ledger, judged by the database."""
    from adapters.postgres import PostgresReservationRepo

    base = int(os.environ.get("CINEMA_LEDGER_SEED", random.randrange(1 << 30)))
    print("ledger seed base:", base)
    repo = PostgresReservationRepo(migrated_postgres_url)
    try:
        check_runs(iter(range(base, base + max(RUNS // 10, 5))), lambda: repo)
    finally:
        repo.close()
