"""How the core is put together: use cases composed, outages handled where backends are wired,
and the switches of control runs kept in tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cinema_core import BoxOffice

ROOT = Path(__file__).resolve().parents[2]
# Where backends are the subject: the error itself, the ports that raise it, the wrappers that
# absorb it, the loops that report it, and the relay to the broker.
BACKEND_MODULES = {"errors.py", "ports.py", "fallbacks.py", "supervision.py", "relay.py"}


def _sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def test_the_box_office_is_composed_not_mixed_in() -> None:
    """BoxOffice has no base class, and no core method exists only for another to override."""
    assert BoxOffice.__mro__ == (BoxOffice, object)
    found = [
        str(path.relative_to(ROOT))
        for path in _sources("cinema_core")
        if "NotImplementedError" in path.read_text()
    ]
    assert found == []


def test_no_use_case_hears_of_a_backend_outage() -> None:
    """No use case catches BackendUnavailable or names Redis: the composition root wraps the
    ports that may fail (cinema_core/resilience/fallbacks.py) before handing them over."""
    found = [
        str(path.relative_to(ROOT))
        for path in _sources("cinema_core")
        if path.name not in BACKEND_MODULES
        and path.name != "__init__.py"
        and re.search(r'BackendUnavailable|"redis"', path.read_text())
    ]
    assert found == []


def test_switches_of_control_runs_live_in_tests() -> None:
    """No production module of the core or the entrypoints carries a TEST-ONLY switch."""
    found = [
        str(path.relative_to(ROOT))
        for path in _sources("cinema_core", "entrypoints")
        if "TEST-ONLY" in path.read_text()
    ]
    assert found == []


def test_the_box_office_only_hands_each_call_to_a_use_case() -> None:
    """Every public method of BoxOffice is one line, ``return self.<use case>.<method>(...)``,
    after its docstring: the facade holds no rule and no store call of its own."""
    tree = ast.parse((ROOT / "cinema_core" / "box_office.py").read_text())
    (facade,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "BoxOffice"]
    not_delegating = []
    for item in facade.body:
        if not isinstance(item, ast.FunctionDef) or item.name.startswith("_"):
            continue
        body = item.body[1:] if ast.get_docstring(item) else item.body
        call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
        target = call.func if isinstance(call, ast.Call) else None
        if not (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Attribute)
            and isinstance(target.value.value, ast.Name)
            and target.value.value.id == "self"
        ):
            not_delegating.append(item.name)
    assert not_delegating == []
