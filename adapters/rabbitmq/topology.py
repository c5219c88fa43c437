"""The exchange and queues the box office owns on RabbitMQ, and declaring them idempotently.

With namespace ``cinema`` (production) the exchange is exactly ``cinema.events``; tests give each
run its own namespace and delete what it declared. See TOPOLOGY.md for the picture.

Every queue a consumer owns is a quorum queue: on one node it behaves as a durable queue, on a
cluster it is replicated (Raft) over the nodes, so a broker node lost keeps no message hostage.
Only each API process's live-feed queue stays classic (exclusive queues cannot be quorum, and
it dies with its process anyway).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from pika.adapters.blocking_connection import BlockingChannel

from cinema_core.events.consumers import Consumer

# Headers a runner sets on a message it sends to a retry or dead-letter queue.
ATTEMPTS_HEADER = "x-cinema-attempts"
REASON_HEADER = "x-cinema-reason"
CONSUMER_HEADER = "x-cinema-consumer"


QUORUM = {"x-queue-type": "quorum"}
# Dead-lettering that the broker retries until the target queue has confirmed the message
# (quorum queues only; it needs ``reject-publish`` overflow). The default, at-most-once, would
# drop a message that expired from a retry queue while the work queue could not take it.
AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
# Consumers the box office once ran and runs no more (``audit``: the audit trail is the outbox's
# published rows since migration 0013). Their work queues are still bound to the exchange, so
# left alone they would keep a copy of every event forever. Only their names are used (the queues'
# names follow from the name and the default backoff); the handler is never called.
RETIRED_CONSUMERS = (Consumer("audit", ["#"], handle=print),)


def _delay_name(seconds: float) -> str:
    return f"{seconds:g}s"


def _dead_letters_to(queue: str) -> dict[str, object]:
    # Through the default exchange, whose routing key is a queue name: to that queue only.
    return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue, **AT_LEAST_ONCE}


@attrs.frozen
class Topology:
    """Names (all under ``namespace``) and their declaration."""

    namespace: str = "cinema"

    @property
    def exchange(self) -> str:
        """The topic exchange every event is published to, routing key = event type."""
        return f"{self.namespace}.events"

    def queue(self, consumer: str) -> str:
        """A consumer group's work queue, bound to the exchange with its event types."""
        return f"{self.namespace}.{consumer}"

    def retry_queue(self, consumer: str, delay: float) -> str:
        """Where a failed message waits ``delay`` seconds before going back to the work queue.

        Named after its delay, not its position, so a changed schedule declares new queues
        instead of clashing with the arguments of the old ones.
        """
        return f"{self.namespace}.{consumer}.retry.{_delay_name(delay)}"

    def dead_queue(self, consumer: str) -> str:
        """Where messages a consumer gave up on are kept, with the reason in their headers."""
        return f"{self.namespace}.{consumer}.dead"

    def retry_queues(self, consumer: Consumer) -> list[tuple[float, str]]:
        """The consumer's distinct retry delays and their queues, in schedule order."""
        seen: dict[float, str] = {}
        for delay in consumer.retry_delays:
            seen.setdefault(delay, self.retry_queue(consumer.name, delay))
        return list(seen.items())

    def declare_exchange(self, channel: BlockingChannel) -> None:
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)

    def declare_consumer(self, channel: BlockingChannel, consumer: Consumer) -> None:
        """The consumer's work queue with its bindings, its retry queues and its dead queue.

        A queue declared before as a classic queue (or with other arguments) makes the broker
        refuse with PRECONDITION_FAILED, which reaches the caller as a channel error: see
        TOPOLOGY.md for what an operator upgrading does about it.
        """
        self.declare_exchange(channel)
        queue = self.queue(consumer.name)
        dead = self.dead_queue(consumer.name)
        # The runner never rejects, but RabbitMQ 4 gives quorum queues a delivery limit (20):
        # a message returned that often (a consumer crashing on it, or a long outage of a
        # backend its handler needs) goes to the dead queue instead of being dropped.
        channel.queue_declare(queue, durable=True, arguments={**QUORUM, **_dead_letters_to(dead)})
        for pattern in consumer.types:
            channel.queue_bind(queue, self.exchange, routing_key=pattern)
        for delay, retry in self.retry_queues(consumer):
            # A message waits out its delay here, then expires straight back to this
            # consumer's work queue only.
            channel.queue_declare(
                retry,
                durable=True,
                arguments={
                    **QUORUM,
                    "x-message-ttl": round(delay * 1000),
                    **_dead_letters_to(queue),
                },
            )
        self.declare_dead_queue(channel, consumer.name)

    def declare_dead_queue(self, channel: BlockingChannel, consumer: str) -> None:
        """The queue of messages ``consumer`` gave up on (kept until someone looks)."""
        channel.queue_declare(self.dead_queue(consumer), durable=True, arguments=QUORUM)

    def retire(self, channel: BlockingChannel, keep: Iterable[str] = ()) -> None:
        """Delete the work and retry queues of ``RETIRED_CONSUMERS`` but those named in
        ``keep`` (a library user's own consumer of that name); a no-op where there are none.
        Their dead queues stay: bound to nothing, they keep what an operator may still want to
        read, until deleted by hand (TOPOLOGY.md). The consumer runner calls this: it knows
        every consumer of its process, which the publishers of an API process do not."""
        kept = set(keep)
        for consumer in RETIRED_CONSUMERS:
            if consumer.name in kept:
                continue
            channel.queue_delete(self.queue(consumer.name))
            for _, retry in self.retry_queues(consumer):
                channel.queue_delete(retry)

    def delete(self, channel: BlockingChannel, consumers: Iterable[Consumer]) -> None:
        """Remove the consumers' queues and the exchange (tests clean up with this)."""
        for consumer in consumers:
            channel.queue_delete(self.queue(consumer.name))
            for _, retry in self.retry_queues(consumer):
                channel.queue_delete(retry)
            channel.queue_delete(self.dead_queue(consumer.name))
        channel.exchange_delete(self.exchange)
