"""cinema_core: a box office that never sells a seat twice.

Pure Python: the model, its rules, the use cases (``BoxOffice``), the ports they need, and
in-memory implementations of every port (``cinema_core.memory``).
"""

from __future__ import annotations

from datetime import timedelta

from cinema_core.after_sale.admissions import Ticket, TicketStatus
from cinema_core.after_sale.refunds import Refund
from cinema_core.box_office import DEFAULT_HOLD, BoxOffice
from cinema_core.errors import (
    AlreadyCheckedIn,
    AlreadyRefunded,
    BackendUnavailable,
    CinemaError,
    CoupleSeatSplit,
    Forbidden,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    NotEnoughSeats,
    NotFound,
    RateLimited,
    RefundWindowClosed,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationNotFound,
    RoomBusy,
    RoomExists,
    RoomNotFound,
    SaleNotFound,
    SalesClosed,
    SeatsUnavailable,
    SessionCancelled,
    SessionNotFound,
    SingleSeatGap,
    StoreUnavailable,
    TicketNotFound,
    TicketQuotaExhausted,
    TicketRefunded,
    TicketUsed,
    TooFewSeats,
    UnknownSeat,
    UnknownTicketType,
    ValidationFailed,
    WrongSession,
)
from cinema_core.events.envelopes import Event
from cinema_core.events.relay import Relay
from cinema_core.kernel.clock import Clock, ManualClock, SystemClock
from cinema_core.kernel.money import Money
from cinema_core.kernel.pagination import Page
from cinema_core.memory import InMemoryReservationRepo, InMemorySeatLock
from cinema_core.reports.figures import DailySales, SalesFilter, SessionReport
from cinema_core.reports.statement import SessionStatement, StatementFigures
from cinema_core.resilience.outages import Outages
from cinema_core.rooms.layout import Category, Room, RoomSeat
from cinema_core.rooms.seats import Seat, SeatLabel, SeatStatus
from cinema_core.selling.reservations import Reservation, ReservationStatus, Sale, SaleStatus
from cinema_core.selling.seat_map import SeatMap
from cinema_core.selling.ticket_types import DEFAULT_TICKET_TYPES, Line, TicketType
from cinema_core.sessions.session import Session, SessionFilter, SessionStatus, SessionView

__all__ = [
    "DEFAULT_HOLD",
    "DEFAULT_TICKET_TYPES",
    "AlreadyCheckedIn",
    "AlreadyRefunded",
    "BackendUnavailable",
    "BoxOffice",
    "Category",
    "CinemaError",
    "Clock",
    "CoupleSeatSplit",
    "DailySales",
    "Event",
    "Forbidden",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "Line",
    "ManualClock",
    "Money",
    "NotEnoughSeats",
    "NotFound",
    "Outages",
    "Page",
    "RateLimited",
    "Refund",
    "RefundWindowClosed",
    "Relay",
    "Reservation",
    "ReservationCancelled",
    "ReservationConfirmed",
    "ReservationExpired",
    "ReservationNotFound",
    "ReservationStatus",
    "Room",
    "RoomBusy",
    "RoomExists",
    "RoomNotFound",
    "RoomSeat",
    "Sale",
    "SaleNotFound",
    "SaleStatus",
    "SalesClosed",
    "SalesFilter",
    "Seat",
    "SeatLabel",
    "SeatMap",
    "SeatStatus",
    "SeatsUnavailable",
    "Session",
    "SessionCancelled",
    "SessionFilter",
    "SessionNotFound",
    "SessionReport",
    "SessionStatement",
    "SessionStatus",
    "SessionView",
    "SingleSeatGap",
    "StatementFigures",
    "StoreUnavailable",
    "SystemClock",
    "Ticket",
    "TicketNotFound",
    "TicketQuotaExhausted",
    "TicketRefunded",
    "TicketStatus",
    "TicketType",
    "TicketUsed",
    "TooFewSeats",
    "UnknownSeat",
    "UnknownTicketType",
    "ValidationFailed",
    "WrongSession",
    "in_memory_box_office",
]


def in_memory_box_office(clock: Clock | None = None, hold: timedelta = DEFAULT_HOLD) -> BoxOffice:
    """A complete box office in this process: no database, no Redis, no broker."""
    clock = clock or SystemClock()
    return BoxOffice(InMemoryReservationRepo(), InMemorySeatLock(clock), clock, hold)
