"""cinema_core: a box office that never sells a seat twice.

Pure Python: the model, its rules, the use cases (``BoxOffice``), the ports they need, and
in-memory implementations of every port (``cinema_core.memory``).
"""

from __future__ import annotations

from datetime import timedelta

from .box_office import DEFAULT_HOLD, BoxOffice
from .clock import Clock, ManualClock, SystemClock
from .errors import (
    BackendUnavailable,
    CinemaError,
    CoupleSeatSplit,
    Forbidden,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    NotEnoughSeats,
    NotFound,
    RateLimited,
    ReservationCancelled,
    ReservationConfirmed,
    ReservationExpired,
    ReservationNotFound,
    RoomBusy,
    RoomExists,
    RoomNotFound,
    SeatsUnavailable,
    SessionNotFound,
    SingleSeatGap,
    StoreUnavailable,
    TicketQuotaExhausted,
    TooFewSeats,
    UnknownSeat,
    UnknownTicketType,
    ValidationFailed,
)
from .events import Event
from .memory import InMemoryReservationRepo, InMemorySeatLock
from .money import Money
from .outages import Outages
from .pagination import Page
from .relay import Relay
from .reservations import Reservation, ReservationStatus, Sale
from .rooms import Category, Room, RoomSeat
from .seat_map import SeatMap
from .seats import Seat, SeatLabel, SeatStatus
from .sessions import Session, SessionFilter, SessionView
from .tickets import DEFAULT_TICKET_TYPES, Line, TicketType

__all__ = [
    "DEFAULT_HOLD",
    "DEFAULT_TICKET_TYPES",
    "BackendUnavailable",
    "BoxOffice",
    "Category",
    "CinemaError",
    "Clock",
    "CoupleSeatSplit",
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
    "Seat",
    "SeatLabel",
    "SeatMap",
    "SeatStatus",
    "SeatsUnavailable",
    "Session",
    "SessionFilter",
    "SessionNotFound",
    "SessionView",
    "SingleSeatGap",
    "StoreUnavailable",
    "SystemClock",
    "TicketQuotaExhausted",
    "TicketType",
    "TooFewSeats",
    "UnknownSeat",
    "UnknownTicketType",
    "ValidationFailed",
    "in_memory_box_office",
]


def in_memory_box_office(clock: Clock | None = None, hold: timedelta = DEFAULT_HOLD) -> BoxOffice:
    """A complete box office in this process: no database, no Redis, no broker."""
    clock = clock or SystemClock()
    return BoxOffice(InMemoryReservationRepo(), InMemorySeatLock(clock), clock, hold)
