"""The audit trail and the consumers' handled event ids, in PostgreSQL.

Both are idempotent by event id through their keys: recording an event twice, or marking it
handled twice, leaves one row, so a redelivery has no second effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection, Engine

from cinema_core.events.envelopes import Event

from . import rows
from .driver_errors import unavailable
from .engine import engine_for
from .executor import Executor
from .sql.audit import MARK_EVENTS, RECORD_EVENTS, SEEN_EVENTS
from .tables import audit_events, newest_events, processed_events

T = TypeVar("T")


class _Database:
    def __init__(self, engine_or_url: Engine | str):
        self.engine, self._owns_engine = engine_for(engine_or_url)
        # For work that is one statement: atomic by itself, so no BEGIN and COMMIT round trips.
        self._single = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _run(self, doing: str, work: Callable[[Executor], T]) -> T:
        try:
            with self.engine.begin() as connection:
                return work(Executor(connection))
        except sa.exc.SQLAlchemyError as error:
            raise unavailable(error, doing) from error

    def _one(self, doing: str, sql: str, params: dict[str, Any]) -> list[Any]:
        """Run one statement on its own (autocommit); its rows' first column, if it returns
        any. The statements (sql.audit) are fixed texts, prepared by psycopg after a few uses."""
        try:
            with self._single.connect() as connection:
                cursor = Executor(connection).execute(sql, params)
                return [row[0] for row in cursor] if cursor.description else []
        except sa.exc.SQLAlchemyError as error:
            raise unavailable(error, doing) from error

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()


class PostgresAuditTrail(_Database):
    """The ``AuditTrail`` port on the ``audit_events`` table."""

    def record(self, events: Sequence[Event]) -> None:
        if not events:
            return
        # The event id is recorded in the same statement as the effect (it is the row's key),
        # so a redelivered batch inserts nothing new. Order within the batch is kept in seq.
        self._one("recording the audit trail", RECORD_EVENTS, {"events": rows.events_json(events)})

    def events(
        self, *, type: str | None, session_id: UUID | None, before: int | None, limit: int
    ) -> list[tuple[int, Event]]:
        query = newest_events(
            audit_events,
            type=type,
            session_id=None if session_id is None else str(session_id),
            before=before,
            limit=limit,
        )
        found = self._run("reading the audit trail", lambda db: db.core(query).mappings().all())
        return [(row["seq"], rows.event_from_row(row)) for row in found]


class PostgresProcessedEvents(_Database):
    """The ``ProcessedEvents`` port on the ``processed_events`` table."""

    def seen(self, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
        if not event_ids:
            return set()
        found = self._one(
            "reading handled events",
            SEEN_EVENTS,
            {"consumer": consumer, "ids": rows.array(event_ids)},
        )
        return set(found)

    def mark(self, consumer: str, event_ids: Sequence[UUID]) -> None:
        if not event_ids:
            return
        self._one(
            "recording handled events",
            MARK_EVENTS,
            {"consumer": consumer, "ids": rows.array(dict.fromkeys(event_ids))},
        )

    def exactly_once(
        self, consumer: str, effect: Callable[[Connection, Sequence[Event]], None]
    ) -> Callable[[Sequence[Event]], None]:
        """A batch handler applying ``effect`` in the same transaction that marks the events
        handled, to those not marked before: a redelivery has no second effect, even after a
        crash between the two. Register it with ``idempotent=True``::

            handle = processed.exactly_once("ledger", lambda conn, events: ...)
            Consumer("ledger", ["payment.confirmed"], handle_batch=handle, idempotent=True)
        """

        def handle(events: Sequence[Event]) -> None:
            if not events:
                return
            claim = (
                pg.insert(processed_events)
                .values(
                    [
                        {"consumer": consumer, "event_id": id, "processed_at": sa.func.now()}
                        for id in dict.fromkeys(e.id for e in events)
                    ]
                )
                # A concurrent claim of the same id waits for the other transaction: after
                # its commit this one skips the id, after its rollback this one takes it.
                .on_conflict_do_nothing()
                .returning(processed_events.c.event_id)
            )

            def work(connection: Connection) -> None:
                # The claim through the executor; the effect is the consumer's own SQL.
                claimed = set(Executor(connection).core(claim).scalars().all())
                fresh = [e for e in events if e.id in claimed]
                if fresh:
                    effect(connection, fresh)

            try:
                with self.engine.begin() as connection:
                    work(connection)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                # The database is down: not the events' fault, so the runner pauses rather
                # than count an attempt. Any other error is the effect's, retried as usual.
                raise unavailable(error, f"handling events for {consumer}") from error

        return handle
