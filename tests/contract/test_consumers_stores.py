"""The consumers' handled event ids, in memory and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from cinema_core import Event
from cinema_core.memory import InMemoryProcessedEvents

SESSION = uuid4()


def event(type: str = "reservation.created", session: Any = SESSION, n: int = 0) -> Event:
    return Event(
        uuid4(),
        type,
        datetime(2026, 11, 1, 12, 0, n, tzinfo=UTC),
        {"session_id": str(session), "seats": ["A1"], "n": n},
    )


def _params() -> list[Any]:
    return [
        pytest.param("memory", id="memory"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]


@pytest.fixture(params=_params())
def processed(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryProcessedEvents()
        return
    from adapters.postgres.processed import PostgresProcessedEvents

    store = PostgresProcessedEvents(request.getfixturevalue("migrated_postgres_url"))
    yield store
    store.close()


def test_processed_ids_are_per_consumer_and_marking_twice_is_harmless(processed: Any) -> None:
    """What one consumer handled says nothing about another; marking again changes nothing."""
    a, b, c = uuid4(), uuid4(), uuid4()
    assert processed.seen("webhooks", [a, b]) == set()
    processed.mark("webhooks", [a, b])
    processed.mark("webhooks", [a, a])
    processed.mark("mailer", [])
    assert processed.seen("webhooks", [a, b, c]) == {a, b}
    assert processed.seen("mailer", [a, b, c]) == set()
    assert processed.seen("webhooks", []) == set()


@pytest.mark.postgres
def test_exactly_once_applies_each_event_once_in_the_marking_transaction(
    migrated_postgres_url: str,
) -> None:
    """A redelivered batch has no second effect; an effect that fails marks nothing."""
    import sqlalchemy as sa

    from adapters.postgres.processed import PostgresProcessedEvents

    store = PostgresProcessedEvents(migrated_postgres_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE ledger (event_id uuid NOT NULL)"))
        fail = {"now": False}

        def effect(conn: Any, events: Any) -> None:
            for e in events:
                conn.execute(sa.text("INSERT INTO ledger VALUES (:id)"), {"id": e.id})
            if fail["now"]:
                raise ValueError("effect failed")

        handle = store.exactly_once("ledger", effect)
        first, second, third = event(n=1), event(n=2), event(n=3)
        handle([first, second])
        handle([second, first, third])
        fail["now"] = True
        fourth = event(n=4)
        with pytest.raises(ValueError, match="effect failed"):
            handle([fourth])

        with store.engine.connect() as conn:
            ids = conn.scalars(sa.text("SELECT event_id FROM ledger")).all()
        assert sorted(map(str, ids)) == sorted(str(e.id) for e in (first, second, third))
        assert store.seen("ledger", [fourth.id]) == set()
    finally:
        store.close()
