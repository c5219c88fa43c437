"""Developer tasks: ``nox`` runs the tests; ``nox -s lint typecheck`` the checks CI also runs."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


def install(session: nox.Session, *extras: str) -> None:
    """Install the project with the given extras into the session's virtualenv."""
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, contract and flow suites, with coverage of cinema_core (fails under 90 %)."""
    install(session, "test")
    session.run(
        "pytest",
        "--cov=cinema_core",
        "--cov-report=term-missing:skip-covered",
        "--cov-fail-under=90",
        *session.posargs,
    )


@nox.session
def screenshots(session: nox.Session) -> None:
    """Redraw docs/screenshots/*.png, the README's pictures of the pages, in headless Chromium."""
    install(session, "test")
    session.run(
        "pytest",
        "tests/flow/browser/test_screenshots.py",
        "-q",
        *session.posargs,
        # A missing Chromium fails here rather than leaving the old pictures unnoticed.
        env={"CINEMA_SCREENSHOTS": "docs/screenshots", "CINEMA_REQUIRE_SERVICES": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check (pass ``-- --fix`` style options through posargs)."""
    session.install("ruff==0.17.6")  # pinned: new rules must not break CI unannounced
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy in strict mode on the core."""
    install(session)
    session.install("mypy==2.4.1")
    session.run("mypy", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The bench as a user runs the box office (see bench/README.md); options via posargs."""
    install(session, "bench")
    session.run("python", "-m", "bench", *session.posargs)
