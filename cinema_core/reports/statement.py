"""The borderô: a session's box-office statement, the figures a cinema hands the distributor.

The store counts the session's tickets grouped by category, ticket type and payment method
(``ReservationRepo.statement_groups``: one SQL aggregate on PostgreSQL, a pass over its state in
memory); every figure is added up here, once, so both stores answer alike. Unlike the session's
report, the statement keeps what was sold and what went back apart: ``gross`` is every ticket
ever sold, ``refunded`` what of it was given back, ``net`` the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import attrs

from cinema_core.kernel.money import Money
from cinema_core.reports.goods import GoodsFigures, GoodsTally
from cinema_core.rooms.layout import Category
from cinema_core.sessions.session import Session

# The method of a sale no provider took money for: paying the hold sold it at once.
INSTANT = "instant"

K = TypeVar("K", bound=Hashable)


@attrs.frozen
class StatementGroup:
    """A session's tickets of one category, ticket type and payment method (the provider of
    the payment that made their sale), as the store counts them: every ticket sold, refunded
    or not."""

    category: Category
    ticket: str
    method: str
    sold: int
    sold_cents: int
    refunded: int
    refunded_cents: int
    checked_in: int


@attrs.frozen
class StatementFigures:
    """Tickets and money of a part of a session (a ticket type, a category, a method) or of
    all of it: ``tickets`` sold and their ``gross``, ``refunds`` of them and their
    ``refunded`` amount, ``net`` (gross minus refunded) and tickets ``checked_in``."""

    tickets: int
    gross: Money
    refunds: int
    refunded: Money
    net: Money
    checked_in: int

    @classmethod
    def of(cls, groups: Iterable[StatementGroup], currency: str) -> StatementFigures:
        chosen = list(groups)
        gross = sum(g.sold_cents for g in chosen)
        refunded = sum(g.refunded_cents for g in chosen)
        return cls(
            tickets=sum(g.sold for g in chosen),
            gross=Money(gross, currency),
            refunds=sum(g.refunded for g in chosen),
            refunded=Money(refunded, currency),
            net=Money(gross - refunded, currency),
            checked_in=sum(g.checked_in for g in chosen),
        )


@attrs.frozen
class Takings:
    """The money of a session's sales, goods and discounts included: ``gross`` what was paid,
    ``refunded`` what went back, ``net`` what was kept."""

    gross: Money
    refunded: Money
    net: Money

    @classmethod
    def of(cls, tickets: StatementFigures, goods: GoodsTally) -> Takings:
        def cents(pick: Callable[[Any], Money]) -> int:
            products = sum(pick(f).cents for f in goods.products.values())
            discounts = sum(pick(f).cents for f in goods.discounts.values())
            return pick(tickets).cents + products - discounts

        currency = tickets.gross.currency
        return cls(
            Money(cents(lambda f: f.gross), currency),
            Money(cents(lambda f: f.refunded), currency),
            Money(cents(lambda f: f.net), currency),
        )


@attrs.frozen
class SessionStatement:
    """The borderô of a session: who it was (movie, room, cinema, start, age rating when the
    session has one), and its figures in all and by ticket type, seat category and payment
    method. Every ticket type and category of the session appears (zeros included); a method
    appears once a sale was paid through it."""

    session_id: UUID
    movie: str
    room: str
    cinema: str
    starts_at: datetime
    rating: str | None
    currency: str
    total: StatementFigures
    by_ticket: Mapping[str, StatementFigures]
    by_category: Mapping[Category, StatementFigures]
    by_method: Mapping[str, StatementFigures]
    # Products sold by code, discounts by promo code (``reports.goods``); the tickets' figures
    # above stay at the tickets' prices, and ``takings`` puts all of it together.
    products: Mapping[str, GoodsFigures]
    discounts: Mapping[str, GoodsFigures]
    takings: Takings

    @classmethod
    def of(
        cls, session: Session, groups: Iterable[StatementGroup], goods: GoodsTally
    ) -> SessionStatement:
        counted = list(groups)
        currency = session.price.currency

        def by(key: Callable[[StatementGroup], K], keys: Iterable[K]) -> dict[K, StatementFigures]:
            return {
                k: StatementFigures.of((g for g in counted if key(g) == k), currency) for k in keys
            }

        tickets = [kind.code for kind in session.ticket_types]
        # A type a sale used that the session no longer lists still counts, after the rest.
        tickets += sorted({g.ticket for g in counted} - set(tickets))
        total = StatementFigures.of(counted, currency)
        return cls(
            session_id=session.id,
            movie=session.movie,
            room=session.room.name,
            cinema=session.room.cinema,
            starts_at=session.starts_at,
            rating=_rating(session),
            currency=currency,
            total=total,
            by_ticket=by(lambda g: g.ticket, tickets),
            by_category=by(lambda g: g.category, session.room.categories),
            by_method=by(lambda g: g.method, sorted({g.method for g in counted})),
            products=goods.products,
            discounts=goods.discounts,
            takings=Takings.of(total, goods),
        )


def _rating(session: Session) -> str | None:
    # Sessions gain an age rating in the same issue, built beside this statement: read it if
    # the session has one, as its text (an enum's value).
    rating = getattr(session, "rating", None)
    if rating is None:
        return None
    return str(getattr(rating, "value", rating))
