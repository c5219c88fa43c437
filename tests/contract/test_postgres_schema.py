"""The PostgreSQL schema: migrations that any number of processes can run, and a refusal to
serve on a schema that is not current."""

from __future__ import annotations

from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.postgres import (
    PostgresReservationRepo,
    SchemaNotCurrent,
    require_current_schema,
    schema_is_current,
    upgrade,
)
from adapters.postgres.migrations import SCRIPTS
from adapters.postgres.tables import metadata
from cinema_core import StoreUnavailable
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from tests.concurrency import run_together

pytestmark = pytest.mark.postgres


def test_an_empty_database_is_not_current_and_says_to_run_cinema_migrate(
    postgres_url: str,
) -> None:
    """A database without the schema is refused with a message naming `cinema migrate`."""
    assert not schema_is_current(postgres_url)
    with pytest.raises(SchemaNotCurrent, match="cinema migrate"):
        require_current_schema(postgres_url)


def test_upgrade_run_by_several_processes_at_once_and_again_succeeds(postgres_url: str) -> None:
    """Concurrent upgrades queue on the migration lock; later ones find nothing to do, and
    each says what it applied: one all three revisions, the others (and a fifth) none."""
    scripts = ScriptDirectory(str(SCRIPTS))
    every = [r.revision for r in reversed(list(scripts.walk_revisions()))]
    results = run_together(4, lambda _: upgrade(postgres_url))
    applied = sorted(([rev for rev, _ in r.revisions] for r in results), key=len)
    assert applied == [[], [], [], every]
    assert {r.heads for r in results} == {tuple(scripts.get_heads())}
    assert upgrade(postgres_url).revisions == ()
    assert schema_is_current(postgres_url)
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
    engine.dispose()


def test_the_table_objects_describe_the_migrated_schema(migrated_postgres_url: str) -> None:
    """tables.py (what queries are built from) and the migrations agree, column by column."""
    engine = sa.create_engine(migrated_postgres_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    # Indexes and constraints live in the migrations only; the tables described here and their
    # columns must match. (Tables other modules describe show up as "remove_table": ignored.)
    flat = [d for diff in diffs for d in (diff if isinstance(diff, list) else [diff])]
    column_kinds = {"add_table", "add_column", "remove_column", "modify_type", "modify_nullable"}
    assert [d for d in flat if d[0] in column_kinds] == []


def test_the_app_refuses_to_start_on_an_outdated_schema(postgres_url: str) -> None:
    """bootstrap() with a database that was never migrated raises SchemaNotCurrent."""
    with pytest.raises(SchemaNotCurrent, match="cinema migrate"):
        bootstrap(Settings(database_url=postgres_url))


def test_the_app_starts_on_a_current_schema_and_closes_its_pool(
    migrated_postgres_url: str,
) -> None:
    """bootstrap() wires the PostgreSQL store when the schema is current."""
    services = bootstrap(Settings(database_url=migrated_postgres_url))
    try:
        assert isinstance(services.box.repo, PostgresReservationRepo)
        assert services.readiness()[1]["database"] == "ok"
    finally:
        services.close()


def test_an_unreachable_database_is_store_unavailable() -> None:
    """No server at the address: the schema check and the store raise StoreUnavailable."""
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    with pytest.raises(StoreUnavailable):
        schema_is_current(url)
    repo = PostgresReservationRepo(url)
    try:
        with pytest.raises(StoreUnavailable):
            repo.ping()
        with pytest.raises(StoreUnavailable):
            repo.atomic(lambda tx: tx.lock_reservation(uuid4()))
    finally:
        repo.close()
