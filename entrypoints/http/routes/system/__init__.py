"""System: liveness and readiness probes."""

from . import probes

OPERATIONS = probes.OPERATIONS
