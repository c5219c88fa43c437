"""py-spy on every server process while one scenario runs (``--profile DIR``).

Stacks are written in py-spy's ``raw`` format (one collapsed stack per line with its sample
count): ``python -m bench.hot_spots FILE`` ranks functions by their share of samples, and
any flame graph tool reads the same file.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def recording(
    pids: list[int], directory: Path, name: str, notes: list[str], *, gil: bool = False
) -> Iterator[None]:
    """Record each pid into ``directory/name-PID.txt`` until the block ends; with ``gil``, only
    samples of the thread holding the GIL (Python CPU time, not waiting)."""
    tool = py_spy()
    if tool is None:
        notes.append("--profile: py-spy not found (pip install py-spy); nothing recorded")
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    spies = []
    for pid in pids:
        out = directory / f"{name}-{pid}.txt"
        command = [tool, "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
        command += ["--output", str(out), "--nonblocking", "--threads"]
        if gil:
            command.append("--gil")
        spies.append(
            (out, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        )
    try:
        yield
    finally:
        for _, spy in spies:
            spy.send_signal(signal.SIGINT)
        for out, spy in spies:
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
            notes.append(f"profile of {name}: {out}")
