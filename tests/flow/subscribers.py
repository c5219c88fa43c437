"""A subscriber of the events exchange, as any consumer of the box office's events would be."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pika

from adapters.rabbitmq.codec import decode
from cinema_core.events.envelopes import Event


class Subscriber:
    """An exclusive queue bound to ``exchange`` with ``keys``, read on a thread of its own:
    each event, decoded, is handed to ``heard`` in arrival order until ``stop``."""

    def __init__(self, url: str, exchange: str, heard: Callable[[Event], None], *keys: str) -> None:
        self._heard = heard
        self._keys = keys or ("#",)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, exchange), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the subscriber did not start"

    def _run(self, url: str, exchange: str) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True).method.queue
        for key in self._keys:
            channel.queue_bind(queue, exchange, routing_key=key)

        def on_message(ch: Any, method: Any, properties: Any, body: bytes) -> None:
            self._heard(decode(body))

        channel.basic_consume(queue, on_message, auto_ack=True)
        self._ready.set()
        while not self._stop.is_set():
            connection.process_data_events(time_limit=0.05)
        connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
