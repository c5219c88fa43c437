"""The report's --profile sections: py-spy's hot spots and the statements per request."""

from __future__ import annotations

from collections import Counter

from .profiling import Ranking
from .results import ScenarioResult
from .statements import Count
from .tables import table


def hot_spots(result: ScenarioResult, top: int, gil: bool) -> list[str]:
    out: list[str] = []
    for kind, ranking in result.hot_spots.items():
        what = "samples of the thread holding the GIL" if gil else "samples of every thread"
        out += ["", f"HOT SPOTS of {result.name}, {kind} (py-spy, {ranking.samples:,} {what})"]
        if not ranking.samples:
            out.append("  no samples")
            continue
        out += _ranked(ranking, ranking.own, top, "self", "any function")
        ours = Counter({k: n for k, n in ranking.anywhere.items() if k in ranking.ours})
        out += _ranked(ranking, ours, top, "total", "the project's functions")
    return out


def _ranked(ranking: Ranking, counts: Counter[str], top: int, by: str, which: str) -> list[str]:
    other = ranking.anywhere if by == "self" else ranking.own
    lines = [
        [f"{share:5.1f}%", f"{100 * other[key] / ranking.samples:5.1f}%", key]
        for share, key in ranking.top(top, counts)
    ]
    head = ["self", "total"] if by == "self" else ["total", "self"]
    return table([*head, f"{which}, top {top} by {by}"], lines)


def statements(counts: list[Count]) -> list[str]:
    if not counts:
        return []
    out = [
        "",
        "STATEMENTS per request (PostgreSQL's log: one API process served --no-worker, each "
        "request alone; each statement is a round trip)",
    ]
    lines = []
    for c in counts:
        low, high = min(c.counts), max(c.counts)
        lines.append([c.request, str(low) if low == high else f"{low}–{high}"])
        lines += [["", f"{n}× {text}"] for text, n in Counter(c.last).items()]
    out += table(["request", "statements (and those of the last try)"], lines)
    return out
