"""Claims: how buyers of one process keep out of each other's way when choosing seats."""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import uuid4

from cinema_core import SeatLabel
from cinema_core.selling.best_available import Choice
from cinema_core.selling.choosing import Claims

A1, A2 = SeatLabel("A", 1), SeatLabel("A", 2)


def test_a_seat_being_tried_is_kept_from_the_others_until_released() -> None:
    """While A1 is being tried it is among the others' seats; once released it is not."""
    claims, session = Claims(), uuid4()
    seen: list[set[SeatLabel]] = []

    def pick(choice: Choice | None) -> Callable[[set[SeatLabel]], tuple[Choice | None, bool]]:
        def choose(others: set[SeatLabel]) -> tuple[Choice | None, bool]:
            seen.append(set(others))
            return choice, False

        return choose

    since = time.monotonic()
    claims.choose(session, since, pick((A1,)))
    claims.choose(session, since, pick((A2,)))
    claims.release(session, (A1,), held=False)
    claims.choose(session, since, pick(None))
    assert seen == [set(), {A1}, {A2}]


def test_a_seat_held_here_is_kept_from_views_read_before_the_hold() -> None:
    """A held seat is steered clear of by a buyer whose view predates the hold, not by one
    whose view was read after it (that view shows it held)."""
    claims, session = Claims(), uuid4()
    before = time.monotonic()
    claims.choose(session, before, lambda others: ((A1,), False))
    claims.release(session, (A1,), held=True)
    after = time.monotonic() + 0.001
    assert claims.choose(session, before, lambda others: (None, others == {A1})) == (None, True)
    assert claims.choose(session, after, lambda others: (None, others == set())) == (None, True)
