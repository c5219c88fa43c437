"""Fixtures shared by every suite: clocks, the real services each run gets to itself, and a
session to sell (``new_session``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from cinema_core import BoxOffice, ManualClock, Money, SessionView
from tests import services

if TYPE_CHECKING:
    from tests.proxy import Outage
    from tests.redis_cluster import RedisCluster


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


def new_session(
    box: BoxOffice,
    *,
    rows: int = 4,
    seats_per_row: int = 4,
    price: str = "25.00",
    days: float = 30,
    forbid_single_gaps: bool = False,
) -> SessionView:
    """A session of "Filme X" ``days`` ahead on the box office's clock, in a private room of
    ``rows`` × ``seats_per_row`` standard seats at ``price`` each."""
    return box.create_session(
        movie="Filme X",
        room="Sala 1",
        starts_at=box.clock.now() + timedelta(days=days),
        price=Money.parse(price),
        rows=rows,
        seats_per_row=seats_per_row,
        forbid_single_gaps=forbid_single_gaps,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    services.need("PostgreSQL", services.POSTGRES_ADMIN_URL, 5432)
    with services.database("cinema_test") as (_, url):
        yield url


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A database migrated to the newest schema once per run; tests get clones of it."""
    services.need("PostgreSQL", services.POSTGRES_ADMIN_URL, 5432)
    from adapters.postgres.migrations import upgrade

    with services.database("cinema_template") as (name, url):
        upgrade(url)
        yield name


@pytest.fixture
def migrated_postgres_url(postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest schema for this test (a clone of the
    template, much faster than migrating), dropped afterwards."""
    with services.database("cinema_test", template=postgres_template) as (_, url):
        yield url


@pytest.fixture(scope="session")
def _postgres_shared(postgres_template: str) -> Iterator[str]:
    with services.database("cinema_shared", template=postgres_template) as (_, url):
        yield url


@pytest.fixture
def clean_postgres_url(_postgres_shared: str) -> str:
    """A PostgreSQL database at the newest schema with every table emptied for this test.

    Shared by the run and truncated (about ten times quicker than cloning a database): for
    tests that change data only. A test that alters the schema takes ``migrated_postgres_url``.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(_postgres_shared, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        # A connection a previous test leaked would make TRUNCATE wait: fail instead.
        conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        tables = conn.scalars(
            sa.text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).all()
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return _postgres_shared


@pytest.fixture
def redis_url() -> str:
    services.need("Redis", services.REDIS_URL, 6379)
    return services.REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other run uses; its keys are deleted afterwards."""
    yield from _own_prefix(redis_url)


def _own_prefix(url: str) -> Iterator[str]:
    prefix = services.unique("cinema_test") + ":"
    yield prefix
    services.drop_redis_keys(url, prefix)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A Redis Cluster of this run's own (3 masters, a replica each, ports from 17101), shared
    by the run and stopped at its end. Tests must leave its nodes running: a test that kills
    one starts a cluster of its own."""
    from tests.redis_cluster import RedisCluster

    with RedisCluster(17101) as cluster:
        yield cluster


@pytest.fixture
def redis_cluster_url(redis_cluster: RedisCluster) -> str:
    """``redis+cluster://…`` naming one node of the run's cluster, as a deployment would."""
    return redis_cluster.url


@pytest.fixture
def redis_cluster_prefix(redis_cluster_url: str) -> Iterator[str]:
    """A key prefix on the cluster no other test uses; its keys are deleted afterwards."""
    yield from _own_prefix(redis_cluster_url)


@pytest.fixture
def outage(redis_url: str) -> Iterator[Outage]:
    """A way to Redis that the test can cut and restore; the real server stays up for others."""
    from tests.proxy import Outage

    target = urlsplit(redis_url)
    with Outage(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        yield proxy


@pytest.fixture
def amqp_url() -> str:
    services.need("RabbitMQ", services.AMQP_URL, 5672)
    return services.AMQP_URL
