"""Selling: holds (picked seats or best available), changing and cancelling them, and paying
a hold."""

from . import reservations

OPERATIONS = reservations.OPERATIONS
