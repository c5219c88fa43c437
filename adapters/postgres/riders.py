"""Writes that ride along: held back, then sent as CTEs of the next statement that writes.

A write that nothing in the transaction reads back before its next statement (seats saved, a
reservation, tickets) costs a round trip of its own for nothing. ``Riders`` queues such writes
and hands them out folded into one statement: as data-modifying CTEs of the next statement that
carries them (one that only writes: the sale, the outbox INSERT), or, before any other
statement, as one statement of their own (the last of them carrying the others). They run in
that statement's snapshot and their constraints are checked at its end, as for statements of
their own; none of them reads what another writes. Two writes to one table never share a
statement (a row written twice in one statement is an error): queueing a second one hands the
first ones out to be sent first. Each rider's parameters are prefixed ``w<i>_`` so as not to
clash with the carrier's or each other's.
"""

from __future__ import annotations

import functools
from typing import Any

Statement = tuple[str, dict[str, Any]]

_WITH = "\nWITH "


class Riders:
    """The writes held back on one transaction, in the order they were queued."""

    def __init__(self) -> None:
        self._held: list[tuple[str, str, dict[str, Any]]] = []

    def __bool__(self) -> bool:
        return bool(self._held)

    def hold(self, table: str, sql: str, params: dict[str, Any]) -> Statement | None:
        """Queue a write to ``table``; what must be sent before it, if a held write already
        writes that table."""
        due = self.alone() if any(held[0] == table for held in self._held) else None
        self._held.append((table, sql, params))
        return due

    def carried_by(self, sql: str, params: dict[str, Any]) -> Statement:
        """``sql`` with every held write as its CTEs (and ``params`` with theirs); none is
        held after."""
        return self._fold(sql, params)

    def alone(self) -> Statement | None:
        """The held writes as one statement of their own (``None`` if none is held); none is
        held after."""
        return self._fold(None, {}) if self._held else None

    def _fold(self, carrier: str | None, params: dict[str, Any]) -> Statement:
        held, self._held = self._held, []
        params = dict(params)
        for index, (_, _, values) in enumerate(held):
            if carrier is not None or index < len(held) - 1:
                params.update({f"w{index}_{name}": value for name, value in values.items()})
            else:
                params.update(values)  # the last write is the statement itself
        return riding(tuple(write[1] for write in held), carrier), params


# A handful of use cases make a handful of combinations.
@functools.lru_cache(maxsize=64)
def riding(riders: tuple[str, ...], carrier: str | None) -> str:
    """The text of ``carrier`` (or, without one, of the last rider) with the others as CTEs."""
    if carrier is None:
        riders, carrier = riders[:-1], riders[-1]
    ctes = ", ".join(
        f"w{index} AS ({sql.replace('%(', f'%(w{index}_')})" for index, sql in enumerate(riders)
    )
    if not ctes:
        return carrier
    if carrier.startswith(_WITH):
        return f"WITH {ctes}, {carrier[len(_WITH) :]}"
    return f"WITH {ctes}{carrier}"
