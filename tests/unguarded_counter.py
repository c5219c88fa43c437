"""The counter with its shift guard switched off, for race tests' control runs only.

``UnlockedTill`` sells into the shift as read before the sale's transaction began, never
locking it nor reading it again, and pauses there so that a racing close commits meanwhile:
a sale then lands in a closed shift, missing from its final statement.
"""

from __future__ import annotations

import time

from cinema_core.counter.shifts import Shift
from cinema_core.counter.use_cases import Counter
from cinema_core.ports import Transaction

# Wide enough that a close released with the sales commits before they do.
PAUSE = 0.3


class UnlockedTill(Counter):
    """CONTROL ONLY: the shift trusted as read before the transaction, with no lock."""

    def till(self, tx: Transaction, shift: Shift, operator: str) -> Shift:
        time.sleep(PAUSE)
        return shift
