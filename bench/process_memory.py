"""Resident memory of the server processes, read from ``/proc`` (Linux)."""

from __future__ import annotations

from pathlib import Path

import attrs


@attrs.frozen
class Memory:
    """One process's resident set now and at its peak (``VmHWM``), in MiB."""

    pid: int
    rss: float
    peak: float


def read(pid: int) -> Memory | None:
    """The process's memory, or ``None`` once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB → MiB
    return Memory(pid, fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0))


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (children, their children …), by walking ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (in parentheses) may hold spaces: fields start after its last ")".
        ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    queue = [root]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return sorted(found)
