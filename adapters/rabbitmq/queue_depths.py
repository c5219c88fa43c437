"""How many events wait in each consumer's queue: the consumers' lag, as GET /metrics shows it."""

from __future__ import annotations

from collections.abc import Iterable

import pika.exceptions

from .connection import close_quietly, connect, translated
from .topology import Topology


def queue_depths(url: str, consumers: Iterable[str], topology: Topology) -> dict[str, int]:
    """Messages ready in each consumer's queue (one not declared yet is left out), read with
    passive declares on a connection of its own: a scrape never waits on the publisher's."""
    connection = connect(url)
    depths: dict[str, int] = {}
    try:
        with translated("cannot read the consumers' queues"):
            channel = connection.channel()
            for consumer in consumers:
                try:
                    declared = channel.queue_declare(topology.queue(consumer), passive=True)
                except pika.exceptions.ChannelClosedByBroker:
                    # Not there (404) closes the channel: the others on a fresh one.
                    channel = connection.channel()
                    continue
                depths[consumer] = int(declared.method.message_count)
    finally:
        close_quietly(connection)
    return depths
