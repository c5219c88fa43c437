"""``cinema``: serve the API, run the worker, migrate, play the demo, or print a token.

A command that cannot start (a bad setting, no schema, no database) says so in one line on
stderr and exits non-zero: 2 for what the caller must change (a setting, an option), 1 for a
backend that is not there or not ready.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs

from .config import MULTIPROCESS_DIR, VARIABLES, ConfigError, Settings

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 1
# The banner's tokens, and `cinema token` unless told otherwise, lapse after a day.
TOKEN_TTL = 24 * 3600

_SETTINGS = tuple(VARIABLES)
READS = {
    "serve": _SETTINGS,
    "worker": tuple(
        name for name in _SETTINGS if "RATE_LIMIT" not in name and name != "CINEMA_RUN_WORKER"
    ),
    "migrate": ("CINEMA_DATABASE_URL",),
    "demo": (),
    "token": ("CINEMA_AUTH_SECRET",),
}


class CannotStart(Exception):
    """The command cannot start; the message is the one line to print."""

    def __init__(self, message: str, status: int = EXIT_UNAVAILABLE):
        super().__init__(message)
        self.status = status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cinema`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except ConfigError as error:
        print(f"cinema {args.command}: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CannotStart as error:
        print(f"cinema {args.command}: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        return 130
    return status


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("cinema-box-office")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option's help, and the epilog (the variables) as written."""


def _environment(command: str) -> str:
    names = READS[command]
    if not names:
        return "Reads no environment variables."
    width = max(len(name) for name in names)
    lines = ["environment variables read (unset → the default shown):"]
    for name in names:
        v = VARIABLES[name]
        lines.append(f"  {name.ljust(width)}  {v.meaning} [unset: {v.unset}]")
    return "\n".join(lines)


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    text: str,
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}. {text}",
        epilog=_environment(name),
        formatter_class=_Help,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cinema",
        description="The cinema box office: sells seats for screenings without ever selling "
        "a seat twice. `cinema COMMAND --help` tells what each command reads.",
    )
    parser.add_argument("--version", action="version", version=f"cinema {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _command(
        commands,
        "serve",
        "run the HTTP API",
        "With no backend configured it runs in memory (one process); with CINEMA_DATABASE_URL "
        "it refuses to start on a schema that is not current. Each API process also runs the "
        "expiry sweeper and the event relay unless --no-worker.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (1-65535)")
    serve.add_argument(
        "--workers", type=_positive, default=1, help="API processes (more than 1 needs a database)"
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="leave expiry and the relay to `cinema worker`",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="in memory only: start with sample rooms and sessions to try in a browser",
    )
    serve.add_argument(
        "--limit-concurrency",
        type=_positive,
        default=1000,
        help="requests (streams included) each process serves at once; more are answered 503 "
        "at once (/health never)",
    )
    serve.add_argument(
        "--timeout-keep-alive",
        type=_positive,
        default=5,
        help="seconds an idle connection is kept open, and a request head may take",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="addresses of reverse proxies whose X-Forwarded-For names the client (the rate "
        "limits' client address); '*' trusts any",
    )
    serve.set_defaults(run=_serve)

    worker = _command(
        commands,
        "worker",
        "run the expiry sweeper, the event relay and the consumers alone",
        "Needs CINEMA_DATABASE_URL (in memory the API runs them itself).",
    )
    worker.set_defaults(run=_worker)

    migrate = _command(
        commands,
        "migrate",
        "bring the database schema up to date",
        "Says which revisions it applied, if any. Safe to run twice, and from several "
        "processes at once.",
    )
    migrate.set_defaults(run=_migrate)

    demo = _command(
        commands,
        "demo",
        "play the box office's story in memory",
        "Racing buyers, a payment and a hold that lapses, with the events they publish.",
    )
    demo.set_defaults(run=_demo)

    token = _command(
        commands,
        "token",
        "print a bearer token signed with CINEMA_AUTH_SECRET or --secret",
        "An HS256 JWT with sub, role and exp. A `cinema serve` that made its secret up prints "
        "the `cinema token --secret ...` line that makes more tokens for it.",
    )
    token.add_argument("--user", required=True, help="the user id (1-64 printable characters)")
    token.add_argument(
        "--secret",
        help="the secret to sign with, instead of CINEMA_AUTH_SECRET (other users of this "
        "machine may read a command's arguments: prefer the variable for a real secret)",
    )
    token.add_argument(
        "--role", choices=("customer", "staff", "admin"), default="customer", help="what it may do"
    )
    token.add_argument(
        "--ttl",
        type=_seconds,
        default=TOKEN_TTL,
        help="seconds until it lapses (0: it never does)",
    )
    token.set_defaults(run=_token)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError("must be 0 or more seconds")
    return value


