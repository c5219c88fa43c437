"""Reading a consumer's dead-letter queue: what it gave up on, why, after how many attempts."""

from __future__ import annotations

from cinema_core.events.consumers import DeadLetter

from .codec import decode
from .connection import close_quietly, connect, translated
from .topology import ATTEMPTS_HEADER, REASON_HEADER, Topology


def peek_dead_letters(
    url: str, consumer: str, topology: Topology | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Up to ``limit`` dead letters of ``consumer``, oldest first, left in their queue."""
    topology = topology or Topology()
    connection = connect(url)
    found: list[DeadLetter] = []
    try:
        with translated("cannot read the dead-letter queue"):
            channel = connection.channel()
            queue = topology.dead_queue(consumer)
            topology.declare_dead_queue(channel, consumer)
            for _ in range(limit):
                method, properties, body = channel.basic_get(queue, auto_ack=False)
                if method is None:
                    break
                headers = properties.headers or {}
                attempts = headers.get(ATTEMPTS_HEADER, 0)
                reason = headers.get(REASON_HEADER, b"")
                found.append(
                    DeadLetter(
                        consumer,
                        decode(body),
                        reason.decode() if isinstance(reason, bytes) else str(reason),
                        int(attempts),
                    )
                )
            # Closing the channel unacked puts every message back, in order.
            channel.close()
    finally:
        close_quietly(connection)
    return found
