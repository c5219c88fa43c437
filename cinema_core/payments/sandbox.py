"""The sandbox: an in-process Pix provider for demos and tests, paid or declined by hand.

It keeps its charges in memory (one process's; ``cinema serve --demo`` runs one), behaves like
Mercado Pago where the box office can tell (idempotency keys, lapsing at ``expires_at`` by its
clock, partial refunds, the same errors), and plays the buyer's bank through ``approve`` and
``decline``. Whoever must hear of a change (the box office, in place of a webhook) subscribes a
listener: it is called with the charge after every change, outside the sandbox's lock, in the
thread that made the change.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import attrs

from cinema_core.kernel.clock import Clock
from cinema_core.kernel.money import Money
from cinema_core.payments.brcode import sandbox_brcode
from cinema_core.payments.charges import Charge, ChargeRequest, ChargeStatus, Pix
from cinema_core.payments.errors import ChargeNotFound, RefundRefused

log = logging.getLogger("cinema.payments")

# A 1×1 grey PNG: the sandbox draws no QR image (the core imports no QR library); pages draw
# the QR from the copy-paste code, which works for every provider alike.
PLACEHOLDER_QR_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGM4AAAAwgDBUl5XUQAAAABJRU5ErkJggg=="
)

Listener = Callable[[Charge], None]


class SandboxProvider:
    """A thread-safe ``PaymentProvider`` held in memory, with the bank's hand controls."""

    name = "sandbox"

    def __init__(self, clock: Clock, ticket_url_base: str = "https://sandbox.invalid/pix"):
        self._clock = clock
        self._ticket_url_base = ticket_url_base.rstrip("/")
        self._lock = threading.Lock()
        self._charges: dict[str, Charge] = {}
        self._by_key: dict[str, str] = {}
        self._refund_keys: set[tuple[str, str]] = set()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(charge)`` after every change of a charge from now on."""
        with self._lock:
            self._listeners.append(listener)

    # The port.

    def start(self, request: ChargeRequest) -> Charge:
        with self._lock:
            known = self._by_key.get(request.idempotency_key)
            if known is not None:
                charge, changed = self._current(known)
            else:
                charge_id = uuid.uuid4().hex
                charge = Charge(
                    charge_id=charge_id,
                    reference=request.payment_id,
                    status=ChargeStatus.PENDING,
                    amount=request.amount,
                    refunded=Money(0, request.amount.currency),
                    expires_at=request.expires_at,
                    pix=Pix(
                        qr_code=sandbox_brcode(charge_id, request.amount),
                        qr_code_base64=PLACEHOLDER_QR_PNG,
                        ticket_url=f"{self._ticket_url_base}/{charge_id}",
                    ),
                    detail="pending_waiting_transfer",
                )
                self._charges[charge_id] = charge
                self._by_key[request.idempotency_key] = charge_id
                changed = []
        self._tell(changed)
        return charge

    def read(self, charge_id: str) -> Charge:
        with self._lock:
            charge, changed = self._current(charge_id)
        self._tell(changed)
        return charge

    def cancel(self, charge_id: str) -> Charge:
        return self._settle(charge_id, ChargeStatus.CANCELLED, "by_collector")

    def refund(self, charge_id: str, amount: Money, idempotency_key: str) -> Charge:
        with self._lock:
            charge, changed = self._current(charge_id)
            if (charge_id, idempotency_key) not in self._refund_keys:
                left = charge.refundable
                if amount.cents <= 0 or amount.currency != left.currency:
                    raise RefundRefused(charge_id, f"cannot refund {amount} {amount.currency}")
                if amount.cents > left.cents:
                    raise RefundRefused(charge_id, f"{amount} asked, {left} left to refund")
                refunded = charge.refunded + amount
                whole = refunded.cents == charge.amount.cents
                charge = attrs.evolve(
                    charge,
                    refunded=refunded,
                    status=ChargeStatus.REFUNDED if whole else charge.status,
                    detail="refunded" if whole else charge.detail,
                )
                self._charges[charge_id] = charge
                self._refund_keys.add((charge_id, idempotency_key))
                changed.append(charge)
        self._tell(changed)
        return charge

    # The bank's hand controls.

    def approve(self, charge_id: str) -> Charge:
        """The buyer paid: a pending charge turns ``approved``; any other stays as it is (a
        lapsed or cancelled Pix can no longer be paid)."""
        return self._settle(charge_id, ChargeStatus.APPROVED, "accredited")

    def decline(self, charge_id: str) -> Charge:
        """The bank said no: a pending charge turns ``declined``; any other stays as it is."""
        return self._settle(charge_id, ChargeStatus.DECLINED, "rejected_by_bank")

    def pending(self) -> list[Charge]:
        """The charges still waiting for the bank, oldest first (lapsed ones cancelled first):
        what an admin may approve or decline."""
        with self._lock:
            changed = []
            for charge_id in list(self._charges):
                changed += self._current(charge_id)[1]
            waiting = [c for c in self._charges.values() if c.status is ChargeStatus.PENDING]
        self._tell(changed)
        return waiting

    def lapse(self) -> list[Charge]:
        """Cancel, as ``expired``, every pending charge whose ``expires_at`` has passed by the
        clock, and answer them. (Every other call lapses the charge it touches on its own.)"""
        with self._lock:
            changed = []
            for charge_id in list(self._charges):
                changed += self._current(charge_id)[1]
        self._tell(changed)
        return changed

    # Inside the lock.

    def _current(self, charge_id: str) -> tuple[Charge, list[Charge]]:
        """The charge, lapsed first if its time ran out, and the changes made to it."""
        charge = self._charges.get(charge_id)
        if charge is None:
            raise ChargeNotFound(charge_id)
        due = charge.expires_at is not None and self._clock.now() >= charge.expires_at
        if charge.status is ChargeStatus.PENDING and due:
            charge = attrs.evolve(charge, status=ChargeStatus.CANCELLED, detail="expired")
            self._charges[charge_id] = charge
            return charge, [charge]
        return charge, []

    def _settle(self, charge_id: str, status: ChargeStatus, detail: str) -> Charge:
        with self._lock:
            charge, changed = self._current(charge_id)
            if charge.status is ChargeStatus.PENDING:
                charge = attrs.evolve(charge, status=status, detail=detail)
                self._charges[charge_id] = charge
                changed.append(charge)
        self._tell(changed)
        return charge

    def _tell(self, changed: list[Charge]) -> None:
        if not changed:
            return
        with self._lock:
            listeners = list(self._listeners)
        for charge in changed:
            for listener in listeners:
                try:
                    listener(charge)
                except Exception:
                    # A listener that fails is a lost notification: reconciliation reads the
                    # charge later. It must not undo the change the bank already made.
                    log.exception("a sandbox listener failed on charge %s", charge.charge_id)
