"""The Prometheus adapter's bookkeeping of processes: a dead worker's live gauges are dropped,
its counters kept."""

from __future__ import annotations

from pathlib import Path

from adapters.prometheus import forget_dead_processes


def test_dead_processes_live_gauges_are_forgotten_and_counters_kept(tmp_path: Path) -> None:
    """Of two workers' files, the dead one's in-progress gauge goes; every counter stays."""
    for name in ("gauge_livesum_100.db", "gauge_livesum_200.db", "counter_100.db"):
        (tmp_path / name).write_bytes(b"")
    assert forget_dead_processes(str(tmp_path), alive=lambda pid: pid == 200) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_100.db",
        "gauge_livesum_200.db",
    ]
