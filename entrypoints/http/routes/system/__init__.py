"""System: liveness and readiness probes, and the Prometheus metrics."""

from . import metrics, probes

OPERATIONS = probes.OPERATIONS + metrics.OPERATIONS
