"""After the sale: a sale and its refunds, its tickets and their QR codes, the door's check-in,
a user's purchases."""

from . import checkins, purchases, sales

OPERATIONS = (*purchases.OPERATIONS, *sales.OPERATIONS, *checkins.OPERATIONS)