def _require_database(settings: Settings) -> None:
    """Refuse to start on a database that cannot be reached or whose schema is not current,
    before any process is forked (a forked worker that fails is respawned, forever)."""
    if settings.database_url is None:
        return
    from cinema_core import StoreUnavailable

    try:
        from adapters.postgres import SchemaNotCurrent, require_current_schema
        from adapters.postgres.engine import create_engine
    except ImportError as error:
        raise CannotStart(f"the PostgreSQL adapter is not installed: {error}") from None
    try:
        engine = create_engine(
            settings.database_url, pooled=False, timeout=settings.database_timeout
        )
    except Exception as error:  # a URL SQLAlchemy cannot use
        raise CannotStart(f"CINEMA_DATABASE_URL cannot be used: {error}", EXIT_USAGE) from None
    try:
        require_current_schema(engine)
    except SchemaNotCurrent as error:
        raise CannotStart(str(error)) from None
    except StoreUnavailable as error:
        raise CannotStart(f"{error}".replace("\n", " ")) from None
    finally:
        engine.dispose()


@contextlib.contextmanager
def _metrics_directory(settings: Settings) -> Iterator[None]:
    """A fresh directory for the workers' metrics, for this serve only: a previous run's
    files would be summed into this one's counts. Removed when the serve ends."""
    if not settings.metrics:
        yield
        return
    directory = tempfile.mkdtemp(prefix="cinema-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .logs import configure_logging

    settings = Settings.from_env()
    if args.demo and settings.database_url is not None:
        raise CannotStart(
            "--demo adds sample sessions to an in-memory box office only; unset "
            "CINEMA_DATABASE_URL to use it.",
            EXIT_USAGE,
        )
    if args.workers > 1 and settings.database_url is None:
        raise CannotStart(
            "--workers > 1 needs CINEMA_DATABASE_URL: in memory each process would have its "
            "own box office, and they would sell the same seats.",
            EXIT_USAGE,
        )
    # Before anything is printed, migrated or forked: a banner of tokens and links would point
    # at whichever program holds the port.
    _check_port(args.host, args.port)
    configure_logging(settings.log_level, settings.log_format)
    _require_database(settings)
    secret = None
    if settings.auth_secret is None:
        secret = secrets.token_urlsafe(32)
        # Child worker processes read the environment: they must check tokens with this secret.
        os.environ["CINEMA_AUTH_SECRET"] = secret
        settings = Settings.from_env()
    options = {
        "host": args.host,
        "port": args.port,
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": 3,
        # What one client may hold: a connection idle between requests is closed after
        # timeout_keep_alive, and so is one whose request head has not arrived that long after
        # it opened or after its last response (entrypoints/http/connections.py); past
        # limit_concurrency requests in flight, new ones get a 503 at once (/health never).
        # At scale put a proxy in front (deploy/nginx).
        "http": "entrypoints.http.framework.connections:BoundedHeadProtocol",
        "limit_concurrency": args.limit_concurrency,
        "timeout_keep_alive": args.timeout_keep_alive,
        "proxy_headers": True,
        "forwarded_allow_ips": args.forwarded_allow_ips,
    }
    if args.workers > 1:
        if secret is not None:
            _print_tokens(secret, args.host, args.port)
        os.environ["CINEMA_RUN_WORKER"] = "0" if args.no_worker else "1"
        with _metrics_directory(settings):
            uvicorn.run(
                "entrypoints.http.app:app_from_env", factory=True, workers=args.workers, **options
            )
        return 0
    from .bootstrap import bootstrap
    from .garbage_collector import tune_for_serving
    from .http.app import create_app

    if args.demo and "CINEMA_PAYMENT_PROVIDER" not in os.environ:
        # The demo shows the whole Pix flow: payments through the sandbox, approved by hand.
        settings = attrs.evolve(settings, payment_provider="sandbox")
    if settings.public_url is None:
        settings = attrs.evolve(settings, public_url=f"http://{args.host}:{args.port}")
    services = bootstrap(settings)
    if args.demo:
        from .sample_sessions import add_sample_sessions

        sample = add_sample_sessions(services.box)[0]
    if secret is not None:
        _print_tokens(
            secret,
            args.host,
            args.port,
            sample if args.demo else None,
            sandbox=settings.payment_provider == "sandbox",
        )
    app = create_app(services, run_worker=not args.no_worker)
    tune_for_serving()
    uvicorn.run(app, **options)
    return 0


def _check_port(host: str, port: int) -> None:
    """Refuse at once, in one line, a port this process cannot listen on (another program
    holds it, or the host is not this machine's). A program that takes the port between this
    check and uvicorn's own bind still makes uvicorn fail, after the banner."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        raise CannotStart(f"cannot listen on {host}: not a known address", EXIT_USAGE) from None
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a previous run is usable.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = (
                "another program is listening on it (choose another with --port)"
                if error.errno == errno.EADDRINUSE
                else (error.strerror or str(error)).lower()
            )
            message = f"cannot listen on port {port} of {host}: {reason}"
            raise CannotStart(message, EXIT_USAGE) from None


def _print_tokens(
    secret: str, host: str, port: int, sample: UUID | None = None, *, sandbox: bool = False
) -> None:
    """The first-run banner: tokens, links signed in, and lines to paste into bash, which work
    as pasted against this server (real ids, a real instant; ``sample`` is the id of a demo
    session to try)."""
    from .http.framework.auth import issue_token

    admin = issue_token(secret, "admin", "admin", TOKEN_TTL)
    customer = issue_token(secret, "alice", "customer", TOKEN_TTL)
    # A wildcard address listens everywhere; the links name this machine.
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    base = f"http://{'[' + shown + ']' if ':' in shown and '[' not in shown else shown}:{port}"
    # The token rides in the fragment, which the browser keeps to itself; the page stores it
    # for the tab and removes it from the address bar.
    pages = [
        "Open in a browser (already signed in):",
        f"  seat picker:   {base}/s/{sample}#token={customer}" if sample else "",
        f"  sessions:      {base}/#token={customer}",
        f"  admin screen:  {base}/admin#token={admin}",
        "" if sample else "  (cinema serve --demo starts with sample sessions to pick seats in)",
    ]
    if sandbox:
        pages += [
            "Pix payments go through the sandbox: press Pay on the seat picker, then play the",
            '  bank: approve it on the admin screen under "Sandbox payments" (no real money).',
        ]
    bearer = '-H "Authorization: Bearer $ADMIN"'
    alice = '-H "Authorization: Bearer $ALICE"'
    json = "-H 'Content-Type: application/json'"
    field = "python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])'"
    if sample:
        session = [f"SESSION={sample}   # Filme X, in Sala 1, some seats sold"]
    else:
        # A week ahead at 19:00 UTC: still to come whenever these lines are pasted today.
        starts_at = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT19:00:00Z")
        created = (
            '{"movie":"Filme X","room":"Sala 1","starts_at":"' + starts_at + '",'
            '"price":"25.00","rows":4,"seats_per_row":4}'
        )
        session = [
            f"SESSION=$(curl -s -X POST $API/sessions {bearer} {json} -d '{created}' | field id)"
        ]
    hold = '{"session_id":"\'$SESSION\'","seats":["A1","A2"]}'
    lines = [
        "No CINEMA_AUTH_SECRET was set, so this run made one up (its tokens die with it).",
        "",
        f"  admin token:    {admin}   (user admin, valid 24 h)",
        f"  customer token: {customer}   (user alice, valid 24 h)",
        "",
        # The secret is shown because the admin token beside it can do as much while this
        # process lives; set CINEMA_AUTH_SECRET for a server whose tokens must outlive it.
        "More tokens for this server (any --user, --role customer, staff or admin):",
        # "=" keeps a secret that starts with "-" (one made-up secret in 64) from reading as
        # an option.
        f"  cinema token --secret={secret} --user bob",
        "",
        *(line for line in pages if line),
        "",
        "Try (paste into bash; a hold lasts CINEMA_RESERVATION_TTL_SECONDS, 30 s by default: "
        "pay within it):",
        f"  export API={base} ADMIN={admin} ALICE={customer}",
        f'  field() {{ {field} "$1"; }}',
        *(f"  {line}" for line in session),
        "  curl -s $API/sessions/$SESSION; echo",
        f"  HOLD=$(curl -s -X POST $API/reservations {alice} {json} -d '{hold}' | field id)",
        f"  curl -s -X POST $API/reservations/$HOLD/payment {alice}; echo",
        f"  curl -s $API/users/alice/purchases {alice}; echo",
        "  curl -N $API/sessions/$SESSION/seats/stream   # Ctrl-C to stop",
        "",
        f"  Swagger UI: {base}/api-docs",
        "",
    ]
    print("\n".join(lines), flush=True)


def _token(args: argparse.Namespace) -> int:
    from .http.framework.auth import issue_token

    if args.secret is not None:
        if not args.secret:
            raise CannotStart("--secret is empty: tokens signed with nothing", EXIT_USAGE)
        secret = args.secret
    else:
        secret = Settings.from_env().auth_secret
    if secret is None:
        raise CannotStart(
            "no secret to sign with: set CINEMA_AUTH_SECRET or pass --secret (a cinema serve "
            "that made its secret up prints the `cinema token --secret ...` line for it).",
            EXIT_USAGE,
        )
    try:
        print(issue_token(secret, args.user, args.role, args.ttl or None))
    except ValueError as error:
        raise CannotStart(str(error), EXIT_USAGE) from None
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap
    from .logs import configure_logging
    from .worker import BackgroundWorker

    settings = Settings.from_env()
    if settings.database_url is None:
        raise CannotStart(
            "needs CINEMA_DATABASE_URL. In memory every process has its own box office, so a "
            "separate worker would sweep an empty one; `cinema serve` runs the worker inside "
            "the API.",
            EXIT_USAGE,
        )
    configure_logging(settings.log_level, settings.log_format)
    _require_database(settings)
    services = bootstrap(settings)
    worker = BackgroundWorker(services)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: worker.stop())
    try:
        worker.run_forever()
    finally:
        worker.stop()
        services.close()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if settings.database_url is None:
        print("cinema migrate: no CINEMA_DATABASE_URL; in memory there is nothing to migrate.")
        return 0
    try:
        from adapters.postgres.migrations import MigrationFailed, upgrade
    except ImportError as error:
        raise CannotStart(f"PostgreSQL migrations are not available: {error}", EXIT_USAGE) from None
    from cinema_core import StoreUnavailable

    try:
        applied = upgrade(settings.database_url)
    except (StoreUnavailable, MigrationFailed) as error:
        raise CannotStart(str(error)) from None
    except Exception as error:  # not the database's refusal: say what, on one line
        reason = " ".join(f"{error}".split()) or type(error).__name__
        raise CannotStart(f"failed: {reason}") from None
    at = ", ".join(applied.heads) or "empty"
    if applied.revisions:
        count = len(applied.revisions)
        print(f"cinema migrate: applied {count} revision{'s' if count > 1 else ''}:")
        width = max(len(rev) for rev, _ in applied.revisions)
        for rev, doc in applied.revisions:
            print(f"  {rev.ljust(width)}  {doc}".rstrip())
        print(f"cinema migrate: the schema is now at {at}.")
    else:
        print(f"cinema migrate: the schema was already up to date (at {at}); nothing to apply.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import play

    return play(sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
