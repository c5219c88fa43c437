"""Alembic's entry point, driven by ``adapters.postgres.migrations``: it hands over an open
connection (already in the transaction that holds the migration lock) in the config's attributes.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "run migrations with `cinema migrate` (adapters.postgres.migrations.upgrade), "
        "not the alembic command line"
    )

# PostgreSQL DDL is transactional: the whole upgrade commits or none of it does.
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
