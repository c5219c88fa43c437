"""What `cinema serve` prints when it makes its secret up works as pasted: its curl lines, fed to
bash against that very server, all succeed (real ids and instants, no placeholders), and the
`cinema token --secret …` line it prints makes tokens that server accepts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.flow.browser.site import free_port

pytestmark = [pytest.mark.slow]

# Each curl says its status on stderr, and a stream is cut after a few seconds.
PRELUDE = "curl() { command curl --max-time 4 -w '%{stderr}STATUS %{http_code}\\n' \"$@\"; }\n"


def _no_cinema() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CINEMA_")}


def _bin_path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(params=[[], ["--demo"]], ids=["plain", "demo"])
def banner(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    """`cinema serve` in memory with no secret; its address and the lines it printed."""
    port = free_port()
    env = _no_cinema()
    env["CINEMA_LOG_LEVEL"] = "WARNING"
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port), *request.param],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("  Swagger UI:"):
                break
        base = f"http://127.0.0.1:{port}"
        # The banner comes just before the server listens, as a person reads it.
        deadline = time.monotonic() + 20
        while not _answers(base):
            assert time.monotonic() < deadline, "cinema serve did not answer within 20 s"
            time.sleep(0.1)
        yield base, lines
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _try_block(lines: list[str]) -> list[str]:
    """The lines under "Try", up to the blank line that ends them, unindented."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Try"))
    block = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        block.append(line.removeprefix("  "))
    return block


def test_the_printed_curl_lines_succeed_when_pasted_into_bash(
    banner: tuple[str, list[str]], tmp_path: Path
) -> None:
    """Every curl line of the block is answered 2xx in order (a session, a hold of two seats,
    its payment, the purchases, the stream), with nothing left to fill in."""
    _, lines = banner
    block = _try_block(lines)
    assert not [line for line in block if "<" in line or "…" in line], block
    curls = sum(line.count("curl ") for line in block)
    assert curls >= 5, block
    done = subprocess.run(
        ["bash", "-s"],
        input=PRELUDE + "\n".join(block) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**_no_cinema(), "PATH": _bin_path(), "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    statuses = re.findall(r"^STATUS (\d+)$", done.stderr, re.M)
    assert len(statuses) == curls, done.stderr
    assert all(status.startswith("2") for status in statuses), (statuses, done.stdout)
    assert '"status":"paid"' in done.stdout or '"amount"' in done.stdout, done.stdout
    assert "event: snapshot" in done.stdout


def test_the_printed_token_command_makes_tokens_the_server_accepts(
    banner: tuple[str, list[str]],
) -> None:
    """The `cinema token --secret …` line, run as printed and with another user and role, signs
    tokens that this server (whose secret was made up) accepts."""
    base, lines = banner
    (command,) = [line.strip() for line in lines if line.strip().startswith("cinema token ")]
    for line in (command, re.sub(r"--user \S+", "--user bob", command) + " --role staff"):
        made = subprocess.run(
            ["bash", "-c", line],
            capture_output=True,
            text=True,
            env={**_no_cinema(), "PATH": _bin_path()},
            timeout=30,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        user = re.search(r"--user (\S+)", line)
        assert user is not None
        answer = httpx.get(
            f"{base}/users/{user[1]}/purchases",
            headers={"Authorization": f"Bearer {made.stdout.strip()}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
