"""The command line against a real database, as an operator meets it.

A command that cannot start (no schema, no database) prints one line and exits non-zero,
whatever ``--workers``: it never respawns crashing workers or prints a traceback. ``cinema
migrate`` says what it applied; the logs carry no Alembic noise.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

import pytest

pytestmark = [pytest.mark.postgres]

CINEMA = "import sys; from entrypoints.cli import main; sys.exit(main())"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(args: Sequence[str], database_url: str, timeout: float = 30) -> tuple[int, str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")},
        "CINEMA_DATABASE_URL": database_url,
        "CINEMA_AUTH_SECRET": "startup-tests-secret-long-enough-for-hs256",
        "CINEMA_LOG_LEVEL": "INFO",
        "CINEMA_DATABASE_TIMEOUT_SECONDS": "2",
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", CINEMA, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(
            f"`cinema {' '.join(args)}` was still running after {timeout} s "
            f"({time.monotonic() - started:.0f} s); stderr:\n{err[-2000:]}"
        )
    return process.returncode, out, err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_an_unmigrated_database_says_run_migrate_in_one_line(
    postgres_url: str, workers: str
) -> None:
    """An empty database: one line naming `cinema migrate`, exit 1, within seconds."""
    status, _, err = _run(
        ["serve", "--workers", workers, "--port", str(_free_port())], postgres_url, timeout=20
    )
    assert status == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "cinema migrate" in lines[0]
    assert "Traceback" not in err


def test_worker_on_an_unmigrated_database_says_run_migrate_in_one_line(postgres_url: str) -> None:
    """`cinema worker` refuses the same way."""
    status, _, err = _run(["worker"], postgres_url, timeout=20)
    assert (status, len(err.strip().splitlines())) == (1, 1), err
    assert "cinema migrate" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_without_a_database_server_says_so_in_one_line(workers: str) -> None:
    """Nothing listens where the URL points: one line, exit 1, well within the timeout."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/cinema"
    status, _, err = _run(["serve", "--workers", workers], url, timeout=20)
    assert status == 1, err
    assert len(err.strip().splitlines()) == 1, err
    assert "database" in err


def test_migrate_says_what_it_applied_and_then_that_nothing_was_left(postgres_url: str) -> None:
    """The first run names each revision it applied with its whole description (the first
    paragraph of its docstring, never cut mid-sentence); the second says the schema was already
    up to date. Neither prints Alembic's own log lines."""
    from alembic.script import ScriptDirectory

    from adapters.postgres.migrations import SCRIPTS

    scripts = ScriptDirectory(str(SCRIPTS))
    status, out, err = _run(["migrate"], postgres_url)
    assert status == 0, err
    lines = out.splitlines()
    for revision in scripts.walk_revisions():
        paragraph = (revision.module.__doc__ or "").strip().split("\n\n")[0]
        described = " ".join(paragraph.split()).rstrip(".")
        assert f"  {revision.revision}  {described}" in lines, out
    assert f"now at {', '.join(scripts.get_heads())}." in out
    assert "alembic" not in (out + err).lower()
    status, out, err = _run(["migrate"], postgres_url)
    assert status == 0, err
    assert "already up to date" in out
    assert "applied" not in out


@pytest.mark.parametrize(
    ("database", "workers"), [(False, "1"), (True, "1"), (True, "2")], ids=["memory", "db", "db-2"]
)
def test_serve_on_a_busy_port_says_so_in_one_line_before_anything_else(
    database: bool, workers: str
) -> None:
    """Another program listens on the port: one line on stderr naming it, exit 2, and nothing
    printed or started first (no tokens, no links; the database, unreachable here, is not even
    tried)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")},
            "CINEMA_LOG_LEVEL": "INFO",
        }
        if database:
            env["CINEMA_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{_free_port()}/x"
        done = subprocess.run(
            [sys.executable, "-c", CINEMA, "serve", "--port", str(port), "--workers", workers],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert str(port) in done.stderr
    assert "database" not in done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:{free}/cinema",
        "postgresql://postgres@127.0.0.1:5432/cinema_no_such_database",
    ],
    ids=["no-server", "no-database"],
)
def test_migrate_that_cannot_reach_the_database_says_so_in_one_line_like_serve(url: str) -> None:
    """No server, or no such database: `cinema migrate` says it cannot reach the database in
    one line, in the words `cinema serve` uses, without the driver's class names or links."""
    url = url.format(free=_free_port())
    status, _, migrate = _run(["migrate"], url, timeout=20)
    assert status == 1, migrate
    assert len(migrate.strip().splitlines()) == 1, migrate
    assert migrate.startswith("cinema migrate: cannot reach the database"), migrate
    _, _, serve = _run(["serve"], url, timeout=20)
    reason = serve.split(": ", 2)[2]
    assert migrate.split(": ", 2)[2] == reason, (migrate, serve)
    for driver in ("psycopg", "OperationalError", "sqlalche.me", "(Background"):
        assert driver not in migrate, migrate


def test_serve_logs_start_without_alembic_noise(migrated_postgres_url: str) -> None:
    """A served process's first log lines are the box office's, not Alembic's plugin list."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")},
        "CINEMA_DATABASE_URL": migrated_postgres_url,
        "CINEMA_AUTH_SECRET": "startup-tests-secret-long-enough-for-hs256",
        "CINEMA_LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", CINEMA, "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, "cinema serve exited"
            time.sleep(0.1)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=15)
    assert err.strip(), "no log at all"
    assert "alembic" not in err.lower(), err[:2000]
    assert err.lstrip().startswith("{"), "logs to a pipe are JSON lines"
