"""What a user of the project finds in it, and the tooling that runs it, checked as files."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class _Session:
    """What the noxfile's sessions use of ``nox.Session``, recording what they run."""

    def __init__(self, posargs: list[str]):
        self.posargs = posargs
        self.runs: list[tuple[str, ...]] = []

    def install(self, *args: str) -> None:
        pass

    def run(self, *args: str) -> None:
        self.runs.append(args)


def _noxfile(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The noxfile, loaded with a stand-in for nox (the test run need not have nox)."""
    fake = types.ModuleType("nox")
    fake.options = types.SimpleNamespace()  # type: ignore[attr-defined]
    fake.session = lambda function=None, **_: function or (lambda f: f)  # type: ignore[attr-defined]
    fake.Session = _Session  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nox", fake)
    spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("posargs", "floor"),
    [
        ([], True),
        (["-x", "-q"], True),
        (["--timeout=60"], True),
        (["tests/unit", "-q"], False),
        (["tests/unit/test_money.py::test_currency_defaults_to_brl"], False),
        (["-k", "money"], False),
        (["-kmoney"], False),
        (["-m", "not slow"], False),
        (["--lf"], False),
    ],
)
def test_the_coverage_floor_applies_to_the_whole_suite_only(
    monkeypatch: pytest.MonkeyPatch, posargs: list[str], floor: bool
) -> None:
    """`nox -s tests` fails under 90 % coverage; `nox -s tests -- tests/unit -q` (the
    README's example) or any other part of the suite is never failed on total coverage."""
    session = _Session(posargs)
    _noxfile(monkeypatch).tests(session)
    (command,) = session.runs
    assert ("--cov-fail-under=90" in command) is floor
    assert command[len(command) - len(posargs) :] == tuple(posargs), "posargs go last"


def test_no_coverage_floor_hides_in_the_coverage_configuration() -> None:
    """pytest-cov applies coverage's own fail_under to every run: it must not be set there."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "fail_under" not in config["tool"]["coverage"]["report"]
