"""The exchange and queues the box office owns on RabbitMQ, and declaring them idempotently.

With namespace ``cinema`` (production) the exchange is exactly ``cinema.events``; tests give each
run its own namespace and delete what it declared. See TOPOLOGY.md for the picture.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from pika.adapters.blocking_connection import BlockingChannel

from cinema_core.consumers import Consumer

# Headers a runner sets on a message it sends to a retry or dead-letter queue.
ATTEMPTS_HEADER = "x-cinema-attempts"
REASON_HEADER = "x-cinema-reason"
CONSUMER_HEADER = "x-cinema-consumer"


def _delay_name(seconds: float) -> str:
    return f"{seconds:g}s"


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
        """The consumer's work queue with its bindings, its retry queues and its dead queue."""
        self.declare_exchange(channel)
        queue = self.queue(consumer.name)
        channel.queue_declare(queue, durable=True)
        for pattern in consumer.types:
            channel.queue_bind(queue, self.exchange, routing_key=pattern)
        for delay, retry in self.retry_queues(consumer):
            # An expired message is dead-lettered through the default exchange, whose routing
            # key is a queue name: straight back to this consumer's work queue only.
            channel.queue_declare(
                retry,
                durable=True,
                arguments={
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue,
                },
            )
        channel.queue_declare(self.dead_queue(consumer.name), durable=True)

    def delete(self, channel: BlockingChannel, consumers: Iterable[Consumer]) -> None:
        """Remove the consumers' queues and the exchange (tests clean up with this)."""
        for consumer in consumers:
            channel.queue_delete(self.queue(consumer.name))
            for _, retry in self.retry_queues(consumer):
                channel.queue_delete(retry)
            channel.queue_delete(self.dead_queue(consumer.name))
        channel.exchange_delete(self.exchange)
