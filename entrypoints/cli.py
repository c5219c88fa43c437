"""``cinema``: serve the API, run the worker, migrate, play the demo, or print a token."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
from collections.abc import Sequence

from .config import ConfigError, Settings

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cinema`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except ConfigError as error:
        print(f"cinema: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cinema", description="The cinema box office.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=_positive, default=1, help="processes (default 1)")
    serve.add_argument(
        "--no-worker", action="store_true", help="leave expiry and the relay to `cinema worker`"
    )
    serve.add_argument(
        "--demo", action="store_true", help="in memory only: start with sample sessions to try"
    )
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run the expiry sweeper and event relay alone")
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser("demo", help="play the box office's story in memory")
    demo.set_defaults(run=_demo)

    token = commands.add_parser("token", help="print a bearer token for the configured secret")
    token.add_argument("--user", required=True, help="the user id (1–64 characters)")
    token.add_argument("--role", choices=("customer", "staff", "admin"), default="customer")
    token.add_argument("--ttl", type=float, default=None, help="seconds until it lapses")
    token.set_defaults(run=_token)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .logs import configure_logging

    settings = Settings.from_env()
    if args.demo and settings.database_url is not None:
        print(
            "cinema serve: --demo adds sample sessions to an in-memory box office only; "
            "unset CINEMA_DATABASE_URL to use it.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.workers > 1 and settings.database_url is None:
        print(
            "cinema serve: --workers > 1 needs CINEMA_DATABASE_URL: in memory each process "
            "would have its own box office, and they would sell the same seats.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    secret = None
    if settings.auth_secret is None:
        secret = secrets.token_urlsafe(32)
        # Child worker processes read the environment: they must check tokens with this secret.
        os.environ["CINEMA_AUTH_SECRET"] = secret
        settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    options = {
        "host": args.host,
        "port": args.port,
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": 3,
    }
    if args.workers > 1:
        if secret is not None:
            _print_tokens(secret, args.host, args.port)
        os.environ["CINEMA_RUN_WORKER"] = "0" if args.no_worker else "1"
        uvicorn.run(
            "entrypoints.http.app:app_from_env", factory=True, workers=args.workers, **options
        )
        return 0
    from .bootstrap import bootstrap
    from .garbage_collector import tune_for_serving
    from .http.app import create_app

    services = bootstrap(settings)
    picker = None
    if args.demo:
        from .sample_sessions import add_sample_sessions

        picker = f"/s/{add_sample_sessions(services.box)[0]}"
    if secret is not None:
        _print_tokens(secret, args.host, args.port, picker)
    app = create_app(services, run_worker=not args.no_worker)
    tune_for_serving()
    uvicorn.run(app, **options)
    return 0


def _print_tokens(secret: str, host: str, port: int, picker: str | None = None) -> None:
    from .http.auth import issue_token

    admin = issue_token(secret, "admin", "admin")
    customer = issue_token(secret, "alice", "customer")
    base = f"http://{host}:{port}"
    # The token rides in the fragment, which the browser keeps to itself; the page stores it
    # for the tab and removes it from the address bar.
    pages = [
        "Open in a browser (already signed in):",
        f"  seat picker:   {base}{picker}#token={customer}" if picker else "",
        f"  sessions:      {base}/#token={customer}",
        f"  admin screen:  {base}/admin#token={admin}",
        "" if picker else "  (cinema serve --demo starts with sample sessions to pick seats in)",
    ]
    session = (
        '{"movie":"Filme X","room":"Sala 1","starts_at":"2030-12-01T19:00:00Z",'
        '"price":"25.00","rows":4,"seats_per_row":4}'
    )
    json = "-H 'Content-Type: application/json'"
    lines = [
        "No CINEMA_AUTH_SECRET was set, so this run made one up (its tokens die with it).",
        "",
        f"  admin token:    {admin}",
        f"  customer token: {customer}   (user alice)",
        "",
        *(line for line in pages if line),
        "",
        "Try:",
        f"  export ADMIN={admin}",
        f"  export ALICE={customer}",
        f'  curl -s -X POST {base}/sessions -H "Authorization: Bearer $ADMIN" {json} '
        f"-d '{session}'",
        f"  curl -s {base}/sessions",
        f'  curl -s -X POST {base}/reservations -H "Authorization: Bearer $ALICE" {json} '
        '-d \'{"session_id":"<session id>","seats":["A1","A2"]}\'',
        f"  curl -s -X POST {base}/reservations/<reservation id>/payment "
        '-H "Authorization: Bearer $ALICE"',
        f'  curl -s {base}/users/alice/purchases -H "Authorization: Bearer $ALICE"',
        f"  curl -N {base}/sessions/<session id>/seats/stream",
        f"  Swagger UI: {base}/api-docs",
        "",
    ]
    print("\n".join(lines), flush=True)


def _token(args: argparse.Namespace) -> int:
    from .http.auth import issue_token

    settings = Settings.from_env()
    if settings.auth_secret is None:
        print(
            "cinema token: CINEMA_AUTH_SECRET is not set; tokens are signed with it "
            "(cinema serve prints tokens when it makes a secret up).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        print(issue_token(settings.auth_secret, args.user, args.role, args.ttl))
    except ValueError as error:
        print(f"cinema token: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap
    from .logs import configure_logging
    from .worker import BackgroundWorker

    settings = Settings.from_env()
    if settings.database_url is None:
        print(
            "cinema worker: needs CINEMA_DATABASE_URL. In memory every process has its own "
            "box office, so a separate worker would sweep an empty one; `cinema serve` runs "
            "the worker inside the API.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.log_format)
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
        from adapters.postgres.migrations import upgrade
    except ImportError as error:
        print(f"cinema migrate: PostgreSQL migrations are not available: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        upgrade(settings.database_url)
    except Exception as error:
        print(f"cinema migrate: failed: {error}", file=sys.stderr)
        return 1
    print("cinema migrate: the database schema is up to date.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import play

    return play(sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
