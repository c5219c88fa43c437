"""The set-up the in-process cost tools share: a box office built as ``cinema serve`` builds it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs

from cinema_core import BoxOffice, Money, Session

from .options import Options
from .servers import running


@contextlib.contextmanager
def large_session(backend: str) -> Iterator[tuple[BoxOffice, Session, str]]:
    """``bootstrap`` from the CINEMA_* settings of a fresh stack (a new database for
    ``postgres``), with one new 26 × 100 session. Yields the box office, the session and the
    stack's label; closes everything after."""
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Settings

    options = attrs.evolve(Options(), backend=backend, workers=1)
    with running(options) as stack:
        services = bootstrap(Settings.from_env(stack.env))
        try:
            show = services.box.create_session(
                movie="Cost",
                room="Sala",
                starts_at=datetime.now(UTC) + timedelta(days=1),
                price=Money.parse("25.00"),
                rows=26,
                seats_per_row=100,
            ).session
            yield services.box, show, stack.label
        finally:
            services.close()
