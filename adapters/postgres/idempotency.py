"""The ``IdempotencyStore`` port on PostgreSQL: the fallback when Redis is down.

A key is claimed with ``INSERT ... ON CONFLICT DO NOTHING``: exactly one request wins the
claim. A duplicate that arrives while the first is running polls until the answer is stored;
if the first process died, its claim's lease lapses and the duplicate takes the request over.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Engine

from cinema_core.errors import BackendUnavailable, IdempotencyInProgress, IdempotencyKeyReused
from cinema_core.kernel.clock import Clock, SystemClock
from cinema_core.ports import StoredAnswer
from cinema_core.resilience.leases import Renewals

from .engine import engine_for
from .executor import Executor
from .tables import idempotency_keys as keys

T = TypeVar("T")

REMEMBER = timedelta(hours=24)
# How long a claim stands without an answer before a duplicate may take the request over. Its
# holder renews it every RENEW_EVERY while the request runs
# (cinema_core/resilience/leases.py), so only a claimant that died loses its claim, within LEASE.
LEASE = timedelta(seconds=5)
RENEW_EVERY = 1.0
PURGE_EVERY = 60.0
PURGE_BATCH = 1000


class PostgresIdempotencyStore:
    """The ``IdempotencyStore`` port in the ``idempotency_keys`` table."""

    def __init__(
        self,
        engine_or_url: Engine | str,
        clock: Clock | None = None,
        *,
        wait: float = 10.0,
        poll: float = 0.05,
        lease: timedelta = LEASE,
        renew_every: float | None = None,
    ):
        self.engine, self._owns_engine = engine_for(engine_or_url)
        self._clock = clock or SystemClock()
        self._wait = wait
        self._poll = poll
        self._lease = lease
        self._next_purge = 0.0
        # The lease_until this process last gave each claim it holds: its renewal compares it,
        # so a claim another process took over is never renewed from here.
        self._held: dict[tuple[str, str], datetime] = {}
        self._mutex = threading.Lock()
        # None: never renewed (the bootstrap renews every RENEW_EVERY; unrenewed, a claim stands
        # for a process that died).
        self._renewals = (
            None if renew_every is None else Renewals(self._renew_held, renew_every, "cinema-idem")
        )

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
        self._purge_now_and_then()
        deadline = time.monotonic() + self._wait
        pause = self._poll / 4
        while True:
            now = self._clock.now()
            row = self._run(functools.partial(self._claim, scope, key, fingerprint, now))
            if row is None:
                self._holding(scope, key, now + self._lease)
                return None
            if row.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            if row.status is not None:
                return StoredAnswer(row.status, row.body)
            if row.lease_until <= now and self._run(
                functools.partial(self._take_over, scope, key, row.lease_until, now)
            ):
                self._holding(scope, key, now + self._lease)
                return None
            if time.monotonic() >= deadline:
                raise IdempotencyInProgress()
            time.sleep(pause)
            pause = min(pause * 2, self._poll)

    def finish(self, scope: str, key: str, fingerprint: str, answer: StoredAnswer) -> None:
        self._released(scope, key)
        now = self._clock.now()
        values = {
            "scope": scope,
            "key": key,
            "fingerprint": fingerprint,
            "status": answer.status,
            "body": answer.body,
            "lease_until": now,
            "created_at": now,
        }
        insert = pg.insert(keys).values(values)
        statement = insert.on_conflict_do_update(
            index_elements=[keys.c.scope, keys.c.key],
            set_={name: insert.excluded[name] for name in values if name not in ("scope", "key")},
        )
        self._run(lambda db: db.core(statement))

    def abandon(self, scope: str, key: str) -> None:
        self._released(scope, key)
        self._run(lambda db: db.core(keys.delete().where(keys.c.scope == scope, keys.c.key == key)))

    def close(self) -> None:
        """Stop renewing this process's claims (they lapse as a dead process's would), then
        dispose of the engine if this store built it."""
        if self._renewals is not None:
            self._renewals.close()
        if self._owns_engine:
            self.engine.dispose()

    def _holding(self, scope: str, key: str, lease_until: datetime) -> None:
        with self._mutex:
            self._held[(scope, key)] = lease_until
        if self._renewals is not None:
            self._renewals.holding()

    def _released(self, scope: str, key: str) -> None:
        with self._mutex:
            self._held.pop((scope, key), None)

    def _renew_held(self) -> int:
        """Renew the lease of every claim this process holds; how many it still holds."""
        with self._mutex:
            held = list(self._held.items())
        for (scope, key), lease_until in held:
            renewed = self._clock.now() + self._lease
            taken = self._run(
                functools.partial(self._take_over, scope, key, lease_until, renewed - self._lease)
            )
            with self._mutex:
                if (scope, key) not in self._held:
                    continue
                if taken:
                    self._held[(scope, key)] = renewed
                else:
                    # Answered, abandoned or taken over meanwhile: no longer ours to renew.
                    del self._held[(scope, key)]
        with self._mutex:
            return len(self._held)

    def _claim(
        self, scope: str, key: str, fingerprint: str, now: datetime, db: Executor
    ) -> sa.Row[Any] | None:
        """``None`` if this call claimed the key, else the row that holds it."""
        claimed = db.core(
            pg.insert(keys)
            .values(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                lease_until=now + self._lease,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=[keys.c.scope, keys.c.key])
            .returning(keys.c.scope)
        ).first()
        if claimed is not None:
            return None
        held = db.core(
            sa.select(keys.c.fingerprint, keys.c.status, keys.c.body, keys.c.lease_until).where(
                keys.c.scope == scope, keys.c.key == key
            )
        ).first()
        if held is None:
            # Abandoned between the two statements: claim it on the next turn of the loop.
            return self._claim(scope, key, fingerprint, now, db)
        return held

    def _take_over(
        self, scope: str, key: str, lapsed: datetime, now: datetime, db: Executor
    ) -> bool:
        # Compare-and-set on the lapsed lease: of several duplicates, exactly one takes over.
        taken = db.core(
            keys.update()
            .where(
                keys.c.scope == scope,
                keys.c.key == key,
                keys.c.status.is_(None),
                keys.c.lease_until == lapsed,
            )
            .values(lease_until=now + self._lease)
            .returning(keys.c.scope)
        ).first()
        return taken is not None

    def _purge_now_and_then(self) -> None:
        # Keys are kept at least REMEMBER; older ones go in small batches, at most once a
        # minute per process, so no request pays for a big delete.
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY
        cutoff = self._clock.now() - REMEMBER
        old = (
            sa.select(keys.c.scope, keys.c.key)
            .where(keys.c.created_at < cutoff)
            .limit(PURGE_BATCH)
            .with_for_update(skip_locked=True)
        )
        self._run(
            lambda db: db.core(keys.delete().where(sa.tuple_(keys.c.scope, keys.c.key).in_(old)))
        )

    def _run(self, statement: Callable[[Executor], T]) -> T:
        # Each call its own transaction, its statements sent by one executor.
        try:
            with self.engine.begin() as connection:
                return statement(Executor(connection))
        except sa.exc.SQLAlchemyError as error:
            raise BackendUnavailable(f"PostgreSQL idempotency store: {error}") from error
