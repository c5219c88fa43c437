"""The metrics the box office records when none are wanted: the default of every box office,
so one built without metrics pays one empty call per fact."""

from __future__ import annotations


class NoMetrics:
    """Counts nothing."""

    def held(self, seats: int) -> None:
        return None

    def sold(self, seats: int) -> None:
        return None

    def refunded(self, seats: int) -> None:
        return None

    def checked_in(self) -> None:
        return None

    def payment(self, status: str) -> None:
        return None


NO_METRICS = NoMetrics()
