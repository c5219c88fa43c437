"""FreshReads: a caller gets the answer of a read that began after it asked, and the callers
that ask while one read runs share the next."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from adapters.postgres.fresh_reads import FreshReads, _Key


class JoinsTheRunningRead(FreshReads[str, str]):
    """The control: a caller takes the answer of the read under way, begun before it asked."""

    @staticmethod
    def _needed(state: _Key) -> int:
        return state.started if state.running else state.started + 1


def _until_inside(reads: FreshReads[str, str], key: str, callers: int) -> None:
    # Only a wait for the test's own precondition: the callers are in, waiting.
    deadline = time.monotonic() + 5
    while (state := reads._keys.get(key)) is None or state.asked < callers:
        assert time.monotonic() < deadline, "the callers did not arrive"
        time.sleep(0.001)


def _in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(action())
        except Exception as error:
            out.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


class _Database:
    """A value that changes, read by runs that can be held after they took their snapshot."""

    def __init__(self) -> None:
        self.value = "before"
        self.runs = 0
        self.hold = threading.Event()
        self.hold.set()
        self.holding = threading.Event()

    def held_read(
        self, reads: FreshReads[str, str], key: str = "s"
    ) -> tuple[threading.Thread, list[Any]]:
        """A read of ``key`` under way, held after its snapshot; then the value changes."""
        self.hold.clear()
        started = _in_thread(lambda: reads.read(key, self.read))
        assert self.holding.wait(5)
        self.value = "after"  # committed while the read is under way
        return started

    def read(self) -> str:
        seen = self.value  # the snapshot: what the run answers, whatever changes after
        self.runs += 1
        self.holding.set()
        assert self.hold.wait(5)
        return seen


@pytest.mark.parametrize("guarded", [False, True], ids=["control-joins-the-running-read", "fresh"])
def test_a_caller_that_asks_after_a_write_sees_it_though_a_read_was_under_way(
    guarded: bool,
) -> None:
    """A read under way took its snapshot before a write committed; a caller that asks after
    the write must see it. Joining the read under way (the control) answers the old value."""
    reads: FreshReads[str, str] = FreshReads() if guarded else JoinsTheRunningRead()
    db = _Database()
    first, first_out = db.held_read(reads)
    second, second_out = _in_thread(lambda: reads.read("s", db.read))
    _until_inside(reads, "s", 2)
    db.hold.set()
    first.join(5)
    second.join(5)
    assert first_out == ["before"]
    if guarded:
        assert second_out == ["after"]
    else:
        assert second_out == ["before"], "the control run did not race"


def test_the_callers_that_ask_during_a_read_share_the_next_one() -> None:
    """Ten callers asking while a read runs cost one more read between them, not ten."""
    reads: FreshReads[str, str] = FreshReads()
    db = _Database()
    first, _ = db.held_read(reads)
    waiting = [_in_thread(lambda: reads.read("s", db.read)) for _ in range(10)]
    _until_inside(reads, "s", 11)
    db.hold.set()
    for thread, _ in [(first, None), *waiting]:
        thread.join(5)
    assert [out for _, out in waiting] == [["after"]] * 10
    assert db.runs == 2


def test_keys_do_not_wait_for_each_other() -> None:
    """A read of one key held up does not hold up another key's."""
    reads: FreshReads[str, str] = FreshReads()
    db = _Database()
    held, _ = db.held_read(reads, "a")
    assert reads.read("b", lambda: "b's") == "b's"
    db.hold.set()
    held.join(5)


def test_a_failed_read_fails_its_sharers_and_a_later_caller_reads_again() -> None:
    """The callers sharing a read that raised get the error too; one that asked after that
    read began gets a read of its own."""
    reads: FreshReads[str, str] = FreshReads()
    started, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def failing() -> str:
        runs.append("failing")
        started.set()
        assert release.wait(5)
        raise ConnectionError("the database went away")

    def next_read() -> str:
        runs.append("next")
        return "back"

    def held_read() -> str:
        started.set()
        assert release.wait(5)
        return "held"

    first, first_out = _in_thread(lambda: reads.read("s", held_read))
    assert started.wait(5)
    started.clear()
    sharers = [_in_thread(lambda: reads.read("s", failing)) for _ in range(3)]
    _until_inside(reads, "s", 4)
    release.set()
    first.join(5)
    for thread, _ in sharers:
        thread.join(5)
    assert first_out == ["held"]
    outs = [out[0] for _, out in sharers]
    assert runs == ["failing"]
    assert all(isinstance(out, ConnectionError) for out in outs)
    assert reads.read("s", next_read) == "back"


def test_nothing_is_kept_once_no_caller_waits() -> None:
    reads: FreshReads[str, str] = FreshReads()
    for n in range(100):
        assert reads.read(f"s{n}", lambda: "x") == "x"
    assert reads._keys == {}
