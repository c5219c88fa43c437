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


def _is_protocol(node: ast.ClassDef) -> bool:
    return any(
        (isinstance(base, ast.Name) and base.id == "Protocol")
        or (isinstance(base, ast.Attribute) and base.attr == "Protocol")
        or (isinstance(base, ast.Subscript) and ast.unparse(base.value).endswith("Protocol"))
        for base in node.bases
    )


def _only_raises_not_implemented(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = [
        statement
        for statement in function.body
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
    ]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def test_no_method_exists_only_to_be_overridden() -> None:
    """No class of the core or the adapters (Protocols excepted) has a method whose body is only
    ``raise NotImplementedError``: what a sibling would supply is handed in, not mixed in."""
    found = []
    for path in _sources("cinema_core", "adapters"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not _is_protocol(node):
                found += [
                    f"{path.relative_to(ROOT)}: {node.name}.{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and _only_raises_not_implemented(item)
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


def _runs_on_an_executor(receiver: ast.expr) -> bool:
    """Sent by an executor as the PostgreSQL adapters name one (``db``, ``self._db``), or read
    from what one answered (``db.core(query).scalars()``, ``Executor(connection).execute``)."""
    return (
        (isinstance(receiver, ast.Name) and receiver.id == "db")
        or (isinstance(receiver, ast.Attribute) and receiver.attr == "_db")
        or isinstance(receiver, ast.Call)
    )


def test_every_postgresql_statement_goes_through_the_executor() -> None:
    """Outside executor.py (and the migrations), no PostgreSQL adapter runs a statement on a
    connection of its own: the store, idempotency keys and the consumers' handled ids all send
    theirs through one ``Executor``."""
    folder = ROOT / "adapters" / "postgres"
    found = []
    for path in sorted(folder.rglob("*.py")):
        if path.name == "executor.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute", "scalars", "scalar", "exec_driver_sql"}
                and not _runs_on_an_executor(node.func.value)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
