"""Reports: a session's figures and statement (the borderô), sales per day, cinema and movie."""

from . import reports, statement

OPERATIONS = reports.OPERATIONS + statement.OPERATIONS
