"""When a failed delivery is tried again: exponential backoff with jitter, capped, for a day.

The n-th retry waits ``base × 2^(n-1)`` seconds (capped at ``cap``), times a random factor in
[0.5, 1): receivers that came back from an outage are not hit by every delivery at once. A
delivery whose next attempt would fall more than ``horizon`` after it was made is given up.

>>> from datetime import UTC, datetime, timedelta
>>> made = datetime(2026, 1, 1, tzinfo=UTC)
>>> Backoff().delay(1, jitter=1.0), Backoff().delay(3, jitter=1.0), Backoff().delay(40, jitter=1.0)
(2.0, 8.0, 3600.0)
>>> Backoff().next_attempt(made, made + timedelta(hours=23, minutes=59), 30, jitter=1.0) is None
True
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Final

import attrs

DAY: Final = 24 * 3600.0


@attrs.frozen
class Backoff:
    """The retry schedule (seconds)."""

    base: float = 2.0
    cap: float = 3600.0
    horizon: float = DAY

    def delay(self, failures: int, *, jitter: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failed attempt; ``jitter`` in [0.5, 1]
        (random when not given)."""
        factor = random.uniform(0.5, 1.0) if jitter is None else jitter
        # 2^failures overflows a float long before it matters: cap the exponent first.
        exponent = min(max(failures - 1, 0), 64)
        return min(self.cap, self.base * 2.0**exponent) * factor

    def next_attempt(
        self, made_at: datetime, now: datetime, failures: int, *, jitter: float | None = None
    ) -> datetime | None:
        """When to try again after ``failures`` failed attempts, or ``None``: give up."""
        due = now + timedelta(seconds=self.delay(failures, jitter=jitter))
        if due > made_at + timedelta(seconds=self.horizon):
            return None
        return due
