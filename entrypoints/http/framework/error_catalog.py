"""Error messages for the catalogs: ``pybabel extract`` finds each error class's
``default_message`` (and the framework's marked messages) here, so that the core writes plain
English without knowing about gettext and the HTTP edge translates by what the core said."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from typing import IO, Any

from babel.messages.extract import extract_python


def extract_errors(
    source: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, Any, Any, Any]]:
    """Babel's extractor interface: the strings marked ``_()``/``N_()`` as Babel's Python
    extractor finds them, and every string assigned to ``default_message`` in a class body
    (``code, status, default_message = "x", 409, "…"`` too)."""
    data = source.read()
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)
    tree = ast.parse(data)
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            yield from _messages(statement)


def _messages(statement: ast.stmt) -> Iterator[tuple[int, Any, Any, Any]]:
    if not isinstance(statement, ast.Assign):
        return
    for target in statement.targets:
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        values = (
            statement.value.elts
            if isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple)
            else [statement.value]
        )
        for name, value in zip(names, values, strict=False):
            if (
                isinstance(name, ast.Name)
                and name.id == "default_message"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                yield value.lineno, None, value.value, []
