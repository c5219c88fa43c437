"""One read at a time per key, shared by the callers that asked while the one before ran.

A kept seat map is checked against the database before it is served (``repo.seats``): the
check must have begun after the caller asked, or a write committed just before the call could
be missing from the answer. Callers that ask while a check runs cannot use that check, but all
of them can use the next one: under load a session's readers cost the database one check per
check's length, not one each.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class _Key:
    __slots__ = ("asked", "error", "failed", "result", "running", "served", "started", "turn")

    def __init__(self, mutex: threading.Lock):
        self.turn = threading.Condition(mutex)
        self.started = 0  # runs begun, numbered from 1 in the order they began
        self.served = 0  # the newest run that answered
        self.failed = 0  # the newest run that raised
        self.running = False
        self.asked = 0  # callers inside read() for this key
        self.result: object = None
        self.error: BaseException | None = None


class FreshReads(Generic[K, T]):
    """``read(key, run)``: the answer of a ``run`` that began after the call did."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._keys: dict[K, _Key] = {}

    def read(self, key: K, run: Callable[[], T]) -> T:
        with self._mutex:
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = _Key(self._mutex)
            state.asked += 1
            # The run under way may have begun before this call: the next one has not.
            needed = self._needed(state)
            while state.running and state.served < needed and state.failed < needed:
                state.turn.wait()
            if state.served >= needed:
                self._leave(key, state)
                return state.result  # type: ignore[return-value]  # a run's own T
            if state.failed >= needed:
                self._leave(key, state)
                assert state.error is not None
                # A copy: one exception raised on many threads would share one traceback.
                raise copy.copy(state.error) from state.error
            state.running = True
            state.started += 1
            number = state.started
        try:
            result = run()
        except BaseException as error:
            with self._mutex:
                state.failed, state.error = number, error
                self._finish(key, state)
            raise
        with self._mutex:
            state.served, state.result = number, result
            self._finish(key, state)
        return result

    @staticmethod
    def _needed(state: _Key) -> int:
        return state.started + 1

    def _finish(self, key: K, state: _Key) -> None:
        state.running = False
        state.turn.notify_all()
        self._leave(key, state)

    def _leave(self, key: K, state: _Key) -> None:
        state.asked -= 1
        if not state.asked:
            del self._keys[key]
