"""Live seat changes as Server-Sent Events, fanned out from one subscription per process.

The stream opens with the seat map (``event: snapshot``), then sends one ``event: seats`` per
change of that session's seats, and ``: keepalive`` every 15 s of silence. Events arrive on the
publisher's thread; each is encoded once and handed to the event loop, which puts it on every
listener's bounded queue. A listener whose queue is full is dropped (its stream ends and the
client reconnects): a slow client never holds up the publisher or the other listeners.

When the feed may have missed changes (the live feed came back from a broker outage),
``resync`` puts a marker on every queue: the stream then reads the seat map afresh and sends it
as a new ``snapshot``. The map is read when the marker comes up, so it is newer than every
change queued before it, and changes queued after it are sent after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
from starlette.responses import Response, StreamingResponse

from cinema_core import CinemaError, Event, SessionNotFound
from cinema_core.events.envelopes import (
    PAYMENT_CONFIRMED,
    RESERVATION_CHANGED,
    RESERVATION_CREATED,
    SEAT_RELEASED,
)
from cinema_core.memory import InMemoryEventBus
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.responses import dump
from entrypoints.http.framework.threads import RequestThreads

from .seat_maps import SeatMap

log = logging.getLogger("cinema.stream")
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 256
_STATUS = {
    RESERVATION_CREATED: "held",
    RESERVATION_CHANGED: "held",
    PAYMENT_CONFIRMED: "sold",
    SEAT_RELEASED: "available",
}
# The field of each event that names the seats it changes: a changed hold newly holds only its
# ``added`` seats (the ones it dropped come as ``seat.released``, reason ``changed``).
_SEATS = {RESERVATION_CHANGED: "added"}


# On a listener's queue: read the seat map again and send it (see resync). No message is empty.
RESYNC = b""


@attrs.define(eq=False)
class Listener:
    """One open stream: its session and the messages waiting for it (None ends it)."""

    session_id: str
    queue: asyncio.Queue[bytes | None]
    dropped: bool = False


class SeatFeed:
    """The fan-out hub: listeners by session id, fed from ``local_events``."""

    def __init__(
        self,
        bus: InMemoryEventBus,
        *,
        keepalive: float = KEEPALIVE_SECONDS,
        queue_size: int = QUEUE_SIZE,
    ):
        self.keepalive = keepalive
        self._bus = bus
        self._queue_size = queue_size
        self._listeners: dict[str, set[Listener]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def listen(self, session_id: str) -> Listener:
        """A new listener (call on the event loop); the first one subscribes to the bus."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._bus.subscribe(self._on_event)
        listener = Listener(session_id, asyncio.Queue(self._queue_size))
        with self._lock:
            self._listeners.setdefault(session_id, set()).add(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        with self._lock:
            listeners = self._listeners.get(listener.session_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[listener.session_id]

    def close(self) -> None:
        """Unsubscribe and end every open stream (on shutdown)."""
        self._bus.unsubscribe(self._on_event)
        loop, self._loop = self._loop, None
        with self._lock:
            listeners = [x for group in self._listeners.values() for x in group]
        if loop is not None and not loop.is_closed():
            for listener in listeners:
                loop.call_soon_threadsafe(self._end, listener)

    def resync(self) -> None:
        """Every open stream sends a fresh snapshot (call from any thread)."""
        loop = self._loop
        if loop is None:
            return
        with self._lock:
            listeners = [x for group in self._listeners.values() for x in group]
        # A closed loop means the app is shutting down: nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._put_all, listeners, RESYNC)

    @property
    def listening(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._listeners.values())

    def _on_event(self, event: Event) -> None:
        status = _STATUS.get(event.type)
        session_id = event.session_id
        loop = self._loop
        if status is None or session_id is None or loop is None:
            return
        with self._lock:
            if session_id not in self._listeners:
                return
        seats = event.data.get(_SEATS.get(event.type, "seats"), ())
        if not seats:
            return
        changes = [{"label": label, "status": status} for label in seats]
        message = b"event: seats\ndata: " + dump({"session_id": session_id, "changes": changes})
        # A closed loop means the app is shutting down: nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._fan_out, session_id, message + b"\n\n")

    def _fan_out(self, session_id: str, message: bytes) -> None:
        with self._lock:
            listeners = list(self._listeners.get(session_id, ()))
        self._put_all(listeners, message)

    @staticmethod
    def _put_all(listeners: list[Listener], message: bytes) -> None:
        for listener in listeners:
            if listener.dropped:
                continue
            if listener.queue.full():
                listener.dropped = True
                log.warning(
                    "slow stream listener dropped", extra={"session_id": listener.session_id}
                )
            else:
                listener.queue.put_nowait(message)

    @staticmethod
    def _end(listener: Listener) -> None:
        listener.dropped = True
        if not listener.queue.full():
            listener.queue.put_nowait(None)


def _snapshot(seat_map: dict[str, Any]) -> bytes:
    return b"event: snapshot\ndata: " + dump(seat_map) + b"\n\n"


async def _messages(
    feed: SeatFeed,
    listener: Listener,
    first: dict[str, Any],
    read_map: Callable[[], Awaitable[dict[str, Any]]],
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 3000\n" + _snapshot(first)
        while not listener.dropped:
            try:
                message = await asyncio.wait_for(listener.queue.get(), feed.keepalive)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            if message is None:
                break
            if message == RESYNC:
                try:
                    message = _snapshot(await read_map())
                except CinemaError:
                    # The store cannot serve the map now: end the stream, and the client's
                    # reconnection (retry: 3000) starts again from a snapshot.
                    break
            yield message
    finally:
        feed.forget(listener)


async def stream_seats(call: Call) -> Response:
    # The app's one feed and its request threads (create_app puts them in its state).
    feed: SeatFeed = call.request.app.state.feed
    threads: RequestThreads = call.request.app.state.threads
    session_id = call.path_uuid("session_id", SessionNotFound)
    # Listen before reading the map, so no change falls between the two.
    listener = feed.listen(str(session_id))

    async def read_map() -> dict[str, Any]:
        return SeatMap.encode(await threads.run(call.services.box.seat_map, session_id))

    try:
        first = await read_map()
    except BaseException:
        feed.forget(listener)
        raise
    return StreamingResponse(
        _messages(feed, listener, first, read_map),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


OPERATIONS = (
    Operation(
        "GET",
        "/sessions/{session_id}/seats/stream",
        stream_seats,
        "Live seat changes (Server-Sent Events)",
        {
            200: Reply(
                "event: snapshot with the SeatMap, then event: seats per change "
                '(data: {"session_id", "changes": [{"label", "status"}]}); '
                "a ': keepalive' comment every 15 s; a fresh snapshot whenever the stream "
                "may have missed changes (the broker was away).",
                media="text/event-stream",
            )
        },
        tag="sessions",
    ),
)
