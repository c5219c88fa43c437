"""The background worker: the expiry sweeper, the outbox relay and the webhook senders, each on
its own thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cinema_core.resilience.supervision import Loop

from .bootstrap import Services

log = logging.getLogger("cinema.worker")
SWEEP_EVERY = 0.2
RELAY_EVERY = 0.2
# After a commit wakes the relay it waits this long, so the commits of a busy moment go out in
# one pass (one outbox transaction) instead of one pass each; delivery may take seconds.
RELAY_COALESCE = 0.05
_BACKOFF = 1.0
# Webhook senders: each sends its claims one after another, so a receiver that takes the whole
# timeout holds up one sender, not the others. Idle, each looks for due deliveries this often.
WEBHOOK_SENDERS = 2
WEBHOOK_POLL = 0.25
# A batch's claim and the write of its attempts are one statement each, whatever its size; a
# receiver that times out holds the rest of its batch back by up to timeout × batch.
WEBHOOK_BATCH = 20


class BackgroundWorker:
    """Sweeps lapsed holds (their events go out well within 1 s of ``expires_at``) and relays
    committed events to the bus, waking at once when the store commits events.

    Both are supervised loops (``cinema_core.resilience.supervision``): any error is logged
    once, the loop backs off and carries on, and readiness names a loop that is dead, stuck or
    failing; ``stop`` ends both threads.
    """

    def __init__(
        self,
        services: Services,
        *,
        sweep_every: float = SWEEP_EVERY,
        relay_every: float = RELAY_EVERY,
        relay_coalesce: float = RELAY_COALESCE,
    ):
        self.services = services
        self.sweep_every = sweep_every
        self.relay_every = relay_every
        self.relay_coalesce = relay_coalesce
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._loops: list[Loop] = []

    def start(self) -> None:
        if self._loops:
            return
        self._stopping.clear()
        self._commit_hooks().append(self._committed)
        supervisor = self.services.supervisor
        bodies: list[tuple[str, Callable[[], None]]] = [
            ("sweeper", self._sweep),
            ("relay", self._relay),
        ]
        if self.services.box.pays_later():
            # Lost notices, lapsed holds' charges and refunds owed: read from the provider.
            bodies.append(("reconciler", self._reconcile))
        if self.services.webhooks is not None:
            bodies += [(f"webhooks-{n}", self._send_webhooks) for n in range(WEBHOOK_SENDERS)]
        for name, body in bodies:
            loop = supervisor.loop(
                f"cinema-{name}",
                body,
                first_backoff=_BACKOFF,
                # Holds must lapse within a second or two of their time: after an outage the
                # loops try again every two seconds at most, not the default ten.
                max_backoff=2 * _BACKOFF,
                stopping=self._stopping,
            )
            loop.start()
            self._loops.append(loop)
        if self.services.events is not None:
            self.services.events.start_consumers()
        log.info("worker started", extra={"sweep_every": self.sweep_every})

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        hooks = self._commit_hooks()
        if self._committed in hooks:
            hooks.remove(self._committed)
        for loop in self._loops:
            loop.stop(timeout)
        self._loops.clear()
        # A last pass, so events committed just before the stop still go out.
        self._guarded(self.services.relay.run_once)
        if self.services.events is not None:
            self.services.events.stop_consumers()
        log.info("worker stopped")

    def run_forever(self) -> None:
        """Start and block until ``stop`` is called (from a signal handler, say)."""
        self.start()
        self._stopping.wait()

    def _commit_hooks(self) -> list[Callable[[], None]]:
        # The in-memory store calls these after a commit that emitted events; stores without
        # the hook are simply polled.
        hooks: list[Callable[[], None]] = getattr(self.services.box.repo, "on_commit", [])
        return hooks

    def _committed(self) -> None:
        # Runs after every commit that emitted events, on the buyer's thread: while a wake-up
        # is pending it costs one attribute read, not Event.set's lock and notify.
        if not self._wake.is_set():
            self._wake.set()

    def _sweep(self) -> None:
        expired = self.services.box.expire_due(500)
        if expired:
            # Their events are in the outbox now: relay them at once, not on the next tick
            # (stores without a commit hook would otherwise wait up to relay_every).
            self._wake.set()
        if expired < 500:
            self._stopping.wait(self.sweep_every)

    def _reconcile(self) -> None:
        looked_at = self.services.box.reconcile_payments()
        if looked_at == 0:
            # Every pending payment was heard of within the interval: look again in a while
            # (never longer than a tenth of it, so a lapsed hold's charge is cancelled soon).
            every = self.services.settings.payment_reconcile_seconds
            self._stopping.wait(min(every / 10, 5.0))

    def _send_webhooks(self) -> None:
        assert self.services.webhooks is not None
        if self.services.webhooks.send_due(WEBHOOK_BATCH) < WEBHOOK_BATCH:
            self._stopping.wait(WEBHOOK_POLL)

    def _relay(self) -> None:
        if self._wake.wait(self.relay_every) and self.relay_coalesce > 0:
            # Woken by a commit: let the commits right behind it join this pass.
            self._stopping.wait(self.relay_coalesce)
        self._wake.clear()
        while not self._stopping.is_set() and self.services.relay.run_once():
            pass

    @staticmethod
    def _guarded(work: Callable[..., int], *args: int) -> int | None:
        try:
            return work(*args)
        except Exception:
            log.exception("background work failed; carrying on", extra={"work": work.__name__})
            return None
