"""The consumers' handled event ids, in PostgreSQL.

Idempotent by event id through the table's key: marking an event handled twice leaves one row,
so a redelivery has no second effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection, Engine

from cinema_core.events.envelopes import Event

from . import rows
from .driver_errors import unavailable
from .engine import engine_for
from .executor import Executor
from .sql.processed import MARK_EVENTS, SEEN_EVENTS
from .tables import processed_events


class PostgresProcessedEvents:
    """The ``ProcessedEvents`` port on the ``processed_events`` table."""

    def __init__(self, engine_or_url: Engine | str):
        self.engine, self._owns_engine = engine_for(engine_or_url)
        # For work that is one statement: atomic by itself, so no BEGIN and COMMIT round trips.
        self._single = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _one(self, doing: str, sql: str, params: dict[str, Any]) -> list[Any]:
        """Run one statement on its own (autocommit); its rows' first column, if it returns
        any. The statements (sql.processed) are fixed texts, prepared by psycopg after a few
        uses."""
        try:
            with self._single.connect() as connection:
                cursor = Executor(connection).execute(sql, params)
                return [row[0] for row in cursor] if cursor.description else []
        except sa.exc.SQLAlchemyError as error:
            raise unavailable(error, doing) from error

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

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
