"""What tracing costs per sale: the CPU of the same sales with tracing on and off.

As bench/metrics_cost.py: each round sells ``SALES`` holds (GET the seat map, POST
/reservations, POST its payment) through the real HTTP app in this process, and reads the
process's CPU time; rounds alternate on and off. "On" is the production pipeline (a
BatchSpanProcessor) up to the exporter, which drops the spans: what a collector does with them
is not this process's CPU. ``--database URL`` sells on PostgreSQL, where each statement is a
span too (the database must be migrated: ``cinema migrate``).

    python -m bench.tracing_cost [--database postgresql+psycopg://…]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence

SECRET = "tracing-cost-secret-long-enough-for-hs256"
SALES = 300
ROUNDS = 6


def cpu_per_sale(traced: bool, database_url: str | None, round_: int) -> float:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from adapters.otel import Tracing
    from bench.metrics_cost import cpu_of_sales
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Settings
    from entrypoints.http.app import create_app

    class Dropped(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    settings = Settings(
        auth_secret=SECRET,
        database_url=database_url,
        rate_per_user=0.0,
        rate_per_client=0.0,
        metrics=False,
        log_level="WARNING",
    )
    tracing = Tracing("bench", BatchSpanProcessor(Dropped())) if traced else None
    services = bootstrap(settings, tracing=tracing)
    app = create_app(services, run_worker=False)
    # A room of its own each round: on PostgreSQL the rounds share one database.
    spent = cpu_of_sales(app, SECRET, SALES, room=f"Sala {traced} {round_} {time.time_ns()}")
    services.close()
    return spent


def main(argv: list[str]) -> int:
    database_url = argv[argv.index("--database") + 1] if "--database" in argv else None
    cpu_per_sale(True, database_url, -1)  # warm up imports and caches
    on, off = [], []
    for n in range(ROUNDS):
        off.append(cpu_per_sale(False, database_url, n))
        on.append(cpu_per_sale(True, database_url, n))
    t_on, t_off = statistics.median(on), statistics.median(off)
    where = "PostgreSQL" if database_url else "memory"
    print(f"tracing, {where}: {SALES} sales × {ROUNDS} rounds each way")
    for name, runs, median in (("off", off, t_off), ("on", on, t_on)):
        rounds = [round(x * 1000, 3) for x in runs]
        print(f"CPU per sale, tracing {name}: {median * 1000:.3f} ms (rounds {rounds})")
    extra = t_on - t_off
    print(f"cost of tracing: {extra * 1000:.3f} ms per sale, {100 * extra / t_off:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
