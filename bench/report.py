"""The printed report: figures next to their targets, latency per route, status codes, CPU per
request by kind of process, memory, the invariant checks (and with --profile, hot spots and
statements per request); optionally the figures as JSON."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import attrs

from . import cpu_report, profile_report
from .generator import event_loop_name
from .options import Options
from .pgbench import Ceiling
from .process_memory import Memory
from .results import ScenarioResult
from .servers import Stack
from .statements import Count
from .tables import table
from .targets import SOAK_TOLERANCE_MIB, Target, target


@attrs.define
class Soak:
    """The soak's scenario result and the RSS samples taken while it ran."""

    result: ScenarioResult
    samples: list[tuple[float, list[Memory]]]

    def growth(self) -> dict[int, tuple[float, float, float]]:
        """Per pid: RSS once warm (a fifth of the way in), RSS at the end, and the growth."""
        if not self.samples:
            return {}
        length = self.samples[-1][0]
        warm = next((m for at, m in self.samples if at >= length / 5), self.samples[0][1])
        end = self.samples[-1][1]
        first = {m.pid: m.rss for m in warm}
        return {m.pid: (first[m.pid], m.rss, m.rss - first[m.pid]) for m in end if m.pid in first}


@attrs.define
class Row:
    scenario: str
    figure: str
    value: str
    fraction: str = ""
    target: str = ""
    verdict: str = ""


