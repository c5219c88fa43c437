"""The PostgreSQL adapters: the reservation store (source of truth) and idempotency keys.

Build the engine with ``create_engine(url)``; bring the schema up to date with
``migrations.upgrade(url)`` (``cinema migrate``).
"""

from __future__ import annotations

from .engine import create_engine
from .idempotency import PostgresIdempotencyStore
from .migrations import SchemaNotCurrent, require_current_schema, schema_is_current, upgrade
from .repo import PostgresReservationRepo

__all__ = [
    "PostgresIdempotencyStore",
    "PostgresReservationRepo",
    "SchemaNotCurrent",
    "create_engine",
    "require_current_schema",
    "schema_is_current",
    "upgrade",
]
