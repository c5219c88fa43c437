"""A keyed request whose process is killed mid-request is taken over by its retry within seconds.

Two `cinema serve` processes, A and B, on one PostgreSQL and one Redis. The test holds a seat's
row lock from its own connection, so a keyed ``POST /reservations`` sent to A waits inside its
transaction with its Idempotency-Key claimed. A is then killed with SIGKILL, the lock released,
and the same request (same user, key and body) sent to B: B takes the dead claim over once its
5 s lease lapses and makes the one reservation. Control: processes whose claims have one
unrenewed 30 s lease (tests/flow/unrenewed_claims_server.py) still refuse the retry as in
progress after as long. And a live A whose request runs past the lease keeps its claim: the
duplicate on B is refused as in progress, then replays A's answer once A has finished.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.flow.processes import created_id, environment, session_json, start_servers, stop
from tests.flow.test_many_processes import SECRET, token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

KEY = "retry-after-a-kill"
BUYER = "buyer-1"
# From the kill to the retry's answer: a lapsed 5 s lease (renewed a second before the kill at
# worst) and B's poll, with room for a loaded machine; the old 30 s lease takes far longer.
TAKEN_OVER_WITHIN = 12.0
# How long a duplicate waits for a running request before it is refused (the stores' wait).
DUPLICATE_WAIT = 10.0


def serve(port: int) -> list[str]:
    return [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)]


def serve_unrenewed(port: int) -> list[str]:
    return [sys.executable, "-m", "tests.flow.unrenewed_claims_server", str(port)]


@contextlib.contextmanager
def two_processes(
    postgres_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
    command: Callable[[int], list[str]],
    hold_seconds: float,
) -> Iterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    """Processes A and B (``command(port)``) on a fresh database; their urls and processes."""
    from adapters.postgres.migrations import upgrade

    upgrade(postgres_url)
    env = environment(
        {
            "CINEMA_DATABASE_URL": postgres_url,
            "CINEMA_REDIS_URL": redis_url,
            "CINEMA_AUTH_SECRET": SECRET,
            "CINEMA_NAMESPACE": redis_prefix.rstrip(":"),
            "CINEMA_RESERVATION_TTL_SECONDS": str(hold_seconds),
            # Longer than any wait on the test's row lock: the statement must not time out.
            "CINEMA_DATABASE_TIMEOUT_SECONDS": "30",
            "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
            "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
            "CINEMA_LOG_LEVEL": "WARNING",
        }
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        yield start_servers("AB", command, env, tmp_path, processes), processes
    finally:
        stop(processes)


def new_session(url: str) -> str:
    answer = httpx.post(
        f"{url}/sessions",
        json=session_json(),
        headers={"Authorization": f"Bearer {token('admin-1', 'admin')}"},
        timeout=15,
    )
    return created_id(answer)


def keyed_reserve(url: str, session_id: str) -> httpx.Response:
    """The buyer's keyed hold of A1 and A2: the request every attempt sends, byte for byte."""
    return httpx.post(
        f"{url}/reservations",
        json={"session_id": session_id, "seats": ["A1", "A2"]},
        headers={"Authorization": f"Bearer {token(BUYER)}", "Idempotency-Key": KEY},
        timeout=60,
    )


class InBackground:
    """``keyed_reserve`` on a thread: its answer, or the error the client saw."""

    def __init__(self, url: str, session_id: str):
        self.answer: httpx.Response | None = None
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, args=(url, session_id), daemon=True)
        self._thread.start()

    def _run(self, url: str, session_id: str) -> None:
        try:
            self.answer = keyed_reserve(url, session_id)
        except httpx.HTTPError as error:
            self.error = error

    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the request did not end within {timeout} s"


