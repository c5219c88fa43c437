"""Developer tasks: ``nox`` runs the tests; ``nox -s lint typecheck`` the checks CI also runs."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


def install(session: nox.Session, *extras: str) -> None:
    """Install the project with the given extras into the session's virtualenv."""
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


COVERAGE_FLOOR = 90
# pytest options that run some tests only (besides a path or a node id).
_SELECTING = ("-k", "-m", "--deselect", "--lf", "--last-failed", "--sw", "--stepwise")


def selects_tests(args: list[str]) -> bool:
    """Whether these pytest arguments pick a part of the suite: then the total coverage of
    cinema_core says nothing about the tests, and the floor is not applied."""
    return any(
        not arg.startswith("-") or arg.split("=")[0] in _SELECTING or arg[:2] in ("-k", "-m")
        for arg in args
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, contract and flow suites, with coverage of cinema_core; the whole suite fails
    under 90 %, a part of it (``-- tests/unit``, ``-- -k money``) never on coverage."""
    install(session, "test")
    floor = [] if selects_tests(session.posargs) else [f"--cov-fail-under={COVERAGE_FLOOR}"]
    session.run(
        "pytest",
        "--cov=cinema_core",
        "--cov-report=term-missing:skip-covered",
        *floor,
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
    """mypy in strict mode on the packages pyproject names (the core, the adapters)."""
    install(session, "otel")
    session.install("mypy==2.4.1")
    session.run("mypy", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The bench as a user runs the box office (see bench/README.md); options via posargs."""
    install(session, "bench")
    session.run("python", "-m", "bench", *session.posargs)


CATALOGS = "entrypoints/http/pages/locale"


@nox.session
def translations(session: nox.Session) -> None:
    """Extract the pages' and errors' text into messages.pot, update each locale's .po with it
    (new strings arrive untranslated, which tests/unit/test_translations.py refuses), and
    compile the .mo files the package ships (committed: a fresh clone serves pt-BR at once)."""
    install(session)
    session.install("babel>=2.14")
    pot = f"{CATALOGS}/messages.pot"
    session.run(
        "pybabel", "extract", "-F", "babel.cfg", "--no-location", "--sort-output",
        "--omit-header", "-o", pot, ".", env={"PYTHONPATH": "."},
    )  # fmt: skip
    session.run(
        "pybabel", "update", "-i", pot, "-d", CATALOGS, "--no-fuzzy-matching",
        "--ignore-obsolete", "--omit-header",
    )  # fmt: skip
    # --use-fuzzy: a catalog without a header reads as fuzzy to pybabel; fuzzy entries themselves
    # are refused by tests/unit/test_translations.py before they could be compiled.
    session.run("pybabel", "compile", "--use-fuzzy", "-d", CATALOGS, "--statistics")
