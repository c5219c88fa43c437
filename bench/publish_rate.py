"""How fast one relay's bus gets events into RabbitMQ: ``python -m bench.publish_rate``.

All events leave through one relay at a time (an advisory lock), so the bus's ``publish`` is the
ceiling of the whole chain's event rate. This publishes ``--rounds`` rounds of ``--batches``
batches of ``--batch`` ``payment.confirmed`` events through ``RabbitEventBus``, as the relay
hands them over, into an exchange of its own with the box office's one durable consumer queue
(``webhooks``, a quorum queue bound with ``#``) declared, and prints events/s by wall time and
the publishing thread's CPU per event (``time.thread_time``). The broker's own CPU is not
counted. Everything it declared is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import time
from uuid import uuid4

from adapters.rabbitmq import RabbitEventBus, Topology
from cinema_core import SystemClock
from cinema_core.events.consumers import Consumer

from .webhook_cost import payment_events

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp-url", default=os.environ.get("CINEMA_BENCH_AMQP_URL", AMQP_URL))
    parser.add_argument("--batch", type=int, default=500, help="events a batch (default 500)")
    parser.add_argument("--batches", type=int, default=3, help="batches a round (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    options = parser.parse_args()
    clock = SystemClock()
    topology = Topology(f"bench_{uuid4().hex[:10]}")
    consumer = Consumer("webhooks", ["#"], handle_batch=lambda events: None, idempotent=True)
    bus = RabbitEventBus(options.amqp_url, topology, [consumer])
    try:
        bus.publish(payment_events(1, clock))  # connects and declares, outside the figures
        for round in range(1, options.rounds + 1):
            batches = [payment_events(options.batch, clock) for _ in range(options.batches)]
            count = options.batch * options.batches
            wall, cpu = time.perf_counter(), time.thread_time()
            for batch in batches:
                bus.publish(batch)
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            print(
                f"round {round}: {count} events in batches of {options.batch}:"
                f" {count / wall:,.0f} events/s, {cpu / count * 1e6:.0f} µs of CPU an event"
            )
    finally:
        bus.close()
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(options.amqp_url))
        try:
            topology.delete(connection.channel(), [consumer])
        finally:
            connection.close()


if __name__ == "__main__":
    main()
