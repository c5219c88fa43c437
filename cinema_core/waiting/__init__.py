"""Waiting rooms for on-sales: a fair queue, admission at a set rate, signed admissions."""
