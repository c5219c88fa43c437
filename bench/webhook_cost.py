"""What webhooks cost the worker per event: ``python -m bench.webhook_cost --database-url URL``.

No webhook code runs in an API process's request (the fan-out is a consumer, the sends are the
worker's loops), so what a sale pays is the worker's CPU for its events. This measures it in
one thread, as the worker's consumer and sender loops do the work: the fan-out of ``--events``
``payment.confirmed`` events (in batches of 50, as the consumer gets them) into deliveries in
PostgreSQL, then every send (signing, the POST to a null receiver in another process, recording
the attempt), by ``time.thread_time`` of this thread. Also the fan-out with no webhook
registered: what every deployment pays per event. PostgreSQL's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import os
import time
from uuid import uuid4

from adapters.postgres import upgrade
from adapters.postgres.webhooks import PostgresWebhookStore
from adapters.webhooks import HttpWebhookSender
from cinema_core import SystemClock
from cinema_core.events.envelopes import Event
from cinema_core.webhooks.use_cases import Webhooks
from entrypoints.worker import WEBHOOK_BATCH

from .null_server import NullServer

BATCH = 50


def payment_events(count: int, clock: SystemClock) -> list[Event]:
    """``count`` ``payment.confirmed`` events of one sale's shape, as the relay hands them over."""
    data = {
        "sale_id": str(uuid4()),
        "reservation_id": str(uuid4()),
        "session_id": str(uuid4()),
        "user_id": "bench-buyer",
        "seats": ["A1", "A2"],
        "amount": "50.00",
        "currency": "BRL",
    }
    return [Event(uuid4(), "payment.confirmed", clock.now(), data) for _ in range(count)]


def _fan_out(webhooks: Webhooks, events: list[Event]) -> float:
    started = time.thread_time()
    for at in range(0, len(events), BATCH):
        webhooks.fan_out(events[at : at + BATCH])
    return time.thread_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("CINEMA_DATABASE_URL"))
    parser.add_argument("--events", type=int, default=500)
    options = parser.parse_args()
    if not options.database_url:
        parser.error("--database-url (or CINEMA_DATABASE_URL) names a database to use")
    upgrade(options.database_url)
    clock = SystemClock()
    store = PostgresWebhookStore(options.database_url)
    sender = HttpWebhookSender(5.0)
    webhooks = Webhooks(store, sender, clock, allow_private=True)
    try:
        for webhook in webhooks.all():
            webhooks.remove(webhook.id)
        idle = _fan_out(webhooks, payment_events(options.events, clock))
        with NullServer() as port:
            hook = webhooks.register(f"http://127.0.0.1:{port}/hook", ["payment.confirmed"])
            events = payment_events(options.events, clock)
            fanned = _fan_out(webhooks, events)
            started, wall = time.thread_time(), time.perf_counter()
            while webhooks.send_due(WEBHOOK_BATCH):
                pass
            sending = time.thread_time() - started
            wall = time.perf_counter() - wall
            log = webhooks.deliveries(hook.id, None, 200)
            webhooks.remove(hook.id)
    finally:
        sender.close()
        store.close()
    per = 1000 / options.events
    delivered = sum(d.status == "delivered" for d in log)
    print(f"events: {options.events}, delivered: {delivered} of the last {len(log)} read")
    print(f"fan-out, no webhook registered : {idle * per:.3f} ms CPU per event")
    print(f"fan-out, one webhook           : {fanned * per:.3f} ms CPU per event")
    print(
        f"send + record attempt          : {sending * per:.3f} ms CPU per event "
        f"({options.events / wall:.0f} sends/s on one sender)"
    )
    print(f"worker total, one webhook      : {(fanned + sending) * per:.3f} ms CPU per event")


if __name__ == "__main__":
    main()
