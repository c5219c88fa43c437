"""The IdempotencyStore port: claim, replay, reuse, abandon, and duplicates in flight."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from cinema_core import IdempotencyInProgress, IdempotencyKeyReused
from cinema_core.ports import StoredAnswer
from tests.concurrency import run_together
from tests.contract.conftest import IDEMPOTENCY_WAIT, TimePasses

ANSWER = StoredAnswer(201, b'{"id": "r-1"} and bytes that are not text: \xff\x00')


def test_the_first_request_claims_the_key(idempotency_store: Any) -> None:
    """An unseen key is claimed: begin returns None and the caller runs the request."""
    assert idempotency_store.begin("u1", "k1", "fp") is None


def test_a_finished_request_is_replayed(idempotency_store: Any) -> None:
    """After finish, the same key and fingerprint get the stored status and body, byte for byte."""
    idempotency_store.begin("u1", "k1", "fp")
    idempotency_store.finish("u1", "k1", "fp", ANSWER)
    assert idempotency_store.begin("u1", "k1", "fp") == ANSWER
    assert idempotency_store.begin("u1", "k1", "fp") == ANSWER


def test_the_answer_is_remembered_for_a_day(
    idempotency_store: Any, time_passes: TimePasses
) -> None:
    """Keys are kept at least 24 h (checked on implementations that read the test clock)."""
    idempotency_store.begin("u1", "k1", "fp")
    idempotency_store.finish("u1", "k1", "fp", ANSWER)
    if time_passes.manual:
        time_passes.wait(23.9 * 3600)
    assert idempotency_store.begin("u1", "k1", "fp") == ANSWER


def test_the_same_key_with_another_request_is_refused(idempotency_store: Any) -> None:
    """Another fingerprint under a used key is idempotency_key_reused, finished or not."""
    idempotency_store.begin("u1", "k1", "fp")
    with pytest.raises(IdempotencyKeyReused):
        idempotency_store.begin("u1", "k1", "other")
    idempotency_store.finish("u1", "k1", "fp", ANSWER)
    with pytest.raises(IdempotencyKeyReused):
        idempotency_store.begin("u1", "k1", "other")


def test_keys_are_scoped(idempotency_store: Any) -> None:
    """One user's key is not another's: the same key in another scope is a new claim."""
    idempotency_store.begin("u1", "k1", "fp")
    idempotency_store.finish("u1", "k1", "fp", ANSWER)
    assert idempotency_store.begin("u2", "k1", "fp") is None
    assert idempotency_store.begin("u1", "k2", "fp") is None


def test_an_abandoned_claim_runs_afresh(idempotency_store: Any) -> None:
    """After abandon (the request failed unexpectedly), a retry claims the key again."""
    idempotency_store.begin("u1", "k1", "fp")
    idempotency_store.abandon("u1", "k1")
    assert idempotency_store.begin("u1", "k1", "fp") is None
    idempotency_store.abandon("u1", "never-claimed")


def test_concurrent_duplicates_run_once_and_share_the_answer(idempotency_store: Any) -> None:
    """Duplicates arriving together: one runs, the others wait and get its answer."""
    runs = []
    lock = threading.Lock()

    def request(_: int) -> StoredAnswer:
        stored = idempotency_store.begin("u1", "k1", "fp")
        if stored is not None:
            return stored
        with lock:
            runs.append(1)
        time.sleep(0.1)  # the request takes a while; the duplicates must wait it out
        idempotency_store.finish("u1", "k1", "fp", ANSWER)
        return ANSWER

    answers = run_together(8, request)
    assert len(runs) == 1
    assert answers == [ANSWER] * 8


def test_a_duplicate_takes_over_when_the_first_is_abandoned(idempotency_store: Any) -> None:
    """A duplicate waiting on a claim that is then abandoned runs the request itself."""
    idempotency_store.begin("u1", "k1", "fp")
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(idempotency_store.begin("u1", "k1", "fp")))
    waiter.start()
    time.sleep(0.05)
    idempotency_store.abandon("u1", "k1")
    waiter.join(5)
    assert got == [None]


def test_a_duplicate_gives_up_when_the_first_takes_too_long(idempotency_store: Any) -> None:
    """A duplicate waits a bounded time, then is told the request is still in progress."""
    idempotency_store.begin("u1", "k1", "fp")
    started = time.monotonic()
    with pytest.raises(IdempotencyInProgress):
        idempotency_store.begin("u1", "k1", "fp")
    waited = time.monotonic() - started
    assert IDEMPOTENCY_WAIT * 0.8 <= waited < IDEMPOTENCY_WAIT + 2


def _abandon_while_two_wait(store: Any, key: str) -> list[StoredAnswer | None]:
    """Claim ``key``; start a duplicate waiting on it; abandon it as a newcomer arrives.
    Whichever of the two is told to run finishes; returns what each was told."""
    store.begin("u1", key, "fp")
    results: list[StoredAnswer | None] = []
    lock = threading.Lock()

    def duplicate() -> None:
        stored = store.begin("u1", key, "fp")
        with lock:
            results.append(stored)
        if stored is None:
            time.sleep(0.05)
            store.finish("u1", key, "fp", ANSWER)

    waiter = threading.Thread(target=duplicate)
    waiter.start()
    time.sleep(0.02)  # the waiter is now waiting on the first claim
    newcomer = threading.Thread(target=duplicate)
    store.abandon("u1", key)
    newcomer.start()
    waiter.join(5)
    newcomer.join(5)
    return results


def test_after_an_abandon_only_one_duplicate_takes_over(idempotency_store: Any) -> None:
    """A waiting duplicate and a newcomer racing for an abandoned key: exactly one runs the
    request, the other gets its answer."""
    for round_ in range(10):
        results = _abandon_while_two_wait(idempotency_store, f"k-{round_}")
        assert sorted(results, key=lambda r: r is not None) == [None, ANSWER], round_
