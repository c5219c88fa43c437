"""Rank functions by their share of py-spy samples: ``python -m bench.hot_spots FILE… [--top N]``.

Reads py-spy's ``raw`` output (collapsed stacks: ``frame;frame;… count``). *Self* is the share
of samples in which the function was on top of the stack; *total* the share in which it was
anywhere on it. Several files (one per server process) are added together.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

# "function (path/to/module.py:123)" → "function (module.py)"; line numbers split a function.
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")


def frame_key(frame: str, keep_path: int = 2) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = "/".join(match["file"].split("/")[-keep_path:])
    return f"{match['name']} ({path})"


def rank(lines: Iterable[str], within: str = "") -> tuple[int, Counter[str], Counter[str]]:
    """Total samples, and self and total counts per function; with ``within``, functions are
    counted only in stacks that pass through a frame containing that text (the total still
    counts every sample, so shares stay shares of all the process's time)."""
    total = 0
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            frame_key(f) for f in stack.split(";") if not f.startswith(("thread ", "process "))
        ]
        if not frames:
            continue
        total += n
        if within and not any(within in frame for frame in frames):
            continue
        own[frames[-1]] += n
        for key in set(frames):
            anywhere[key] += n
    return total, own, anywhere


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_spots", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only functions whose key contains this")
    parser.add_argument("--within", default="", help="only stacks through a frame with this")
    args = parser.parse_args(argv)
    lines = [line for path in args.files for line in path.read_text().splitlines()]
    total, own, anywhere = rank(lines, args.within)
    if not total:
        print("no samples")
        return 1
    print(f"{total} samples")
    for title, counts in (("self", own), ("total", anywhere)):
        print(f"\n{title:>6}  function")
        shown = [(k, n) for k, n in counts.most_common() if args.match in k][: args.top]
        for key, n in shown:
            print(f"{100 * n / total:5.1f}%  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
