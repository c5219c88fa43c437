"""Rooms: the chain's rooms and their layouts."""

from . import rooms

OPERATIONS = rooms.OPERATIONS
