"""Waiting rooms for on-sales: an admin sets one for a session, buyers queue and are admitted."""

from . import queue, rooms

OPERATIONS = rooms.OPERATIONS + queue.OPERATIONS
