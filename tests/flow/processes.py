"""Real processes for the flow tests: `cinema serve`, `cinema worker` and test servers, each with
its output in a log file, and all of them stopped whatever the test did."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


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
