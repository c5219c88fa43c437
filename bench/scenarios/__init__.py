"""The scenarios: each has ``prepare`` (sets up through the API), ``drive`` (runs in the
generator processes) and ``conclude`` (figures and the invariant check)."""

from __future__ import annotations

from . import ceiling, race, seat_map, sellout, sellout_best, steady

# Used by generator processes to find a part's drive by name.
DRIVES = {
    "ceiling": ceiling.drive,
    "sellout": sellout.drive,
    "best": sellout_best.drive,
    "steady": steady.drive,
    "race": race.drive,
    "seatmap": seat_map.drive,
    "soak": steady.drive,
}

__all__ = ["DRIVES", "ceiling", "race", "seat_map", "sellout", "sellout_best", "steady"]
