"""A backend that stalls (accepts bytes, answers nothing) never hangs the box office.

PostgreSQL and RabbitMQ are reached through a proxy the test stalls: ``/ready`` still answers
within 2 s naming the stalled check ``timeout`` (503 for the database, degraded for the broker),
``/health`` keeps answering, and a request that needs the stalled database is answered 503
``unavailable`` with ``Retry-After`` within the database timeout, not after the stall.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from entrypoints.config import Settings
from tests.conftest import new_session
from tests.flow.conftest import SECRET, LiveServer, token
from tests.proxy import Outage

pytestmark = [pytest.mark.slow]

# The database timeout these tests configure: a stalled request must end within it (connect,
# statement and the client's grace), with room for a loaded machine.
TIMEOUT = 1.0
BOUND = 3 * TIMEOUT + 2.5


@pytest.fixture
def stallable_postgres(migrated_postgres_url: str) -> Iterator[tuple[Outage, str]]:
    from urllib.parse import urlsplit

    parts = urlsplit(migrated_postgres_url)
    with Outage(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        yield proxy, migrated_postgres_url.replace(parts.netloc, f"postgres@127.0.0.1:{proxy.port}")


def _timed(fetch: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = fetch()
    return response, time.monotonic() - started


def _settings(**overrides: Any) -> Settings:
    return Settings(
        auth_secret=SECRET,
        database_timeout=TIMEOUT,
        rate_per_user=0.0,
        rate_per_client=0.0,
        **overrides,
    )


@pytest.mark.postgres
def test_a_stalled_database_gets_bounded_honest_answers(
    stallable_postgres: tuple[Outage, str], serve_with: Callable[[Settings], LiveServer]
) -> None:
    """Stalled: /ready 503 with database timeout within 2 s, every time; /health 200; reading a
    session 503 unavailable with Retry-After within the timeout. Restored: all well again."""
    proxy, url = stallable_postgres
    live = serve_with(_settings(database_url=url))
    session = new_session(live.services.box, days=1).session
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert client.get("/ready").json()["checks"]["database"] == "ok"
        proxy.stall()
        for _ in range(3):
            ready, took = _timed(lambda: client.get("/ready"))
            assert took < 2.0, f"/ready took {took:.2f} s"
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "timeout"
            assert client.get("/health").status_code == 200

        answers: list[tuple[httpx.Response, float]] = []

        def read() -> None:
            answers.append(_timed(lambda: client.get(f"/sessions/{session.id}/seats")))

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(30)
        for answer, took in answers:
            assert took < BOUND, f"a request on the stalled database took {took:.2f} s"
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "unavailable"
            assert answer.headers["retry-after"] == "1"
        assert len(answers) == 4

        proxy.restore()
        deadline = time.monotonic() + 15
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the stall"
            time.sleep(0.2)
        assert client.get(f"/sessions/{session.id}/seats").status_code == 200


@pytest.mark.rabbitmq
def test_a_stalled_broker_reads_degraded_within_two_seconds(
    amqp_url: str, namespace: str, serve_with: Callable[[Settings], LiveServer]
) -> None:
    """Stalled broker: /ready 200 degraded with broker timeout within 2 s while /health and
    the seat map keep answering at once."""
    from urllib.parse import urlsplit

    parts = urlsplit(amqp_url)
    with Outage(parts.hostname or "127.0.0.1", parts.port or 5672) as proxy:
        url = amqp_url.replace(
            parts.netloc, f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
        )
        live = serve_with(_settings(amqp_url=url, namespace=namespace))
        with httpx.Client(base_url=live.url, timeout=30) as client:
            assert client.get("/ready").json()["checks"]["broker"] == "ok"
            proxy.stall()
            for _ in range(3):
                ready, took = _timed(lambda: client.get("/ready"))
                assert took < 2.0, f"/ready took {took:.2f} s"
                assert ready.status_code == 200
                assert ready.json()["status"] == "degraded"
                assert ready.json()["checks"]["broker"] == "timeout"
                health, took = _timed(lambda: client.get("/health"))
                assert health.status_code == 200
                assert took < 0.5
            proxy.restore()
            deadline = time.monotonic() + 15
            while client.get("/ready").json()["status"] != "ok":
                assert time.monotonic() < deadline, "not ok again after the stall"
                time.sleep(0.2)


@pytest.mark.postgres
def test_a_request_on_a_stalled_database_is_answered_within_the_timeout_and_a_second(
    stallable_postgres: tuple[Outage, str], serve_with: Callable[[Settings], LiveServer]
) -> None:
    """Stalled (packets dropped, nothing reset): a read, and a hold sent with an
    Idempotency-Key (its key, then its transaction), each answer 503 within the timeout plus the
    client's grace, however many connections the stall holds; not a wait per connection."""
    proxy, url = stallable_postgres
    live = serve_with(_settings(database_url=url))
    session = new_session(live.services.box, days=1).session
    bound = TIMEOUT + 1.0 + 0.9
    headers = {"Authorization": f"Bearer {token('stalled')}"}
    with httpx.Client(base_url=live.url, timeout=30, headers=headers) as client:
        assert client.get(f"/sessions/{session.id}/seats").status_code == 200
        proxy.stall()
        for attempt in range(3):
            read, took = _timed(lambda: client.get(f"/sessions/{session.id}/seats"))
            assert read.status_code == 503, read.text
            assert took < bound, f"read {attempt} on the stalled database took {took:.2f} s"
            key = {"Idempotency-Key": f"stalled-{attempt}"}
            hold, took = _timed(
                lambda: client.post(
                    "/reservations",
                    json={"session_id": str(session.id), "seats": ["A1"]},
                    headers=key,  # noqa: B023 - called at once, within this turn
                )
            )
            assert hold.status_code == 503, hold.text
            assert hold.json()["error"]["code"] == "unavailable"
            assert took < bound, f"hold {attempt} on the stalled database took {took:.2f} s"
        proxy.restore()


