"""The PostgreSQL idempotency store beyond the port suite: leases of claimants that died, the
purge of day-old keys, and an unreachable database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.postgres import PostgresIdempotencyStore
from cinema_core import BackendUnavailable, IdempotencyInProgress, IdempotencyKeyReused, ManualClock
from cinema_core.ports import StoredAnswer

pytestmark = pytest.mark.postgres

ANSWER = StoredAnswer(201, b'{"id": "r1"}')


@pytest.fixture
def store(clean_postgres_url: str, clock: ManualClock) -> Iterator[PostgresIdempotencyStore]:
    # Never renewed: its claims stand for a process that died (the clock is the test's).
    store = PostgresIdempotencyStore(
        clean_postgres_url, clock, wait=0.2, lease=timedelta(seconds=60), renew_every=None
    )
    yield store
    store.close()


def test_a_claim_whose_lease_lapsed_is_taken_over_by_one_duplicate(
    store: PostgresIdempotencyStore, clock: ManualClock
) -> None:
    """A claimant that never finishes (its process died) loses the key once its lease lapses:
    the next duplicate runs the request, and the one after waits for that one's answer."""
    assert store.begin("u1", "k", "fp") is None
    with pytest.raises(IdempotencyInProgress):
        store.begin("u1", "k", "fp")
    clock.advance(61)
    assert store.begin("u1", "k", "fp") is None
    with pytest.raises(IdempotencyInProgress):
        store.begin("u1", "k", "fp")
    store.finish("u1", "k", "fp", ANSWER)
    assert store.begin("u1", "k", "fp") == ANSWER


def test_keys_are_kept_a_day_and_purged_after(
    clean_postgres_url: str, store: PostgresIdempotencyStore, clock: ManualClock
) -> None:
    """A key answered more than 24 h ago is forgotten by the opportunistic purge; a newer one
    is still remembered (its reuse with another body is refused)."""
    store.begin("u1", "old", "fp")
    store.finish("u1", "old", "fp", ANSWER)
    clock.advance(hours=23)
    store.begin("u1", "new", "fp")
    store.finish("u1", "new", "fp", ANSWER)
    clock.advance(hours=2)
    # Another process: its first call purges (each process purges at most once a minute).
    other = PostgresIdempotencyStore(clean_postgres_url, clock, wait=0.2)
    try:
        assert other.begin("u1", "old", "another body") is None
        with pytest.raises(IdempotencyKeyReused):
            other.begin("u1", "new", "another body")
    finally:
        other.close()


def test_an_unreachable_database_is_backend_unavailable(clock: ManualClock) -> None:
    """No server at the address: BackendUnavailable, which the Redis fallback understands."""
    store = PostgresIdempotencyStore("postgresql+psycopg://postgres@127.0.0.1:1/x", clock)
    try:
        with pytest.raises(BackendUnavailable):
            store.begin("u1", "k", "fp")
    finally:
        store.close()


@pytest.mark.parametrize("renewed", [False, True], ids=["control-unrenewed", "renewed"])
def test_a_live_claimant_keeps_its_claim_past_the_lease(
    clean_postgres_url: str, renewed: bool
) -> None:
    """A claimant still running renews its short lease, so no duplicate takes the request over
    however long it runs; control: unrenewed (a process that died), the duplicate takes over."""
    lease = timedelta(milliseconds=400)
    holder = PostgresIdempotencyStore(
        clean_postgres_url, lease=lease, renew_every=0.05 if renewed else None
    )
    duplicate = PostgresIdempotencyStore(clean_postgres_url, wait=0.05, renew_every=None)
    try:
        assert holder.begin("u1", "k", "fp") is None
        time.sleep(1.2)
        if renewed:
            with pytest.raises(IdempotencyInProgress):
                duplicate.begin("u1", "k", "fp")
            holder.finish("u1", "k", "fp", ANSWER)
            assert duplicate.begin("u1", "k", "fp") == ANSWER
        else:
            assert duplicate.begin("u1", "k", "fp") is None
    finally:
        holder.close()
        duplicate.close()


def test_a_closed_store_stops_renewing_its_claims(clean_postgres_url: str) -> None:
    """Closing a store that still holds a claim ends its renewal thread, so the claim lapses
    with its lease as a dead process's does."""
    before = set(threading.enumerate())
    holder = PostgresIdempotencyStore(
        clean_postgres_url, lease=timedelta(milliseconds=400), renew_every=0.05
    )
    duplicate = PostgresIdempotencyStore(clean_postgres_url, wait=0.05, renew_every=None)
    try:
        assert holder.begin("u1", "k", "fp") is None
        renewing = [thread for thread in threading.enumerate() if thread not in before]
        assert renewing, "no renewal thread was started"
        holder.close()
        assert not any(thread.is_alive() for thread in renewing)
        time.sleep(1.2)
        assert duplicate.begin("u1", "k", "fp") is None
    finally:
        holder.close()
        duplicate.close()
