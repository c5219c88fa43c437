"""The consumers' stores: the audit trail and the handled event ids, in memory and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from cinema_core import Event
from cinema_core.memory import InMemoryAuditTrail, InMemoryProcessedEvents

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
def audit(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryAuditTrail()
        return
    from adapters.postgres.audit import PostgresAuditTrail

    trail = PostgresAuditTrail(request.getfixturevalue("migrated_postgres_url"))
    yield trail
    trail.close()


@pytest.fixture(params=_params())
def processed(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryProcessedEvents()
        return
    from adapters.postgres.audit import PostgresProcessedEvents

    store = PostgresProcessedEvents(request.getfixturevalue("migrated_postgres_url"))
    yield store
    store.close()


def test_audit_keeps_each_event_once_newest_first(audit: Any) -> None:
    """Recording an event again (a redelivery) adds nothing; the trail reads newest first."""
    first, second = event(n=1), event("payment.confirmed", n=2)
    audit.record([first, second])
    audit.record([second])
    audit.record([])
    found = audit.events(type=None, session_id=None, before=None, limit=10)
    assert [e.envelope() for _, e in found] == [second.envelope(), first.envelope()]
    assert found[0][0] > found[1][0]


def test_audit_filters_by_type_and_session_and_pages_by_cursor(audit: Any) -> None:
    """type and session_id filter; ``before`` (the last seq seen) gives the next page."""
    other = uuid4()
    events = [event(n=n) for n in range(5)]
    events += [event("seat.released", n=5), event(session=other, n=6)]
    audit.record(events)

    by_type = audit.events(type="seat.released", session_id=None, before=None, limit=10)
    assert [e.id for _, e in by_type] == [events[5].id]
    by_session = audit.events(type=None, session_id=other, before=None, limit=10)
    assert [e.id for _, e in by_session] == [events[6].id]

    page = audit.events(type="reservation.created", session_id=SESSION, before=None, limit=2)
    rest = audit.events(
        type="reservation.created", session_id=SESSION, before=page[-1][0], limit=10
    )
    assert [e.data["n"] for _, e in page + rest] == [4, 3, 2, 1, 0]


def test_processed_ids_are_per_consumer_and_marking_twice_is_harmless(processed: Any) -> None:
    """What one consumer handled says nothing about another; marking again changes nothing."""
    a, b, c = uuid4(), uuid4(), uuid4()
    assert processed.seen("audit", [a, b]) == set()
    processed.mark("audit", [a, b])
    processed.mark("audit", [a, a])
    processed.mark("mailer", [])
    assert processed.seen("audit", [a, b, c]) == {a, b}
    assert processed.seen("mailer", [a, b, c]) == set()
    assert processed.seen("audit", []) == set()


@pytest.mark.postgres
def test_exactly_once_applies_each_event_once_in_the_marking_transaction(
    migrated_postgres_url: str,
) -> None:
    """A redelivered batch has no second effect; an effect that fails marks nothing."""
    import sqlalchemy as sa

    from adapters.postgres.audit import PostgresProcessedEvents

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
