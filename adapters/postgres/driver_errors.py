"""Telling driver failures apart, and translating them into the domain's errors."""

from __future__ import annotations

import sqlalchemy as sa

from cinema_core.errors import StoreUnavailable

# SQLSTATEs of conflicts that say "try again": nothing was changed, and a re-run from the
# start of the transaction may well succeed.
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
TRANSIENT = frozenset({DEADLOCK_DETECTED, SERIALIZATION_FAILURE})
UNIQUE_VIOLATION = "23505"


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a (wrapped) psycopg error, if it has one."""
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None)


def constraint_name(error: BaseException | None) -> str | None:
    """The name of the constraint a (wrapped) psycopg error broke, if any."""
    orig = getattr(error, "orig", error)
    diag = getattr(orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def is_transient(error: BaseException) -> bool:
    return sqlstate(error) in TRANSIENT


def unavailable(error: sa.exc.SQLAlchemyError, doing: str) -> StoreUnavailable:
    """The ``StoreUnavailable`` to raise (``from error``) for a failure while ``doing``."""
    cause = getattr(error, "orig", None) or error
    return StoreUnavailable(f"The database failed while {doing}: {type(cause).__name__}.")