@contextlib.contextmanager
def seat_locked(postgres_url: str, session_id: str) -> Iterator[Callable[[], None]]:
    """Seat A1's row locked by the test's own transaction until the block ends; yields a
    function that waits until some other transaction waits for a lock (the request is in)."""
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(
                sa.text(
                    "SELECT 1 FROM seats WHERE session_id = :s AND \"row\" = 'A' AND number = 1"
                    " FOR UPDATE"
                ),
                {"s": session_id},
            )

            def wait_for_a_waiter() -> None:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    waiting = watcher.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                            " current_database() AND wait_event_type = 'Lock'"
                        )
                    ).scalar_one()
                    watcher.rollback()
                    if waiting:
                        return
                    time.sleep(0.05)
                pytest.fail("no request came to wait for the seat's row lock")

            yield wait_for_a_waiter
            holder.rollback()
    finally:
        engine.dispose()


def reservations_of(postgres_url: str, session_id: str) -> list[str]:
    engine = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                sa.text("SELECT id::text FROM reservations WHERE session_id = :s"),
                {"s": session_id},
            ).scalars()
            return list(found)
    finally:
        engine.dispose()


@pytest.mark.parametrize("renewed", [False, True], ids=["control-unrenewed", "renewed"])
def test_a_retry_takes_over_the_claim_of_a_process_killed_mid_request(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path: Path, renewed: bool
) -> None:
    """A keyed hold whose process is SIGKILLed mid-request is made once by its retry on another
    process within seconds; control: an unrenewed 30 s claim still refuses it as in progress."""
    command = serve if renewed else serve_unrenewed
    # Short holds: A's seat lock in Redis, which lasts as long as a hold, lapses before the
    # retry takes over; a longer one would refuse it seats_unavailable (README, limitations).
    with two_processes(postgres_url, redis_url, redis_prefix, tmp_path, command, 3.0) as (
        (a, b),
        (process_a, _),
    ):
        session_id = new_session(b)
        with seat_locked(postgres_url, session_id) as wait_for_a_waiter:
            first = InBackground(a, session_id)
            wait_for_a_waiter()
            # A has claimed the key and waits in its transaction; let it renew its claim once.
            time.sleep(1.5)
            assert first.running()
            process_a.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            assert process_a.wait(timeout=10) == -signal.SIGKILL
        first.wait(10)
        assert first.answer is None, "A answered before it was killed"

        retry = keyed_reserve(b, session_id)
        took = time.monotonic() - killed_at
        print(f"renewed={renewed}: the retry answered {retry.status_code} {took:.1f} s after")
        made = reservations_of(postgres_url, session_id)
        if not renewed:
            assert retry.status_code == 409, retry.text
            assert retry.json()["error"]["code"] == "idempotency_in_progress"
            assert made == []
            return
        assert retry.status_code == 201, retry.text
        assert took < TAKEN_OVER_WITHIN
        assert made == [retry.json()["id"]]
        again = keyed_reserve(b, session_id)
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == retry.content


def test_a_live_request_running_past_the_lease_keeps_its_claim(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """A keyed hold held up past its claim's lease is refused in progress on another process,
    which replays its answer once it is made: the live holder's claim was renewed."""
    with two_processes(postgres_url, redis_url, redis_prefix, tmp_path, serve, 60.0) as (
        (a, b),
        _,
    ):
        session_id = new_session(b)
        with seat_locked(postgres_url, session_id) as wait_for_a_waiter:
            first = InBackground(a, session_id)
            wait_for_a_waiter()
            started = time.monotonic()
            duplicate = keyed_reserve(b, session_id)
            waited = time.monotonic() - started
            # Refused after its full wait, twice the 5 s lease: A renewed its claim meanwhile.
            assert duplicate.status_code == 409, duplicate.text
            assert duplicate.json()["error"]["code"] == "idempotency_in_progress"
            assert waited >= DUPLICATE_WAIT - 0.5
            assert first.running()
        first.wait(20)
        assert first.answer is not None, first.error
        assert first.answer.status_code == 201, first.answer.text
        replayed = keyed_reserve(b, session_id)
        assert replayed.status_code == 201
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.content == first.answer.content
        assert reservations_of(postgres_url, session_id) == [first.answer.json()["id"]]
