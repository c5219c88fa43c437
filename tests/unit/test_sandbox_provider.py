"""The sandbox provider's own parts: its listeners, lapsing by its clock, its Pix codes."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from datetime import datetime, timedelta

from cinema_core import ManualClock, Money
from cinema_core.payments import Charge, ChargeRequest, ChargeStatus, SandboxProvider
from cinema_core.payments.brcode import crc16


def _request(clock: ManualClock, key: str = "attempt-1") -> ChargeRequest:
    return ChargeRequest(
        payment_id=uuid.uuid4(),
        amount=Money.parse("25.00"),
        description="1 seat",
        expires_at=clock.now() + timedelta(minutes=10),
        idempotency_key=key,
    )


def test_listeners_hear_every_change_once(clock: ManualClock) -> None:
    """A subscribed listener is told of approval and refund, each once, with the new charge."""
    sandbox = SandboxProvider(clock)
    heard: list[Charge] = []
    sandbox.subscribe(heard.append)
    charge = sandbox.start(_request(clock))
    sandbox.read(charge.charge_id)
    sandbox.approve(charge.charge_id)
    sandbox.approve(charge.charge_id)
    sandbox.refund(charge.charge_id, Money.parse("25.00"), "refund-1")
    assert [c.status for c in heard] == [ChargeStatus.APPROVED, ChargeStatus.REFUNDED]


def test_a_failing_listener_does_not_undo_the_change(clock: ManualClock) -> None:
    """A listener that raises is a lost notice: the payment stands, the next listener is told."""
    sandbox = SandboxProvider(clock)
    heard: list[Charge] = []

    def broken(charge: Charge) -> None:
        raise RuntimeError("the box office is down")

    sandbox.subscribe(broken)
    sandbox.subscribe(heard.append)
    charge = sandbox.start(_request(clock))
    assert sandbox.approve(charge.charge_id).status is ChargeStatus.APPROVED
    assert [c.charge_id for c in heard] == [charge.charge_id]


def test_lapse_cancels_the_due_charges_and_tells_listeners(clock: ManualClock) -> None:
    """At expires_at, lapse() cancels each pending charge as expired, once."""
    sandbox = SandboxProvider(clock)
    heard: list[Charge] = []
    sandbox.subscribe(heard.append)
    due = sandbox.start(_request(clock, "a"))
    clock.advance(minutes=5)
    later = sandbox.start(_request(clock, "b"))
    clock.advance(minutes=5)
    assert [c.charge_id for c in sandbox.lapse()] == [due.charge_id]
    assert sandbox.lapse() == []
    assert sandbox.read(later.charge_id).status is ChargeStatus.PENDING
    assert [(c.charge_id, c.lapsed) for c in heard] == [(due.charge_id, True)]


class SlowClock(ManualClock):
    """A clock that takes a moment to read: it widens the window between the sandbox reading
    a charge's state and writing the new one, so a missing guard shows at once."""

    def now(self) -> datetime:
        time.sleep(0.002)
        return super().now()


class UnguardedSandbox(SandboxProvider):
    """The sandbox with its lock switched off: the control run's subject."""

    def __init__(self, clock: ManualClock):
        super().__init__(clock)
        self._lock = contextlib.nullcontext()  # type: ignore[assignment]


def _changes_heard_in_a_race(sandbox: SandboxProvider, clock: ManualClock) -> int:
    heard: list[Charge] = []
    sandbox.subscribe(heard.append)
    charge_id = sandbox.start(_request(clock)).charge_id
    gate = threading.Barrier(4)

    def settle(act: str) -> None:
        gate.wait()
        getattr(sandbox, act)(charge_id)

    threads = [threading.Thread(target=settle, args=(a,)) for a in ("approve", "cancel") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(heard)


def test_without_its_lock_racing_approvals_and_cancels_change_a_charge_twice() -> None:
    """Control run: with the lock off, threads released together settle one charge twice."""
    clock = SlowClock()
    raced = [_changes_heard_in_a_race(UnguardedSandbox(clock), clock) for _ in range(10)]
    assert max(raced) > 1


def test_racing_approvals_and_cancels_change_a_charge_once() -> None:
    """Threads approving and cancelling one charge at once settle it once: one change heard."""
    clock = SlowClock()
    raced = [_changes_heard_in_a_race(SandboxProvider(clock), clock) for _ in range(10)]
    assert raced == [1] * 10


def test_sandbox_pix_codes_look_like_br_codes(clock: ManualClock) -> None:
    """The copy-paste code is a BR Code for the amount, closed by its CRC16."""
    charge = SandboxProvider(clock).start(_request(clock))
    assert charge.pix is not None
    code = charge.pix.qr_code
    assert code.startswith("000201")
    assert "br.gov.bcb.pix" in code
    assert "540525.00" in code
    assert code[-8:-4] == "6304"
    assert crc16(code[:-4]) == code[-4:]


def test_the_checksum_is_crc16_ccitt_false() -> None:
    """The BR Code checksum is CRC-16/CCITT-FALSE (check value 29B1 for 123456789)."""
    assert crc16("123456789") == "29B1"
