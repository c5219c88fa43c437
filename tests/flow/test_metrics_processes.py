"""`cinema serve --workers 2`: GET /metrics sums what both processes counted, whichever of them
answers the scrape, from a directory of its own that the serve removes when it stops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.flow.processes import (
    created_id,
    environment,
    free_port,
    session_json,
    spawn,
    stop,
    wait_healthy,
)
from tests.flow.test_many_processes import SECRET, token

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HOLDS = 24
CINEMA = "from entrypoints.cli import main; raise SystemExit(main())"


def totals(url: str) -> dict[str, float]:
    """The unlabelled samples and the POST /reservations 201 count of one scrape, on a
    connection of its own (so either process may answer it)."""
    with httpx.Client(trust_env=False) as client:
        answer = client.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if not sample.labels:
                found[sample.name] = sample.value
            elif sample.name == "cinema_http_requests_total" and sample.labels == {
                "method": "POST",
                "route": "/reservations",
                "status": "201",
            }:
                found["reserved"] = sample.value
    return found


def test_two_workers_answer_as_one(migrated_postgres_url: str, tmp_path: Path) -> None:
    """Holds made over fresh connections land on both processes (each writes its own files);
    every scrape, answered by either, reads the same sums, and the directory is gone after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = environment(
        {
            "CINEMA_DATABASE_URL": migrated_postgres_url,
            "CINEMA_AUTH_SECRET": SECRET,
            "CINEMA_RATE_LIMIT_USER_PER_SECOND": "0",
            "CINEMA_RATE_LIMIT_CLIENT_PER_SECOND": "0",
            "CINEMA_DATABASE_POOL_SIZE": "3",
            "CINEMA_LOG_LEVEL": "WARNING",
            # Where the serve makes its metrics directory, to look into it.
            "TMPDIR": str(scratch),
        }
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", CINEMA, "serve", "--port", str(port), "--workers", "2"]
    process = spawn(command, env, log)
    processes: list[subprocess.Popen[bytes]] = [process]
    try:
        wait_healthy(url, process, log)
        admin = {"Authorization": f"Bearer {token('admin-1', 'admin')}"}
        session_id = created_id(
            httpx.post(f"{url}/sessions", json=session_json(6, 8), headers=admin)
        )
        seats = [f"{row}{n}" for row in "ABCDEF" for n in range(1, 9)]
        for n in range(HOLDS):
            # A new connection each time: the kernel hands each to either process.
            held = httpx.post(
                f"{url}/reservations",
                json={"session_id": session_id, "seats": [seats[n]]},
                headers={"Authorization": f"Bearer {token(f'buyer-{n}')}"},
                timeout=10,
            )
            assert held.status_code == 201, held.text
        directories = list(scratch.glob("cinema-metrics-*"))
        assert len(directories) == 1
        writers = {path.name.rsplit("_", 1)[-1] for path in directories[0].glob("counter_*.db")}
        assert len(writers) == 2, f"one process answered every request: {writers}"
        scrapes = [totals(url) for _ in range(8)]
        for scraped in scrapes:
            assert scraped["cinema_holds_total"] == HOLDS
            assert scraped["cinema_held_seats_total"] == HOLDS
            assert scraped["reserved"] == HOLDS
    finally:
        stop(processes)
    assert not list(scratch.glob("cinema-metrics-*")), "the serve left its metrics directory"
