"""cinema_core: a box office that never sells a seat twice.

Pure Python: the model, its rules, the use cases (``BoxOffice``), the ports they need, and
in-memory implementations of every port (``cinema_core.memory``).
"""

from __future__ import annotations

from datetime import timedelta

from .admissions import Ticket, TicketStatus
from .box_office import DEFAULT_HOLD, BoxOffice
from .clock import Clock, ManualClock, SystemClock
from .errors import (
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
from .events import Event
from .memory import InMemoryReservationRepo, InMemorySeatLock
from .money import Money
from .outages import Outages
from .pagination import Page
from .refunds import Refund
from .relay import Relay
from .reports import DailySales, SalesFilter, SessionReport
from .reservations import Reservation, ReservationStatus, Sale, SaleStatus
from .rooms import Category, Room, RoomSeat
from .seat_map import SeatMap
from .seats import Seat, SeatLabel, SeatStatus
from .sessions import Session, SessionFilter, SessionStatus, SessionView
from .tickets import DEFAULT_TICKET_TYPES, Line, TicketType

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
    "SessionStatus",
    "SessionView",
    "SingleSeatGap",
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
