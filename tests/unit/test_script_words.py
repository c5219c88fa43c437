"""No page script holds a visible word of its own: what a script shows is a phrase of its
page's template (``<template id="phrases">``), translated with it. A simple scan of the string
literals under static/js: one that reads like prose (two words, or a capitalised word), or any
word put on the page (textContent, title, labels, options, messages), is a finding unless it is
on the short allow-list of strings nobody reads (headers, methods, selectors)."""

from __future__ import annotations

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "entrypoints" / "http" / "pages" / "static" / "js"
# Strings a script sends or matches, never shows.
NOT_SHOWN = {"Bearer ", "Content-Type", "Idempotency-Key", "Date", "unauthorized"}
NOT_SHOWN |= {"field inline", "seat mini cat-", "seat cat-"}  # class names
NOT_SHOWN |= {"ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"}  # keys
NOT_SHOWN |= {"ok", "check", "refused"}  # the door's verdicts, a data attribute the CSS colours
_COMMENT = re.compile(r"(?m)^\s*//[^\n]*$|/\*(?:.|\n)*?\*/|(?<=[;,{}()])\s*//[^\n'\"`]*$")
_LITERAL = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`")
_PROSE = re.compile(r"[A-Za-z]{2,}[,.:;!?…]? +[A-Za-z]{2,}|^[A-Z][a-z]+|…")
# In a statement that shows text, these name things rather than say them: a phrase's key, an
# element's id, a value compared with, an error code or phrase key (``seats_unavailable``).
_NAMING = re.compile(
    r"phrase\(\s*(['`])(?:[^'`\\]|\\.)*\1|\$\((['`])[^'`]*\2\)|[!=]==\s*'[^']*'|\bsay\('\w+'"
    r"|execCommand\?\.\('\w+'\)"
)
_CODE = re.compile(r"^[a-z]+(?:[_-][a-z]*)+$")
# Where a literal lands on the page: the rest of that statement is shown.
_SHOWN_AT = re.compile(
    r"(?:\.textContent|\.innerText|\.title|\.placeholder|\.label)\s*=|setAttribute\('aria-label',"
    r"|new Option\(|\b(?:info|problem|say|confirm|alert)\("
)


def _literals(text: str) -> list[str]:
    found = []
    for match in _LITERAL.finditer(text):
        body = next(group for group in match.groups() if group is not None)
        found.append(re.sub(r"\$\{[^}]*\}", "", body))
    return found


def _findings(path: Path) -> list[str]:
    source = _COMMENT.sub("", path.read_text())
    out = []
    for literal in _literals(source):
        if literal not in NOT_SHOWN and _PROSE.search(literal):
            out.append(literal)
    for where in _SHOWN_AT.finditer(source):
        statement = _NAMING.sub("", source[where.start() : source.find(";", where.end())])
        for literal in _literals(statement):
            if literal in NOT_SHOWN or _CODE.match(literal):
                continue
            if re.search(r"[A-Za-z]{2,}", literal) and literal not in out:
                out.append(literal)
    return [f"{path.name}: {each!r}" for each in out]


def test_no_script_shows_a_word_that_is_not_a_phrase() -> None:
    """A script's visible English would stay English on a pt-BR page: it must be a phrase."""
    findings = [line for path in sorted(JS.glob("*.js")) for line in _findings(path)]
    assert not findings, "\n".join(findings)


def test_the_scan_finds_a_visible_word(tmp_path: Path) -> None:
    """The scan itself: prose anywhere, or a word set as text, is found; keys and ids are not."""
    script = tmp_path / "sample.js"
    script.write_text(
        "import { phrase } from './phrases.js';\n"
        "// A comment may say anything at all.\n"
        "mark.textContent = on ? 'live' : phrase('reconnecting');\n"
        "info(`${n} seconds left`);\n"
        "problem(phrase('sign-in'), 'unauthorized');\n"
        "document.querySelector('[data-action=\"hold\"]');\n"
    )
    assert _findings(script) == ["sample.js: ' seconds left'", "sample.js: 'live'"]
