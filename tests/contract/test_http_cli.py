"""The command line: tokens, the demo, and the refusals that protect in-memory mode."""

from __future__ import annotations

import jwt
import pytest

from entrypoints.cli import main

SECRET = "cli-tests-secret-that-is-long-enough-for-hs256"


@pytest.fixture(autouse=True)
def _no_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CINEMA_DATABASE_URL",
        "CINEMA_REDIS_URL",
        "CINEMA_AMQP_URL",
        "CINEMA_AUTH_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


def test_token_is_signed_with_the_configured_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cinema token` prints an HS256 token with sub, role and exp."""
    monkeypatch.setenv("CINEMA_AUTH_SECRET", SECRET)
    assert main(["token", "--user", "bob", "--role", "admin", "--ttl", "60"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == ("bob", "admin")
    assert "exp" in claims


def test_token_for_staff(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cinema token --role staff` prints a token for the door and the session reports."""
    monkeypatch.setenv("CINEMA_AUTH_SECRET", SECRET)
    assert main(["token", "--user", "door-1", "--role", "staff"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == ("door-1", "staff")


def test_token_without_a_secret_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Without CINEMA_AUTH_SECRET `cinema token` says why and exits 2."""
    assert main(["token", "--user", "bob"]) == 2
    assert "CINEMA_AUTH_SECRET" in capsys.readouterr().err


def test_token_user_must_fit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user id over 64 characters is refused with exit 2, no traceback."""
    monkeypatch.setenv("CINEMA_AUTH_SECRET", SECRET)
    assert main(["token", "--user", "u" * 65]) == 2
    assert "64" in capsys.readouterr().err


def test_bad_configuration_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad variable is named in a one-line message with exit 2."""
    monkeypatch.setenv("CINEMA_RESERVATION_TTL_SECONDS", "soon")
    assert main(["serve"]) == 2
    assert "CINEMA_RESERVATION_TTL_SECONDS" in capsys.readouterr().err


def test_in_memory_refuses_several_processes(capsys: pytest.CaptureFixture[str]) -> None:
    """serve --workers 2 and worker need a database in memory mode: exit 2 saying so."""
    assert main(["serve", "--workers", "2"]) == 2
    assert "CINEMA_DATABASE_URL" in capsys.readouterr().err
    assert main(["worker"]) == 2
    assert "CINEMA_DATABASE_URL" in capsys.readouterr().err


def test_serve_demo_is_for_memory_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sample sessions are never written into a real database: --demo with one is exit 2."""
    monkeypatch.setenv("CINEMA_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert main(["serve", "--demo"]) == 2
    assert "--demo" in capsys.readouterr().err


def test_migrate_in_memory_has_nothing_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    """`cinema migrate` without a database says there is nothing to migrate and exits 0."""
    assert main(["migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_demo_tells_the_story(capsys: pytest.CaptureFixture[str]) -> None:
    """`cinema demo`: two of ten racers win, one pays, one lapses; a couple seat is sold only
    whole; meia-entrada stops at its quota; a refund puts a seat back on sale and someone else
    buys it; the door admits a ticket once; and the events are shown."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "2 reservations were made and 8 refused" in out
    assert "reads “expired”" in out
    assert "reservation_expired" in out
    for event in (
        "reservation.created",
        "payment.confirmed",
        "reservation.expired",
        "seat.released",
    ):
        assert event in out
    assert "available 15, held 13, sold 3" in out
    assert "couple_seat_split (missing D2)" in out
    assert "ticket_quota_exhausted, 0 left" in out
    assert "session.created" in out
    assert "reads “available” again at once" in out
    assert "dora buys A1" in out
    assert "sale now reads “refunded”" in out
    assert "dora's ticket for A1: admitted" in out
    assert "dora's ticket again is refused: already_checked_in" in out
    assert "old ticket is refused: ticket_refunded" in out
    for event in ("sale.refunded", "ticket.checked_in"):
        assert event in out
    assert "A1  refunded" in out  # seat.released, reason refunded
