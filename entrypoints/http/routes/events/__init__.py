"""Events: the audit trail of published events."""

from . import audit

OPERATIONS = audit.OPERATIONS
