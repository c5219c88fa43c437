"""Plain-text tables for the report: left-aligned columns, a rule under the head."""

from __future__ import annotations


def table(head: list[str], lines: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(head, *lines, strict=False)]

    def row(cells: list[str]) -> str:
        return ("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()

    return [row(head), row(["-" * w for w in widths]), *(row(line) for line in lines)]