@pytest.mark.rabbitmq
def test_consumers_and_live_feed_come_back_by_themselves_after_a_stalled_handshake(
    amqp_url: str, namespace: str, serve_with: Callable[..., LiveServer]
) -> None:
    """The broker's connections drop and every new one stalls in its AMQP handshake: the
    consumers and the live feed keep retrying (and /ready names them meanwhile); once the
    broker answers again, with no restart, the relay publishes the events (the audit trail
    lists them) and a seat stream gets the changes."""
    from tests.flow.test_stream_resync import SeatMapClient

    parts = urlsplit(amqp_url)
    with Outage(parts.hostname or "127.0.0.1", parts.port or 5672) as proxy:
        url = amqp_url.replace(
            parts.netloc, f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
        )
        live = serve_with(_settings(amqp_url=url, namespace=namespace), run_worker=True)
        session_id = live.new_session()
        with httpx.Client(base_url=live.url, timeout=30) as client:
            _until(lambda: client.get("/ready").json()["status"] == "ok", 15, "never ready")

            proxy.stall(drop_open=True)
            meanwhile = []
            # Longer than a connection attempt's bound (4 s): the retries hang and time out.
            stalled_until = time.monotonic() + 9
            while time.monotonic() < stalled_until:
                meanwhile.append(client.get("/ready").json())
                time.sleep(0.5)
            with live.client("u1") as buyer:
                during = buyer.post(
                    "/reservations", json={"session_id": session_id, "seats": ["A1"]}
                )
            assert during.status_code == 201, during.text
            proxy.restore()

            _until(
                lambda: client.get("/ready").json()["status"] == "ok", 30, "not ok after the stall"
            )
            stream = SeatMapClient(f"{live.url}/sessions/{session_id}/seats/stream")
            try:
                _until(lambda: stream.snapshots == 1, 10, "no snapshot")
                with live.client("u2") as buyer:
                    after = buyer.post(
                        "/reservations", json={"session_id": session_id, "seats": ["B1"]}
                    )
                assert after.status_code == 201, after.text
                assert stream.shows("B1", "held", 15), "the seat stream got no change"
                assert stream.snapshots == 1, "the hold came as a snapshot, not as a change"
            finally:
                stream.close()
            held = {during.json()["id"], after.json()["id"]}
            _until(
                lambda: (
                    held
                    <= {
                        e["data"].get("reservation_id")
                        for e in live.events(session_id, "reservation.created")
                    }
                ),
                30,
                "the holds never reached the audit trail",
            )
    named = [answer["checks"].get("workers", "ok") for answer in meanwhile]
    assert all(answer["status"] == "degraded" for answer in meanwhile), meanwhile
    assert any("cinema-consumers" in value for value in named), named
    assert any("cinema-live-feed" in value for value in named), named


def _until(done: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)
