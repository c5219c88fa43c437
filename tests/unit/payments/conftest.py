"""The payment use cases' fixtures: a box office taking money through the sandbox, behind a
switch that takes the provider down or makes it refuse refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema_core import BoxOffice, ManualClock, Money, Reservation, SessionView
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from cinema_core.payments import (
    Charge,
    ChargeRequest,
    PaymentProviderUnavailable,
    RefundRefused,
    SandboxProvider,
)
from tests.unit.conftest import HOLD

PAYMENT_HOLD = timedelta(seconds=600)


class Switchable:
    """The sandbox with an outage and a refund refusal that the test turns on and off."""

    def __init__(self, sandbox: SandboxProvider) -> None:
        self.sandbox = sandbox
        self.name = sandbox.name
        self.down = False
        self.refusing = False
        self.refunds = 0
        self.asked = 0

    def start(self, request: ChargeRequest) -> Charge:
        self._check()
        return self.sandbox.start(request)

    def read(self, charge_id: str) -> Charge:
        self._check()
        return self.sandbox.read(charge_id)

    def cancel(self, charge_id: str) -> Charge:
        self._check()
        return self.sandbox.cancel(charge_id)

    def refund(self, charge_id: str, amount: Money, idempotency_key: str) -> Charge:
        self._check()
        self.asked += 1
        if self.refusing:
            raise RefundRefused(charge_id, "the bank said no")
        self.refunds += 1
        return self.sandbox.refund(charge_id, amount, idempotency_key)

    def _check(self) -> None:
        if self.down:
            raise PaymentProviderUnavailable("switched off")


@pytest.fixture
def sandbox(clock: ManualClock) -> SandboxProvider:
    return SandboxProvider(clock)


@pytest.fixture
def provider(sandbox: SandboxProvider) -> Switchable:
    return Switchable(sandbox)


@pytest.fixture
def box(
    repo: InMemoryReservationRepo,
    seat_lock: InMemorySeatLock,
    clock: ManualClock,
    provider: Switchable,
    sandbox: SandboxProvider,
) -> BoxOffice:
    box = BoxOffice(repo, seat_lock, clock, HOLD, provider=provider, payment_hold=PAYMENT_HOLD)
    # In place of a webhook: the sandbox tells the box office of every change of a charge.
    sandbox.subscribe(lambda charge: box.settle_payment(charge.charge_id))
    return box


@pytest.fixture
def reservation(box: BoxOffice, session: SessionView) -> Reservation:
    return box.reserve("u1", session.session.id, ["A1", "A2"])
