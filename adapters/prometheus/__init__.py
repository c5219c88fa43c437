"""Prometheus metrics on prometheus-client: the core's Metrics port, the HTTP requests, and
the gauges read when scraped; summed across processes in its multiprocess mode."""

from adapters.prometheus.metrics import CONTENT_TYPE, PrometheusMetrics, forget_dead_processes

__all__ = ["CONTENT_TYPE", "PrometheusMetrics", "forget_dead_processes"]
