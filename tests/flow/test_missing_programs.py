"""Without a program some tests drive (nginx, redis-server, rabbitmq-server, pgbench, a compose
client, Chromium), those tests skip saying what is missing, and fail under
``CINEMA_REQUIRE_SERVICES=1``: never an error that says something else.

pytest runs the tests that need each program in a subprocess whose PATH is an empty directory
(and with no CINEMA_TEST_CHROMIUM), once without the variable and once with it, and its JUnit
report is read test by test. (axe-core is a file, not a program: the browser tests look for it
the way they look for a CINEMA_TEST_CHROMIUM, after Chromium has started.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# Each test that needs a program, and the words its skip or failure must carry.
NEEDS = {
    "tests/flow/test_nginx_slowloris.py::"
    "test_a_slowloris_crowd_starves_a_bare_api_process_but_not_buyers_behind_nginx": "nginx",
    "tests/flow/test_nginx_slowloris.py::test_nginx_answers_in_the_api_error_shape": "nginx",
    "tests/flow/test_broker_restart.py::"
    "test_queues_are_quorum_and_keep_their_messages_across_a_restart": "rabbitmq-server",
    "tests/contract/test_redis_cluster_failover.py::"
    "test_killed_master_is_backend_unavailable_then_the_replica_serves": "redis-server",
    "tests/flow/test_bench_smoke.py::"
    "test_the_database_ceiling_is_measured_on_a_scratch_database_then_dropped": "pgbench",
    "tests/contract/test_project_files.py::test_docker_compose_accepts_the_file": "compose",
    "tests/flow/browser/test_first_run.py::test_the_printed_links_open_the_pages_signed_in": (
        "chromium"
    ),
}


def _outcomes(tmp_path: Path, required: bool) -> tuple[int, dict[str, tuple[str, str]]]:
    """Run the tests of NEEDS with nothing on PATH; their exit status, and for each test its
    outcome (passed, skipped, failed, error) with its message."""
    empty = tmp_path / "empty-path"
    empty.mkdir(exist_ok=True)
    report = tmp_path / f"report-{required}.xml"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CINEMA_REQUIRE_SERVICES", "CINEMA_TEST_CHROMIUM")
    }
    env["PATH"] = str(empty)
    if required:
        env["CINEMA_REQUIRE_SERVICES"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}", *NEEDS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    found: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("skipped", "failure", "error"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = f"{child.get('message', '')} {child.text or ''}"
                break
        found[f"{path}::{case.get('name')}"] = (outcome, message)
    return done.returncode, found


def _listed(wrong: dict[str, tuple[str, str] | None]) -> str:
    return "\n".join(f"{test}: {got and (got[0], got[1][:300])}" for test, got in wrong.items())


def test_a_test_whose_program_is_missing_skips_saying_which(tmp_path: Path) -> None:
    """Without CINEMA_REQUIRE_SERVICES each such test is skipped, naming what is missing."""
    status, found = _outcomes(tmp_path, required=False)
    wrong = {
        test: found.get(test)
        for test, program in NEEDS.items()
        if found.get(test, ("absent", ""))[0] != "skipped" or program not in found[test][1].lower()
    }
    assert not wrong, _listed(wrong)
    assert status == 0


def test_a_test_whose_program_is_missing_fails_when_services_are_required(
    tmp_path: Path,
) -> None:
    """Under CINEMA_REQUIRE_SERVICES=1 each such test fails (at its setup, where the program
    is looked for), naming what is missing, and nothing else goes wrong first."""
    status, found = _outcomes(tmp_path, required=True)
    wrong = {
        test: found.get(test)
        for test, program in NEEDS.items()
        if found.get(test, ("absent", ""))[0] not in ("failed", "error")
        or program not in found[test][1].lower()
        or "forbids skipping" not in found[test][1]
    }
    assert not wrong, _listed(wrong)
    assert status == 1
