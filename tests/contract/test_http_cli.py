"""The command line: tokens, the demo, and the refusals that protect in-memory mode."""

from __future__ import annotations

import jwt
import pytest

from entrypoints.cli import READS, main
from entrypoints.config import VARIABLES, Settings

SECRET = "cli-tests-secret-that-is-long-enough-for-hs256"


@pytest.fixture(autouse=True)
def _no_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
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
    """Without CINEMA_AUTH_SECRET or --secret `cinema token` says both ways and exits 2."""
    assert main(["token", "--user", "bob"]) == 2
    err = capsys.readouterr().err
    assert "CINEMA_AUTH_SECRET" in err
    assert "--secret" in err


def test_token_secret_option_signs_and_wins_over_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cinema token --secret S` signs with S, whether CINEMA_AUTH_SECRET is unset or set."""
    other = "another-secret-that-is-long-enough-for-hs256-too"
    assert main(["token", "--secret", SECRET, "--user", "bob"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "bob"
    monkeypatch.setenv("CINEMA_AUTH_SECRET", other)
    assert main(["token", "--secret", SECRET, "--user", "bob", "--role", "admin"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"])
    assert claims["role"] == "admin"


def test_token_with_an_empty_secret_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`--secret ''` signs nothing: one line, exit 2."""
    assert main(["token", "--secret", "", "--user", "bob"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--secret" in err


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


def test_demo_changes_then_cancels_the_session(capsys: pytest.CaptureFixture[str]) -> None:
    """`cinema demo` ends the session's life: the manager moves it half an hour later, then
    cancels it, every sale refunded in full (dora's used ticket too) and nothing left sold."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "moves the session 30 minutes later" in out
    assert "reads “cancelled”" in out
    assert "sold 0, held 0" in out
    for event in ("session.changed", "session.cancelled"):
        assert event in out


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
    assert "available 14, held 14, sold 3" in out
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


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`cinema --version` prints the installed version and exits 0."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cinema {version('cinema-box-office')}"


@pytest.mark.parametrize("command", sorted(READS))
def test_each_command_help_says_what_it_does_its_defaults_and_what_it_reads(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cinema COMMAND --help` has a description, each option's default, and names every
    environment variable the command reads."""
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    parser_help, _, environment = text.partition("environment variables read")
    assert len(parser_help.split(".")[0].split()) >= 3, "no description"
    for option, default in {
        "serve": {"--host": "127.0.0.1", "--port": "8000", "--workers": "1"},
        "token": {"--role": "customer", "--ttl": "86400"},
    }.get(command, {}).items():
        assert option in parser_help
        assert f"(default: {default})" in parser_help
    for name in READS[command]:
        assert name in environment, f"{command} --help does not name {name}"
    if not READS[command]:
        assert "Reads no environment variables" in text


def test_serve_help_names_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    """serve reads them all: its help lists every variable of the configuration table."""
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert set(VARIABLES) <= {name for name in VARIABLES if name in out}


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http", "65536"])
def test_a_port_that_is_not_one_is_refused(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`cinema serve --port 99999` is a usage error (exit 2), not a server elsewhere."""
    with pytest.raises(SystemExit) as done:
        main(["serve", "--port", port])
    assert done.value.code == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CINEMA_DATABASE_URL", "mysql://root@localhost/cinema"),
        ("CINEMA_DATABASE_URL", "not a url"),
        ("CINEMA_REDIS_URL", "http://127.0.0.1:6379"),
        ("CINEMA_AMQP_URL", "redis://127.0.0.1"),
    ],
)
def test_a_url_of_the_wrong_kind_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    """A backend URL with the wrong scheme is named in one line, exit 2, before anything runs."""
    monkeypatch.setenv(variable, value)
    for command in (["serve"], ["worker"], ["migrate"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert variable in err
        assert len(err.strip().splitlines()) == 1, err


def test_tokens_carry_an_exp(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cinema token` without --ttl lapses in a day; the tokens `cinema serve` prints do too."""
    import time

    from entrypoints.cli import _print_tokens

    monkeypatch.setenv("CINEMA_AUTH_SECRET", SECRET)
    assert main(["token", "--user", "bob"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), SECRET, algorithms=["HS256"])
    assert 0 < claims["exp"] - time.time() <= 86400
    _print_tokens(SECRET, "127.0.0.1", 8000)
    printed = {w.split("=")[-1] for w in capsys.readouterr().out.split() if "eyJ" in w}
    assert len(printed) >= 2
    for printed_token in printed:
        assert "exp" in jwt.decode(printed_token, SECRET, algorithms=["HS256"])


def test_the_demo_banner_tells_how_to_play_the_bank(capsys: pytest.CaptureFixture[str]) -> None:
    """With payments through the sandbox, the banner says to approve them on the admin screen
    (signed in already): a newcomer sees the whole Pix flow."""
    import uuid

    from entrypoints.cli import _print_tokens

    _print_tokens(SECRET, "127.0.0.1", 8000, uuid.uuid4(), sandbox=True)
    out = capsys.readouterr().out
    assert "Pix payments go through the sandbox" in out
    assert 'approve it on the admin screen under "Sandbox payments"' in out
    _print_tokens(SECRET, "127.0.0.1", 8000)
    assert "sandbox" not in capsys.readouterr().out


@pytest.mark.parametrize(("tty", "expected"), [(True, "text"), (False, "json")])
def test_logs_are_text_on_a_terminal_and_json_otherwise(
    monkeypatch: pytest.MonkeyPatch, tty: bool, expected: str
) -> None:
    """Unset CINEMA_LOG_FORMAT: text when stderr is a terminal, JSON lines otherwise; a set
    value wins either way."""

    class Stream:
        def isatty(self) -> bool:
            return tty

    monkeypatch.setattr("sys.stderr", Stream())
    assert Settings.from_env({}).log_format == expected
    assert Settings.from_env({"CINEMA_LOG_FORMAT": "json"}).log_format == "json"
    assert Settings.from_env({"CINEMA_LOG_FORMAT": "text"}).log_format == "text"
