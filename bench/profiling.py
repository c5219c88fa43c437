"""py-spy on the servers while one scenario runs (``--profile DIR``), and the hot spots it found.

Stacks are written in py-spy's ``raw`` format (one collapsed stack per line with its sample
count, ``DIR/<scenario>-<kind>-<pid>.txt``), which any flame graph tool reads; the report ranks
functions by their share of the samples of each kind of process, all its processes together.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

# "function (path/to/module.py:123)" → "function (to/module.py)": line numbers would split a
# function into many entries.
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")
PROJECT = ("cinema_core", "adapters", "entrypoints")


@attrs.define
class Ranking:
    """Functions by their share of samples: *self* on top of the stack, *total* anywhere on it
    (counted once per sample however often it recurs); ``ours`` are the project's own."""

    samples: int = 0
    own: Counter[str] = attrs.Factory(Counter)
    anywhere: Counter[str] = attrs.Factory(Counter)
    ours: set[str] = attrs.Factory(set)

    def top(self, n: int, counts: Counter[str]) -> list[tuple[float, str]]:
        return [(100 * c / self.samples, key) for key, c in counts.most_common(n)]


def frame_key(frame: str) -> tuple[str, bool]:
    """The function's name and short path, and whether it is the project's own code."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), False
    parts = match["file"].split("/")
    return f"{match['name']} ({'/'.join(parts[-2:])})", any(p in PROJECT for p in parts[:-1])


def rank(lines: Iterable[str]) -> Ranking:
    """Add up py-spy raw lines (``frame;frame;… count``), of one process or several."""
    found = Ranking()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        keys = [frame_key(f) for f in stack.split(";") if not f.startswith(("thread ", "process "))]
        if not keys:
            continue
        n = int(count)
        found.samples += n
        found.own[keys[-1][0]] += n
        for key, ours in set(keys):
            found.anywhere[key] += n
            if ours:
                found.ours.add(key)
    return found


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@attrs.define
class Recording:
    """The raw files of one recording, by kind of process; ranked once it has ended."""

    files: dict[str, list[Path]] = attrs.Factory(dict)

    def rankings(self) -> dict[str, Ranking]:
        return {
            kind: rank(line for path in paths if path.exists() for line in _lines(path))
            for kind, paths in self.files.items()
        }


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()


@contextmanager
def recording(
    kinds: dict[str, list[int]], directory: Path, name: str, notes: list[str], *, gil: bool
) -> Iterator[Recording]:
    """Record every pid until the block ends; with ``gil``, only samples of the thread holding
    the GIL (Python CPU time, not waiting)."""
    found = Recording()
    tool = py_spy()
    if tool is None:
        notes.append('--profile: py-spy not found (pip install -e ".[bench]"); nothing recorded')
        yield found
        return
    directory.mkdir(parents=True, exist_ok=True)
    spies = []
    for kind, pids in kinds.items():
        for pid in pids:
            out = directory / f"{name}-{kind}-{pid}.txt"
            command = [tool, "record", "--pid", str(pid), "--rate", "200", "--format", "raw"]
            command += ["--output", str(out), "--nonblocking", "--threads"]
            if gil:
                command.append("--gil")
            found.files.setdefault(kind, []).append(out)
            spies.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            )
    try:
        yield found
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        notes.append(f"py-spy {'GIL ' if gil else ''}samples of {name}: {directory}/{name}-*.txt")
