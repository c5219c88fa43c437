"""Selling seats: holds (reservations) and their payment, ticket types and quotas, best available,
the no-single-gap rule, and the seat map a buyer chooses from."""
