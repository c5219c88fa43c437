"""The bench keeps working: a tiny in-memory run of ``python -m bench`` ends with its invariant
check passed and its table printed (the full bench is run by hand, ``nox -s bench``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.invariant import Check, check_session
from bench.options import parse
from bench.pgbench import measure
from bench.process_cpu import server_of
from bench.profiling import rank
from bench.scenarios import SCENARIOS
from bench.scenarios.pay import check_payments
from bench.statements import statements
from tests import services

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
    "--queue-arrivals", "300",
    "--queue-burst", "100",
    "--queue-per-minute", "6000",
    "--queue-window", "1",
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
    for scenario in (
        "race",
        "sell-out",
        "sell-out 1",
        "sell-out, best available",
        "steady",
        "seat map",
        "soak",
        "pay",
        "queue",
    ):
        assert f"  {scenario}: passed" in text
    assert text.count("all 19 seats sold") == 3  # 4 rows of 5, one seat broken; each sell-out
    assert "of one place (a seat or a couple seat) each" in text
    assert "✓ no false refusal" in text
    assert "approved payments: each has exactly one sale of its amount" in text
    assert "CINEMA_PAYMENT_PROVIDER=sandbox" in text  # pay plays on a stack of its own
    assert "CPU the payment step adds per sale" in text
    assert "CPU per request, ms, by kind of process" in text
    assert "RESULT: invariant held in every scenario" in text
    found = json.loads(out.read_text())
    assert found["invariant_held"] is True
    assert found["cpu_seconds"]["sell-out 1"]["API"] > 0


@pytest.mark.slow
def test_a_scenario_that_cannot_be_checked_fails_the_command() -> None:
    """A scenario that cannot finish (here: a seat map too big for the API) exits 1, reported."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--backend", "memory", "--scenarios", "seatmap",
         "--map-rows", "30", "--duration", "1"],
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


def test_pay_check_catches_an_approved_payment_without_its_one_sale() -> None:
    """An approved payment with two sales, a sale of another amount, or a sale with no approved
    payment fails the check; one sale of the payment's amount passes."""

    def payment(id: str, reservation: str, sale: str, amount: str = "50.00") -> dict[str, str]:
        return {"id": id, "reservation_id": reservation, "sale_id": sale, "amount": amount,
                "status": "approved"}  # fmt: skip

    def sale(id: str, reservation: str, amount: str = "50.00") -> dict[str, str]:
        return {"id": id, "reservation_id": reservation, "amount": amount}

    good = Check("pay")
    check_payments(good, [payment("p1", "r1", "s1")], [sale("s1", "r1")])
    assert good.passed, good.problems
    for payments, sales, found in [
        ([payment("p1", "r1", "s1")], [sale("s1", "r1"), sale("s2", "r1")], "has 2 sales"),
        ([payment("p1", "r1", "s1")], [sale("s1", "r1", "25.00")], "its reservation's is of"),
        ([payment("p1", "r1", "s1")], [], "has 0 sales"),
        ([payment("p1", "r1", "s1")], [sale("s1", "r1"), sale("s9", "r9")], "['s9']"),
    ]:
        check = Check("pay")
        check_payments(check, payments, sales)
        assert not check.passed
        assert found in check.problems[0]


def test_the_default_run_is_what_a_user_runs() -> None:
    """PostgreSQL + Redis + RabbitMQ, two API processes at the default log level, every
    scenario (both sell-outs among them)."""
    options = parse(tuple(SCENARIOS), [])
    assert (options.backend, options.broker, options.workers) == ("postgres", True, 2)
    assert options.log_level is None  # cinema's own default, INFO
    assert options.rate_limits
    assert not options.worker  # the sweeper and relay run inside the API processes
    assert {"sellout", "sellout1", "seatmap"} <= set(options.scenarios)
    assert options.map_rows * options.map_seats_per_row == 2600


def test_a_shared_server_is_found_by_the_port_it_listens_on() -> None:
    """The CPU meter finds a local server (here: this process) from the URL pointing at it."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert server_of(f"redis://127.0.0.1:{port}/0", 6379, "none") == os.getpid()
    assert server_of("redis://cache.example:6379/0", 6379, "redis-server") is None


def test_hot_spots_count_a_function_once_per_stack() -> None:
    """Self is the share on top of the stack, total the share anywhere on it (a recursive
    function counts once per sample)."""
    found = rank(
        [
            "thread (0x1);serve (uvicorn/app.py:1);sell (cinema_core/box.py:10);"
            "sell (cinema_core/box.py:12) 3",
            "thread (0x1);serve (uvicorn/app.py:1);read (cinema_core/box.py:20) 1",
        ]
    )
    assert found.samples == 4
    assert found.own["sell (cinema_core/box.py)"] == 3
    assert found.anywhere["sell (cinema_core/box.py)"] == 3
    assert found.anywhere["serve (uvicorn/app.py)"] == 4
    assert found.ours == {"sell (cinema_core/box.py)", "read (cinema_core/box.py)"}


def test_statements_are_counted_for_the_runs_database_only() -> None:
    """Lines of other databases (other suites share the server) are not the request's."""
    log = (
        "2030-01-01 00:00:00.000 UTC [7] postgres@bench_1 LOG:  statement: BEGIN\n"
        "2030-01-01 00:00:00.001 UTC [8] postgres@other LOG:  statement: BEGIN\n"
        "2030-01-01 00:00:00.002 UTC [7] postgres@bench_1 LOG:  execute _pg3_0: SELECT\n"
        "  1 FROM seats\n"
        "2030-01-01 00:00:00.003 UTC [7] postgres@bench_1 DETAIL:  parameters: $1 = '1'\n"
    )
    assert statements(log, "bench_1") == ["BEGIN", "SELECT 1 FROM seats"]


@pytest.mark.postgres
def test_the_database_ceiling_is_measured_on_a_scratch_database_then_dropped() -> None:
    """pgbench runs on a database of its own beside the run's, and says a rate and the CPU a
    transaction costs PostgreSQL; the database is gone afterwards."""
    services.need("PostgreSQL", services.POSTGRES_ADMIN_URL, 5432)
    if shutil.which("pgbench") is None:
        services.missing("pgbench is not installed")
    admin = services.POSTGRES_ADMIN_URL.replace("+psycopg", "")
    options = parse(tuple(SCENARIOS), ["--postgres-url", admin])
    namespace = services.unique("bench_ceiling")
    notes: list[str] = []
    found = measure(options, namespace, notes, seconds=4, scale=1)
    assert found is not None, notes
    assert found.transactions_per_second > 0
    assert found.postgres_ms_per_transaction > 0
    assert found.clients == options.connections
    with psycopg.connect(admin, autocommit=True) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (f"{namespace}_pgbench",)
        ).fetchone()
    assert left == (0,)
