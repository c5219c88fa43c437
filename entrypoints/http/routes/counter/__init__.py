"""The counter: staff shifts and the sales made at a till."""

from . import sales, shifts

OPERATIONS = shifts.OPERATIONS + sales.OPERATIONS
