"""PostgreSQL statements as client spans, from the engine's cursor events.

The engine's events rather than opentelemetry-instrumentation-psycopg: that one patches
``psycopg.connect`` for the whole process, while these belong to one engine; and the executor
(adapters/postgres/executor.py) fires them for the SQL texts it sends straight to psycopg too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

# Where a connection keeps the span of the statement it runs (one at a time per connection).
_SPAN = "cinema.otel.span"


def trace_statements(engine: sa.Engine, tracer: Tracer) -> None:
    database = engine.url.database or ""

    def before(conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        unfinished(conn)
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        conn.info[_SPAN] = tracer.start_span(
            f"{operation} {database}".rstrip(),
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": "postgresql",
                "db.namespace": database,
                "db.operation.name": operation,
                "db.query.text": statement,
            },
        )

    def after(conn: sa.Connection, *_: Any) -> None:
        span: Span | None = conn.info.pop(_SPAN, None)
        if span is not None:
            span.end()

    def unfinished(conn: sa.Connection, *_: Any) -> None:
        # The executor raises a statement's failure without the handle_error event (it maps
        # constraint names itself): a span still open at the next statement or at the rollback
        # that follows is one that failed.
        span: Span | None = conn.info.pop(_SPAN, None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, "statement failed"))
            span.end()

    def failed(context: sa.engine.ExceptionContext) -> None:
        conn = context.connection
        span: Span | None = None if conn is None else conn.info.pop(_SPAN, None)
        if span is not None:
            span.record_exception(context.original_exception)
            span.set_status(Status(StatusCode.ERROR, type(context.original_exception).__name__))
            span.end()

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    sa.event.listen(engine, "handle_error", failed)
    sa.event.listen(engine, "rollback", unfinished)
