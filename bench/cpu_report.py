"""The report's CPU section: milliseconds of CPU per request, by kind of process."""

from __future__ import annotations

from .results import ScenarioResult
from .servers import Stack
from .tables import table


def kinds(results: list[ScenarioResult]) -> list[str]:
    """Every kind measured, in the order the stack lists them (API first)."""
    found: dict[str, None] = {}
    for result in results:
        found.update(dict.fromkeys(result.cpu))
    return list(found)


def legend(stack: Stack, kind: str) -> str:
    if kind == "API":
        inside = "in cinema worker" if stack.worker is not None else "inside them"
        return f"API = cinema serve's processes (the sweeper and relay {inside})"
    if kind == "worker":
        return "worker = cinema worker (sweeper, relay, consumers)"
    if kind == "PostgreSQL":
        return "PostgreSQL = the backends serving the run's database"
    return (
        f"{kind} = the machine's shared server (pid {stack.shared[kind]}): other clients count too"
    )


def section(stack: Stack, results: list[ScenarioResult], idle: dict[str, float]) -> list[str]:
    measured = [r for r in results if r.name != "generator"]
    columns = kinds(measured)
    out = [
        "CPU per request, ms, by kind of process (on 2 cores a rate above 2,000 / total is out "
        "of reach)",
        *(f"  {legend(stack, kind)}" for kind in columns),
        "  generator = the load generator's processes",
    ]

    def per_request(seconds: float, requests: int) -> str:
        return f"{1000 * seconds / requests:.3f}" if requests else "–"

    lines = []
    for r in measured:
        spent = [r.cpu.get(kind, 0.0) for kind in columns] + [r.generator_cpu]
        lines.append(
            [
                r.name,
                str(r.requests),
                *(per_request(s, r.requests) for s in spent),
                per_request(sum(spent), r.requests),
            ]
        )
    out += table(["scenario", "requests", *columns, "generator", "total"], lines)
    if idle:
        at_rest = ", ".join(f"{kind} {cores:.3f}" for kind, cores in idle.items())
        out.append(f"  at rest for 1 s before the scenarios, cores busy: {at_rest}")
    return out
