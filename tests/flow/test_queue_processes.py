"""A waiting room across three `cinema serve` processes on one PostgreSQL and one Redis (reached
through a proxy the test cuts): buyers join through different processes and are admitted in
arrival order at the set rate; one process is killed and Redis is cut for a few seconds on the
way, and the order survives; nobody is admitted twice; every admission buys its seat, and
reused, foreign and forged tokens are refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.flow.processes import environment, session_json, start_servers, stop
from tests.proxy import Outage

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SECRET = "queue-processes-secret-long-enough-for-hs256"
BUYERS = 25  # admitted over ~10 s: past the kill (2 s) and the cut (4–7 s)
PER_MINUTE = 150  # two and a half a second
CUT_SECONDS = 3.0


def auth(user: str, role: str = "customer") -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode({'sub': user, 'role': role}, SECRET)}"}


@pytest.fixture
def servers(
    migrated_postgres_url: str, outage: Outage, redis_prefix: str, tmp_path: Path
) -> Iterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    env = environment(
        {
            "CINEMA_DATABASE_URL": migrated_postgres_url,
            "CINEMA_REDIS_URL": outage.url("redis://127.0.0.1:{port}/0"),
            "CINEMA_NAMESPACE": redis_prefix.rstrip(":"),
            "CINEMA_AUTH_SECRET": SECRET,
            "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
            "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
            "CINEMA_DATABASE_POOL_SIZE": "3",
            "CINEMA_LOG_LEVEL": "ERROR",
        }
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        urls = start_servers(
            range(3),
            lambda port: [
                sys.executable,
                *("-m", "entrypoints.cli", "serve", "--port", str(port), "--no-worker"),
            ],
            env,
            tmp_path,
            processes,
        )
        yield urls, processes
    finally:
        stop(processes)


def ask(url: str, method: str, path: str, user: str, **kwargs: Any) -> httpx.Response | None:
    """The answer, or None when the process is gone."""
    try:
        return httpx.request(method, url + path, headers=auth(user), timeout=5, **kwargs)
    except httpx.HTTPError:
        return None


def test_the_queue_admits_in_order_at_the_rate_through_kills_and_cuts(
    servers: tuple[list[str], list[subprocess.Popen[bytes]]], outage: Outage
) -> None:
    """Joins through three processes keep their arrival order; admissions come at 2.5 a
    second (±25 % at this scale, counted to the second) in that order, through a killed
    process and three seconds without Redis; each buyer has one ticket and buys a seat with
    its own admission only."""
    urls, processes = servers
    admin = auth("root", "admin")
    session = httpx.post(
        urls[0] + "/sessions", json=session_json(rows=6, seats_per_row=10), headers=admin
    )
    session_id = session.json()["id"]
    room = httpx.put(
        f"{urls[1]}/sessions/{session_id}/waiting-room",
        json={"enabled": True, "admit_per_minute": PER_MINUTE, "max_active": 1000},
        headers=admin,
    )
    assert room.status_code == 200, room.text
    users = [f"buyer-{i}" for i in range(BUYERS)]
    tickets: dict[str, str] = {}
    for i, user in enumerate(users):
        joined = ask(urls[i % 3], "POST", f"/sessions/{session_id}/queue", user)
        assert joined is not None
        assert joined.status_code == 201, joined.text
        tickets[user] = joined.json()["ticket"]

    admitted_at: dict[str, float] = {}
    admissions: dict[str, str] = {}
    lapses: dict[str, datetime] = {}

    def record(user: str, body: dict[str, Any]) -> None:
        admitted_at[user] = time.monotonic()
        admissions[user] = body["admission"]
        lapses[user] = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))

    refused_while_cut = 0
    started = time.monotonic()
    killed = cut = restored = False
    while len(admitted_at) < BUYERS and time.monotonic() - started < 60:
        elapsed = time.monotonic() - started
        if not killed and elapsed > 2.0:
            processes[2].send_signal(signal.SIGKILL)
            killed = True
        if not cut and elapsed > 4.0:
            outage.cut()
            cut = True
        if cut and not restored and elapsed > 4.0 + CUT_SECONDS:
            outage.restore()
            restored = True
        # From the last arrival to the first: whoever is admitted, all before are (they are
        # read after).
        for index in reversed(range(BUYERS)):
            user = users[index]
            if user in admitted_at:
                continue
            answer = ask(urls[index % 2], "GET", f"/queue/{tickets[user]}", user)
            if answer is None or answer.status_code == 503:
                refused_while_cut += 1
                continue
            assert answer.status_code == 200, answer.text
            body = answer.json()
            if body["status"] == "admitted":
                record(user, body)
                # Those before it are admitted too (read now, after it).
                for other in [u for u in users[:index] if u not in admitted_at]:
                    seen = ask(urls[0], "GET", f"/queue/{tickets[other]}", other)
                    assert seen is not None
                    if seen.status_code == 503:
                        continue
                    assert seen.json()["status"] == "admitted", f"{other} before {user}"
                    record(other, seen.json())
        time.sleep(0.05)

    assert restored
    assert killed
    assert len(admitted_at) == BUYERS
    assert refused_while_cut > 0, "the cut should have been felt"
    # The rate, from when each admission was made (its lapse less the admission's length, to
    # the second): what was owed while Redis was cut is made at once after, so the span from
    # the first admission to the last still says the set rate.
    span = (max(lapses.values()) - min(lapses.values())).total_seconds()
    rate = (BUYERS - 1) / span * 60
    assert PER_MINUTE * 0.75 <= rate <= PER_MINUTE * 1.25, f"{rate:.0f} a minute"

    # Nobody twice: joining again gives the same ticket, polling again the same admission.
    for user in users[:5]:
        again = ask(urls[1], "POST", f"/sessions/{session_id}/queue", user)
        assert again is not None
        assert (again.status_code, again.json()["ticket"]) == (200, tickets[user])
        assert again.json()["admission"] == admissions[user]

    seats = [f"{row}{n}" for row in "ABCDEF" for n in range(1, 11)]
    for i, user in enumerate(users):
        body = {"session_id": session_id, "seats": [seats[i]]}
        foreign = httpx.post(
            urls[0] + "/reservations",
            json=body,
            headers={**auth(users[(i + 1) % BUYERS]), "X-Admission": admissions[user]},
        )
        assert (foreign.status_code, foreign.json()["error"]["code"]) == (403, "admission_invalid")
        own = httpx.post(
            urls[i % 2] + "/reservations",
            json=body,
            headers={**auth(user), "X-Admission": admissions[user]},
        )
        assert own.status_code == 201, own.text
    forged = admissions[users[0]][:-3] + "abc"
    answer = httpx.post(
        urls[0] + "/reservations",
        json={"session_id": session_id, "seats": ["F10"]},
        headers={**auth(users[0]), "X-Admission": forged},
    )
    assert answer.json()["error"]["code"] == "admission_invalid"
    left = httpx.delete(f"{urls[1]}/queue/{tickets[users[0]]}", headers=auth(users[0]))
    assert left.status_code == 200
    reused = httpx.post(
        urls[0] + "/reservations",
        json={"session_id": session_id, "seats": ["F10"]},
        headers={**auth(users[0]), "X-Admission": admissions[users[0]]},
    )
    assert reused.json()["error"]["code"] == "admission_expired"
    report = httpx.get(f"{urls[0]}/sessions/{session_id}/report", headers=admin).json()
    assert report["held"] == BUYERS
