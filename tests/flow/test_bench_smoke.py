"""The bench keeps working: a tiny in-memory run of ``python -m bench`` ends with its invariant
check passed and its table printed (the full bench is run by hand, ``nox -s bench``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.invariant import Check, check_session

ROOT = Path(__file__).resolve().parents[2]

TINY = [
    "--backend", "memory",
    "--duration", "1",
    "--connections", "4",
    "--buyers", "60",
    "--rows", "4",
    "--seats-per-row", "5",
    "--race-buyers", "8",
    "--race-rounds", "4",
    "--map-rows", "4",
    "--map-seats-per-row", "10",
    "--steady-users", "10",
    "--soak-seconds", "1",
]  # fmt: skip


@pytest.mark.slow
def test_tiny_bench_run_passes_its_invariant_check_and_prints_the_table(tmp_path: Path) -> None:
    """Every scenario runs against a real `cinema serve`, is checked, and reaches the table."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", *TINY, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    for heading in ("FIGURES", "LATENCY per route", "STATUS CODES", "MEMORY", "INVARIANT CHECKS"):
        assert heading in text
    for scenario in ("race", "sell-out", "sell-out, best available", "steady", "seat map", "soak"):
        assert f"  {scenario}: passed" in text
    assert text.count("all 19 seats sold") == 2  # 4 rows of 5, one seat broken; both sell-outs
    assert "✓ no false refusal" in text
    assert "RESULT: invariant held in every scenario" in text
    assert json.loads(out.read_text())["invariant_held"] is True


@pytest.mark.slow
def test_a_scenario_that_cannot_be_checked_fails_the_command() -> None:
    """A scenario that cannot finish (here: a seat map too big for the API) exits 1, reported."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--backend", "memory", "--scenarios", "seatmap",
         "--map-rows", "30", "--duration", "1", "--no-generator-ceiling"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "seatmap: FAILED" in done.stdout
    assert "RESULT: invariant FAILED" in done.stdout


def test_invariant_check_catches_a_seat_sold_twice() -> None:
    """Two sales of one seat, or a sale the buyer was never told of, fail the check."""
    seat_map = {
        "session_id": "s-1",
        "held": 0,
        "sold": 2,
        "seats": [
            {"label": "A1", "category": "standard", "status": "sold"},
            {"label": "A2", "category": "standard", "status": "sold"},
            {"label": "A3", "category": "standard", "status": "available"},
        ],
    }

    def sale(id: str, seats: list[str]) -> dict[str, object]:
        lines = [{"seat": seat, "price": "25.00"} for seat in seats]
        amount = f"{25 * len(seats)}.00"
        return {"id": id, "session_id": "s-1", "seats": seats, "amount": amount, "lines": lines}

    first, second = sale("1", ["A1", "A2"]), sale("2", ["A2"])
    check = Check("doubled")
    check_session(check, seat_map, [first, second], [first], {"standard": "25.00"})
    assert not check.passed
    assert any("sold twice: ['A2']" in problem for problem in check.problems)
    assert any("1 unknown" in problem for problem in check.problems)
