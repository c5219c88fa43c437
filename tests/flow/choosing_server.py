"""TEST-ONLY: `cinema serve` with race windows held open, and optionally a guard of choosing
seats switched off, for the three-process races of tests/flow/test_choosing_processes.py.

``python -m tests.flow.choosing_server PORT [--no-retry] [--no-gap-rows]`` with the
environment of ``cinema serve``: every read of a session's seats and every seat lock pause
(``PAUSE``), so that buyers released together choose from the same view and overlap inside
their transactions, as on a busy database. ``--no-retry`` makes best available try one
candidate and refuse if it is gone (``NaiveBestAvailable``); ``--no-gap-rows`` judges the
single-seat rule on rows read before locking (``NaiveGapRows``). The guarded runs use it
with neither flag, so that control and guarded runs differ only in the guard. Never used
outside those tests.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import attrs
import uvicorn

from cinema_core import SeatLabel
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests.unguarded_choosing import without_gap_rows, without_retry

PAUSE = 0.05


class _PausingTransaction:
    def __init__(self, tx: Any):
        self._tx = tx

    def lock_seats(self, session_id: UUID, labels: Sequence[SeatLabel]) -> Any:
        found = self._tx.lock_seats(session_id, labels)
        time.sleep(PAUSE)
        return found

    def lock_session_and_seats(self, session: Any, labels: Any, **how: Any) -> Any:
        found = self._tx.lock_session_and_seats(session, labels, **how)
        time.sleep(PAUSE)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class _Pausing:
    def __init__(self, repo: Any):
        self._repo = repo

    def seats(self, session_id: UUID) -> Any:
        found = self._repo.seats(session_id)
        time.sleep(PAUSE)
        return found

    def atomic(self, work: Callable[[Any], Any]) -> Any:
        return self._repo.atomic(lambda tx: work(_PausingTransaction(tx)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--no-retry", action="store_true")
    parser.add_argument("--no-gap-rows", action="store_true")
    args = parser.parse_args(argv)
    services = bootstrap(Settings.from_env())
    services.box = attrs.evolve(services.box, repo=_Pausing(services.box.repo))
    if args.no_retry:
        services.box = without_retry(services.box)
    if args.no_gap_rows:
        services.box = without_gap_rows(services.box)
    app = create_app(services)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
