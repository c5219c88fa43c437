"""Reports: a session's figures and sales per day, cinema and movie."""

from . import reports

OPERATIONS = reports.OPERATIONS