@attrs.define
class Report:
    options: Options
    stack: Stack | None = None
    generator_ceiling: ScenarioResult | None = None
    database_ceiling: Ceiling | None = None
    results: list[ScenarioResult] = attrs.Factory(list)
    memory_after: dict[str, list[Memory]] = attrs.Factory(dict)
    memory: list[Memory] = attrs.Factory(list)
    soak: Soak | None = None
    # The box office's processes by kind, and the cores each kind used at rest, before the
    # scenarios.
    processes: dict[str, list[int]] = attrs.Factory(dict)
    idle: dict[str, float] = attrs.Factory(dict)
    statements: list[Count] = attrs.Factory(list)
    load_before: tuple[float, float, float] = attrs.Factory(os.getloadavg)
    load_after: tuple[float, float, float] | None = None
    rows: list[Row] = attrs.Factory(list)
    started: float = attrs.Factory(time.time)

    # -- verdicts -------------------------------------------------------------------------

    @property
    def invariant_held(self) -> bool:
        results = [*self.results, *([self.soak.result] if self.soak else [])]
        return all(check.passed for result in results for check in result.checks)

    def finish(self) -> None:
        self.load_after = os.getloadavg()
        backend = self.options.backend
        ceiling = self._ceiling()
        ceiling_p99 = self._ceiling_p99()
        for result in self.results + ([self.soak.result] if self.soak else []):
            for figure in result.figures:
                goal = target(figure.target, backend) if figure.target else None
                fraction = ""
                if figure.rate and ceiling:
                    fraction = f"{figure.value / ceiling:.2f}"
                elif figure.unit == "ms" and result.name != "ceiling" and ceiling_p99:
                    # A latency against the p99 of GET /health in the same run.
                    fraction = f"×{figure.value / ceiling_p99:.1f} p99"
                self.rows.append(
                    Row(
                        result.name,
                        figure.name,
                        _number(figure.value, figure.unit),
                        fraction,
                        *_verdict(goal, figure.value),
                    )
                )
        peak = max((m.peak for m in self.memory), default=math.nan)
        self.rows.append(
            Row(
                "memory",
                "peak RSS, largest server process",
                _number(peak, "MiB"),
                "",
                *_verdict(target("rss", backend), peak),
            )
        )
        if self.soak:
            growth = max((g for _, _, g in self.soak.growth().values()), default=math.nan)
            goal = target("soak_growth", backend)
            self.rows.append(
                Row(
                    "soak",
                    "RSS growth, largest (after warm-up)",
                    _number(growth, "MiB"),
                    "",
                    *_verdict(goal, growth),
                )
            )

    def _ceiling(self) -> float | None:
        for result in self.results:
            if result.name == "ceiling" and result.figures:
                return result.figures[0].value
        return None

    def _ceiling_p99(self) -> float | None:
        for result in self.results:
            if result.name == "ceiling" and len(result.figures) > 1:
                return result.figures[1].value
        return None

    def targets_met(self) -> tuple[int, int]:
        judged = [row for row in self.rows if row.verdict]
        return sum(row.verdict == "met" for row in judged), len(judged)

    # -- text -----------------------------------------------------------------------------

    def render(self) -> str:
        o = self.options
        out: list[str] = []
        stack = self.stack
        label = stack.label if stack else o.backend
        layout = stack.layout if stack else f"{o.workers} API processes"
        out.append(
            f"== cinema box office bench: {label}; {layout}; "
            f"generator {o.generators} process(es) × {o.connections} connections =="
        )
        out.append(
            f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average before "
            f"{self.load_before[0]:.2f}, after {(self.load_after or self.load_before)[0]:.2f}"
        )
        for note in stack.notes if stack else []:
            out.append(f"note: {note}")
        if self.generator_ceiling:
            g = self.generator_ceiling.figures
            out.append(
                f"generator ceiling ({event_loop_name()}, against a null server in another "
                f"process): {g[0].value:,.0f} requests/s, p99 {g[1].value:.2f} ms, using "
                f"{self.generator_ceiling.generator_load:.2f} cores (a lower bound on what it "
                "can drive)"
            )
        ceiling = self._ceiling()
        if ceiling:
            out.append(
                f"stack ceiling (GET /health, same stack, same run): {ceiling:,.0f} requests/s"
            )
        if self.database_ceiling:
            d = self.database_ceiling
            out.append(
                f"database ceiling (pgbench -N, {d.clients} clients, same machine, same run): "
                f"{d.transactions_per_second:,.0f} transactions/s, "
                f"{d.postgres_ms_per_transaction:.3f} ms of PostgreSQL CPU per transaction"
            )
        out.append("")
        out.append(
            "FIGURES (of ceiling: a rate / GET /health's rate, a latency / GET /health's p99, "
            "both of the same run)"
        )
        out += table(
            ["scenario", "figure", "measured", "of ceiling", "target", "verdict"],
            [[r.scenario, r.figure, r.value, r.fraction, r.target, r.verdict] for r in self.rows],
        )
        out.append("")
        out.append("LATENCY per route, ms (every sample)")
        lines = []
        for result in self._all_results():
            for route in sorted(result.samples.latencies):
                p = result.samples.summary(route)
                lines.append(
                    [
                        result.name,
                        route,
                        f"{p.count}",
                        f"{p.p50:.2f}",
                        f"{p.p95:.2f}",
                        f"{p.p99:.2f}",
                        f"{p.max:.2f}",
                    ]
                )
        out += table(["scenario", "route", "count", "p50", "p95", "p99", "max"], lines)
        out.append("")
        out.append("STATUS CODES (0 = no answer)")
        lines = [
            [result.name, route, str(status), str(n)]
            for result in self._all_results()
            for (route, status), n in sorted(result.samples.statuses.items())
        ]
        out += table(["scenario", "route", "status", "count"], lines)
        out.append("")
        if stack:
            out += cpu_report.section(stack, self._all_results(), self.idle)
            out.append("")
        out.append("MEMORY of each process of the box office, MiB (VmRSS now / VmHWM peak)")
        kind_of = {pid: kind for kind, pids in self.processes.items() for pid in pids}
        lines = [
            [name, kind_of.get(m.pid, ""), str(m.pid), f"{m.rss:.1f}", f"{m.peak:.1f}"]
            for name, found in [*self.memory_after.items(), ("end", self.memory)]
            for m in found
        ]
        out += table(["after", "kind", "pid", "rss", "peak"], lines)
        if self.soak:
            out.append("")
            out.append(
                f"SOAK {o.soak_seconds:.0f} s: RSS once warm → at the end "
                f"(growth ≤ {SOAK_TOLERANCE_MIB:.0f} MiB counts as none)"
            )
            out += table(
                ["pid", "warm", "end", "growth"],
                [
                    [str(pid), f"{a:.1f}", f"{b:.1f}", f"{g:+.1f}"]
                    for pid, (a, b, g) in self.soak.growth().items()
                ],
            )
            if o.backend == "memory":
                out.append("(in memory the store itself grows with every sale: growth expected)")
        out.append("")
        out.append("NOTES")
        for result in self._all_results():
            for note in result.notes:
                out.append(f"  {result.name}: {note}")
        out.append(
            "  generator CPU while each scenario ran (cores busy, all its processes): "
            + ", ".join(f"{r.name} {r.generator_load:.2f}" for r in self._all_results())
        )
        for result in self._all_results():
            out += profile_report.hot_spots(result, o.profile_top, o.profile_gil)
        out += profile_report.statements(self.statements)
        out.append("")
        out.append("INVARIANT CHECKS")
        for result in self._all_results():
            for check in result.checks:
                verdict = "passed" if check.passed else "FAILED"
                out.append(f"  {check.name}: {verdict}")
                for line in check.problems[:20] if not check.passed else check.facts:
                    out.append(f"    {'✗' if not check.passed else '✓'} {line}")
        met, judged = self.targets_met()
        out.append("")
        held = "held in every scenario" if self.invariant_held else "FAILED (exit status 1)"
        out.append(f"RESULT: invariant {held}; targets met {met} of {judged}")
        return "\n".join(out)

    def _all_results(self) -> list[ScenarioResult]:
        extra = [self.soak.result] if self.soak else []
        return [
            *([self.generator_ceiling] if self.generator_ceiling else []),
            *self.results,
            *extra,
        ]

    def write_json(self, path: Path) -> None:
        data: dict[str, Any] = {
            "options": {k: str(v) for k, v in attrs.asdict(self.options).items()},
            "backend": self.stack.label if self.stack else self.options.backend,
            "invariant_held": self.invariant_held,
            "load_before": self.load_before,
            "load_after": self.load_after,
            "figures": [attrs.asdict(row) for row in self.rows],
            "latency_ms": {
                result.name: {
                    route: attrs.asdict(result.samples.summary(route))
                    for route in result.samples.latencies
                }
                for result in self._all_results()
            },
            "cpu_seconds": {
                result.name: {
                    "requests": result.requests,
                    **result.cpu,
                    "generator": result.generator_cpu,
                }
                for result in self._all_results()
            },
            "idle_cores": self.idle,
            "database_ceiling": attrs.asdict(self.database_ceiling)
            if self.database_ceiling
            else None,
            "statements_per_request": {c.request: c.counts for c in self.statements},
            "memory": [attrs.asdict(m) for m in self.memory],
            "soak_growth_mib": {
                str(pid): growth for pid, (_, _, growth) in self.soak.growth().items()
            }
            if self.soak
            else None,
        }
        path.write_text(json.dumps(data, indent=2, default=str))


def _verdict(goal: Target | None, value: float) -> tuple[str, str]:
    if goal is None:
        return "", ""
    return goal.text(), "met" if goal.met(value) else "MISSED"


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "–"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.2f} {unit}"
