"""`cinema serve` with the database's guards after the sale switched off, for the
control runs of tests/flow/test_limits_across_processes.py.

The store reads seats and tickets without locking them, writes refunds and check-ins without
their "still untouched" conditions (``UnguardedRepo(row_locks=False)``), counts ticket
quotas without the session's lock (``quota_locks=False``), and pauses after reading tickets or
counting a quota, as a busy database would, so that concurrent requests all decide on the
same stale read. Run as ``python -m tests.flow.unguarded_server PORT`` with the environment of
``cinema serve``. Never used outside those control runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs
import uvicorn

from adapters.postgres import PostgresReservationRepo
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests.unguarded_postgres import UnguardedRepo

PAUSE = 0.3


class _Pausing:
    def __init__(self, tx: Any):
        self._tx = tx

    def lock_tickets(self, sale_id: UUID) -> Any:
        found = self._tx.lock_tickets(sale_id)
        time.sleep(PAUSE)
        return found

    def lock_ticket(self, code: str) -> Any:
        found = self._tx.lock_ticket(code)
        time.sleep(PAUSE)
        return found

    def quota_usage(self, session_id: UUID, tickets: Any, now: Any) -> Any:
        found = self._tx.quota_usage(session_id, tickets, now)
        time.sleep(PAUSE)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class PausingRepo(UnguardedRepo):
    def atomic(self, work: Callable[[Any], Any]) -> Any:
        return super().atomic(lambda tx: work(_Pausing(tx)))


def main(port: int) -> None:
    services = bootstrap(Settings.from_env())
    guarded = services.box.repo
    assert isinstance(guarded, PostgresReservationRepo)
    repo = PausingRepo(guarded.engine, row_locks=False, quota_locks=False)
    services.box = attrs.evolve(services.box, repo=repo)
    services.relay.repo = repo
    app = create_app(services)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
