"""Schema migrations (Alembic, configured here in code: no ``alembic.ini`` at runtime).

``upgrade(url)`` is what ``cinema migrate`` runs; it is safe to run twice and from several
processes at once. ``require_current_schema`` is what the app checks before serving.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from cinema_core.errors import StoreUnavailable

from ..engine import engine_for

__all__ = [
    "Applied",
    "MigrationFailed",
    "SchemaNotCurrent",
    "downgrade",
    "require_current_schema",
    "schema_is_current",
    "upgrade",
]

SCRIPTS = Path(__file__).resolve().parent
# pg_advisory_xact_lock key held while migrating ("cinema" in ASCII): processes that start
# together queue; the ones after the first find the schema current and do nothing.
MIGRATION_LOCK = 0x63696E656D61


class SchemaNotCurrent(RuntimeError):
    """The database schema is older (or newer) than this code; run ``cinema migrate``."""

    def __init__(self, current: tuple[str, ...], expected: tuple[str, ...]):
        self.current = current
        self.expected = expected
        at = ", ".join(current) or "empty"
        super().__init__(
            f"The database schema is at revision {at}, but this version of the box office needs "
            f"{', '.join(expected)}. Run `cinema migrate` (with the same CINEMA_DATABASE_URL) "
            "first."
        )


class MigrationFailed(RuntimeError):
    """A revision's statements were refused by the database; the message says why, in one
    line."""


@attrs.frozen
class Applied:
    """What ``upgrade`` did: the revisions it applied (oldest first), and where it left the
    schema."""

    revisions: tuple[tuple[str, str], ...]  # (revision id, its whole description)
    heads: tuple[str, ...]


def upgrade(url: str | Engine, revision: str = "head") -> Applied:
    """Bring the schema up to ``revision``, in one transaction, under an advisory lock."""
    # No statement timeout: a migration may rewrite a large table, and waits on the lock
    # for as long as another process migrates.
    engine, owned = engine_for(url, pooled=False, timeout=None)
    try:
        try:
            connection = engine.connect()
        except sa.exc.OperationalError as error:
            raise StoreUnavailable(
                f"cannot reach the database to migrate it: {_reason(error)}"
            ) from error
        try:
            with connection, connection.begin():
                # A transaction-level lock: released by the commit that publishes the new
                # schema, so a waiting process sees the finished upgrade, never half of one.
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                before = MigrationContext.configure(connection).get_current_heads()
                config = _config(connection)
                command.upgrade(config, revision)
                after = MigrationContext.configure(connection).get_current_heads()
        except sa.exc.DBAPIError as error:
            raise MigrationFailed(
                f"the migration failed, and (in one transaction) changed nothing: {_reason(error)}"
            ) from error
    finally:
        if owned:
            engine.dispose()
    scripts = ScriptDirectory.from_config(config)
    walked = scripts.iterate_revisions(after, before or "base") if after != before else ()
    applied = tuple((r.revision, _summary(r.module.__doc__)) for r in reversed(list(walked)))
    return Applied(applied, tuple(sorted(after)))


def _summary(doc: str | None) -> str:
    """A revision's description: the first paragraph of its docstring, on one line (a
    sentence that wraps is never cut), without its final full stop."""
    paragraph = (doc or "").strip().split("\n\n")[0]
    return " ".join(paragraph.split()).rstrip(".")


def _reason(error: sa.exc.DBAPIError) -> str:
    """The database's (or the connection's) own words, on one line, without the driver's
    class names and SQLAlchemy's links."""
    words = " ".join(str(error.orig).split())
    return words.removeprefix("connection failed: ").replace("FATAL: ", "")


def downgrade(url: str | Engine, revision: str) -> None:
    """Take the schema back to ``revision``, in one transaction, under the migration lock. A
    revision that cannot carry some data back refuses (and so changes nothing)."""
    engine, owned = engine_for(url, pooled=False)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            command.downgrade(_config(connection), revision)
    finally:
        if owned:
            engine.dispose()


def schema_is_current(url_or_engine: str | Engine) -> bool:
    """Whether the database is at the newest revision this code knows."""
    current, expected = _revisions(url_or_engine)
    return current == expected


def require_current_schema(url_or_engine: str | Engine) -> None:
    """Raise ``SchemaNotCurrent`` (telling to run ``cinema migrate``) unless it is current,
    or ``StoreUnavailable`` if the database cannot be reached."""
    current, expected = _revisions(url_or_engine)
    if current != expected:
        raise SchemaNotCurrent(current, expected)


def _revisions(url_or_engine: str | Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    expected = tuple(sorted(ScriptDirectory.from_config(_config(None)).get_heads()))
    engine, owned = engine_for(url_or_engine, pooled=False)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    except sa.exc.OperationalError as error:
        raise StoreUnavailable(
            f"cannot reach the database to check its schema: {_reason(error)}"
        ) from error
    finally:
        if owned:
            engine.dispose()
    return tuple(sorted(current)), expected


def _config(connection: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config
