"""Real processes for the flow tests: `cinema serve`, `cinema worker` and test servers, each with
its output in a log file, and all of them stopped whatever the test did; and the session every
test of them starts by creating over HTTP."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest


def environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ``CINEMA_`` setting of its own, plus
    ``settings``: what a process under test is started with."""
    own = {key: value for key, value in os.environ.items() if not key.startswith("CINEMA_")}
    return own | dict(settings)


def spawn(command: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``command`` started with ``env``, its output (stdout and stderr) in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(list(command), env=dict(env), stdout=out, stderr=subprocess.STDOUT)


def stop(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """Ask every process still running to end, then wait for each; kill any that will not."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# Below the kernel's ephemeral range (32768 on): a port the kernel picks there can be taken,
# between the pick and the server's bind, by an outgoing connection of the processes around it
# (it was once in CI: a server of seven failed to bind). This range also clears the fixed ports
# the suites start their own servers on (17xxx, their cluster buses 27xxx).
_PORTS = range(20000, 27000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, none handed out before."""
    if len(_handed_out) > len(_PORTS) // 2:
        _handed_out.clear()  # those servers are long gone
    for _ in range(1000):
        # At random: two runs on one machine (a developer's and CI's) rarely meet.
        port = random.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {_PORTS}")


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``url``/health answers 200; the test fails with the log's tail if the process
    exits first or is not up within 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"cinema serve exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"cinema serve did not come up at {url}:\n{log.read_text()[-3000:]}")


def start_servers(
    names: Iterable[object],
    command: Callable[[int], Sequence[str]],
    env: Mapping[str, str],
    logs: Path,
    processes: list[subprocess.Popen[bytes]],
) -> list[str]:
    """One API process a name, each ``command(port)`` on a free port with its output in
    ``logs/serve-{name}.log``, and each healthy before this returns; their base URLs. Every
    process is added to ``processes`` as it starts, so that the caller's ``stop`` ends those
    started even when a later one fails."""
    names = list(names)
    urls: list[str] = []
    for name in names:
        port = free_port()
        processes.append(spawn(command(port), env, logs / f"serve-{name}.log"))
        urls.append(f"http://127.0.0.1:{port}")
    for name, url, process in zip(names, urls, processes[-len(names) :], strict=True):
        wait_healthy(url, process, logs / f"serve-{name}.log")
    return urls


def session_json(rows: int = 4, seats_per_row: int = 4, **extra: Any) -> dict[str, Any]:
    """The body of ``POST /sessions`` for "Filme X" a day from now in a private room of
    ``rows`` × ``seats_per_row`` at 25.00 a seat, with ``extra`` fields added (or replaced)."""
    starts_at = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {
        "movie": "Filme X",
        "room": "Sala 1",
        "starts_at": starts_at,
        "price": "25.00",
        "rows": rows,
        "seats_per_row": seats_per_row,
    }
    return body | extra


def created_id(answer: httpx.Response) -> str:
    """The id of what a ``201 Created`` answer made (the test fails with the body otherwise)."""
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])
