"""The box office's metrics as Prometheus sees them.

Counters and histograms are written where prometheus-client keeps them: this object's own
registry in one process, or, when ``PROMETHEUS_MULTIPROC_DIR`` was set before the client was
imported (``cinema serve`` sets it for its workers), each process's memory-mapped files in that
directory, which a scrape of any process sums. Gauges of shared state (the outbox, the broker's
queues) are read when scraped, by the process scraped, and never written: summing them across
processes would count the same backlog N times.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

log = logging.getLogger("cinema.metrics")
# The text format every Prometheus since 2.0 reads (what generate_latest writes).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Latency buckets for a box office's requests: most answer in milliseconds, a payment's call to
# its provider in up to seconds.
BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A gauge read at scrape time: its name, its help, and what reads it (labels → value; a reader
# that raises is left out of that scrape).
Reader = Callable[[], Mapping[tuple[str, ...], float]]
_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db$")


class _ReadGauges:
    """A collector of the gauges that are read when scraped."""

    def __init__(self) -> None:
        self.readers: dict[str, tuple[str, tuple[str, ...], Reader]] = {}

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, labels, read) in self.readers.items():
            try:
                values = read()
            except Exception as error:
                # A backend down must not take the other metrics with it.
                log.warning("metric %s not read: %s", name, error)
                continue
            family = GaugeMetricFamily(name, help_text, labels=list(labels))
            for key, value in values.items():
                family.add_metric(list(key), value)
            yield family


class PrometheusMetrics:
    """The core's ``Metrics`` port, the request metrics the HTTP middleware records, and the
    scrape of them all."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        # Each instance its own registry: one process may run several box offices (tests),
        # and none of them reads another's counts. In multiprocess mode the values live in
        # the directory instead, and a scrape reads them from there.
        self.registry = CollectorRegistry(auto_describe=True)
        if multiprocess_dir is not None and values.ValueClass is values.MutexValue:
            # The client was imported before the directory was set: this process's values
            # are in its memory, and the directory would read as nobody's.
            log.warning("%s set too late: metrics of this process only", multiprocess_dir)
            multiprocess_dir = None
        self.multiprocess_dir = multiprocess_dir
        r = self.registry
        self._requests = Counter(
            "cinema_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self._latency = Histogram(
            "cinema_http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route template and status.",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=r,
        )
        self._in_progress = Gauge(
            "cinema_http_requests_in_progress",
            "HTTP requests being answered now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self._holds = Counter("cinema_holds", "Holds made.", registry=r)
        self._held_seats = Counter("cinema_held_seats", "Seats held by new holds.", registry=r)
        self._sales = Counter("cinema_sales", "Sales made.", registry=r)
        self._sold_seats = Counter("cinema_sold_seats", "Seats sold.", registry=r)
        self._refunds = Counter("cinema_refunds", "Refunds made.", registry=r)
        self._refunded_seats = Counter("cinema_refunded_seats", "Seats refunded.", registry=r)
        self._checkins = Counter("cinema_checkins", "Tickets checked in at the door.", registry=r)
        self._payments = Counter(
            "cinema_payments",
            "Payments through a provider reaching each status (pending: started).",
            ["status"],
            registry=r,
        )
        self._read = _ReadGauges()
        self.registry.register(self._read)
        # Children by label values, made once: ``labels()`` takes a lock and builds a key on
        # every call, a visible share of a cheap request.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._payment_children: dict[str, Counter] = {}

    # -- the core's Metrics port -------------------------------------------------------------

    def held(self, seats: int) -> None:
        self._holds.inc()
        self._held_seats.inc(seats)

    def sold(self, seats: int) -> None:
        self._sales.inc()
        self._sold_seats.inc(seats)

    def refunded(self, seats: int) -> None:
        self._refunds.inc()
        self._refunded_seats.inc(seats)

    def checked_in(self) -> None:
        self._checkins.inc()

    def payment(self, status: str) -> None:
        child = self._payment_children.get(status)
        if child is None:
            child = self._payment_children[status] = self._payments.labels(str(status))
        child.inc()

    # -- requests -------------------------------------------------------------------------

    def request_started(self) -> None:
        self._in_progress.inc()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered; ``route`` is its template (``/sessions/{session_id}``), so
        ids never become label values."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self._requests.labels(*labels), self._latency.labels(*labels))
            self._request_children[key] = children
        self._in_progress.dec()
        children[0].inc()
        children[1].observe(seconds)

    # -- gauges read when scraped ---------------------------------------------------------

    def gauge(self, name: str, help_text: str, read: Reader, labels: tuple[str, ...] = ()) -> None:
        """Report ``read()`` as the gauge ``name`` at every scrape."""
        self._read.readers[name] = (help_text, labels, read)

    # -- the scrape -----------------------------------------------------------------------

    def scrape(self) -> bytes:
        """Every metric in Prometheus' text format: of every process sharing the multiprocess
        directory when there is one, else of this one."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        registry.register(self._read)
        return generate_latest(registry)

    def close(self) -> None:
        """This process stops serving: its in-progress requests no longer count."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]


def forget_dead_processes(directory: str, alive: Callable[[int], bool] | None = None) -> int:
    """Drop the live gauges of processes that are gone (a worker killed and replaced), so the
    in-progress requests they were answering are not counted for ever. Their counters stay:
    what they counted happened. Returns how many processes were forgotten."""
    alive = alive or _alive
    dead = set()
    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        found = _LIVE_FILE.search(os.path.basename(path))
        if found and not alive(int(found.group(1))):
            dead.add(int(found.group(1)))
    for pid in dead:
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return len(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
