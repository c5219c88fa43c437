"""Structured logs: JSON lines (or text) on stderr, with ``extra=`` fields kept as keys."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from cinema_core import Event
from cinema_core.ports import EventBus

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
events_log = logging.getLogger("cinema.events")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class TextFormatter(logging.Formatter):
    """Human lines with the extra fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return text


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every log (uvicorn's included) through one handler on stderr, as JSON lines or
    (``fmt="text"``, the default on a terminal: see ``Settings``) as text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Ours replaces uvicorn's access log (it knows the route template and the user).
    logging.getLogger("uvicorn.access").disabled = True
    # pika logs an ERROR for every connection it loses or fails to open; an outage is said
    # once, as a WARNING, by cinema.backends, and the relay retries on its own.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    # Alembic says at INFO which plugins it set up and which dialect it found, each time the
    # schema is checked: seven lines of noise at every start. `cinema migrate` says what
    # it applied itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def log_event(event: Event) -> None:
    """Log one published domain event at INFO."""
    events_log.info(
        "%s",
        event.type,
        extra={"event_id": str(event.id), "event_type": event.type, "data": event.data},
    )


class LoggedBus:
    """An ``EventBus`` that logs each event once it is published.

    The relay publishes through it: one relay at a time publishes any event, so each event is
    logged once across every process, where logging what each process's live feed brings back
    logged it once per process.
    """

    def __init__(self, bus: EventBus):
        self.bus = bus

    def publish(self, events: Sequence[Event]) -> None:
        self.bus.publish(events)
        if events_log.isEnabledFor(logging.INFO):
            for event in events:
                log_event(event)
