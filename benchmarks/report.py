"""Markdown tables of a benchmark's results, and issue 9's targets met or missed."""

from __future__ import annotations

import math
from datetime import datetime

from benchmarks.runner import Measured, Results, ScaleRun

# Issue 9's targets.
END_TO_END_MAX_RATIO = 4.0
PEAK_RSS_MAX = 4 * 2**30
GROWTH_MAX = 12.0
DEMO_MAX_S = 30.0
HELP_MAX_S = 1.0
INCREMENT_MAX_SHARE = 0.20


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n else "—"


def _ratio(m: Measured) -> str:
    return "—" if math.isnan(m.ratio) else f"{m.ratio:.2f}"


def _row(m: Measured) -> str:
    return (
        f"| {m.scale:g} | {m.stage} | {m.rows:,} | {m.wall_s:.1f} | {m.cpu_s:.1f} "
        f"| {_mb(m.peak_rss)} | {_ratio(m)} |"
    )


def stage_table(runs: list[ScaleRun]) -> list[str]:
    lines = [
        "| scale | stage | rows | wall s | CPU s | peak RSS | ratio to floor |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(_row(run.floor))
        lines += [_row(m) for m in run.stages]
        lines.append(_row(run.total).replace(run.total.stage, f"**{run.total.stage}**"))
    return lines


def growth_table(runs: list[ScaleRun]) -> list[str]:
    """Wall time ratio per stage between consecutive scales (target: at most 12 for 10x)."""
    lines: list[str] = []
    for small, big in zip(runs, runs[1:], strict=False):
        if not lines:
            lines = [
                "| stage | from scale | to scale | wall ratio | CPU ratio | size ratio |",
                "|---|---:|---:|---:|---:|---:|",
            ]
        size = big.scale / small.scale
        pairs = [(m.stage, m, big.stage(m.stage)) for m in small.stages]
        pairs += [("end to end", small.total, big.total), ("floor", small.floor, big.floor)]
        for name, a, b in pairs:
            if b is None or a.wall_s <= 0:
                continue
            cpu = f"{b.cpu_s / a.cpu_s:.1f}" if a.cpu_s > 0 else "—"
            lines.append(
                f"| {name} | {small.scale:g} | {big.scale:g} | {b.wall_s / a.wall_s:.1f} "
                f"| {cpu} | {size:g} |"
            )
    return lines


def verdicts(results: Results) -> list[str]:
    out: list[str] = []

    def say(target: str, met: bool, figure: str) -> None:
        out.append(f"- {'MET' if met else 'MISSED'}: {target}: {figure}")

    if results.runs:
        big = results.runs[-1]
        say(
            f"end to end at scale {big.scale:g} at most {END_TO_END_MAX_RATIO:g}x the floor",
            big.total.ratio <= END_TO_END_MAX_RATIO and big.success,
            f"{big.total.wall_s:.1f} s / {big.floor.wall_s:.1f} s = {big.total.ratio:.2f}x"
            + ("" if big.success else " (run FAILED)"),
        )
        say(
            f"peak RSS at scale {big.scale:g} at most 4 GB",
            big.total.peak_rss <= PEAK_RSS_MAX,
            _mb(big.total.peak_rss),
        )
    for small, big in zip(results.runs, results.runs[1:], strict=False):
        if not math.isclose(big.scale / small.scale, 10):
            continue
        worst = max(
            (
                (m.stage, b.wall_s / m.wall_s)
                for m in small.stages
                if (b := big.stage(m.stage)) is not None and m.wall_s > 0
            ),
            key=lambda p: p[1],
            default=("—", 0.0),
        )
        say(
            f"growth scale {small.scale:g} -> {big.scale:g} at most {GROWTH_MAX:g} per stage",
            worst[1] <= GROWTH_MAX,
            f"worst stage {worst[0]} {worst[1]:.1f}",
        )
    if results.cli:
        cli = results.cli
        say("`mentorscope --help` under 1 s", cli.help_s < HELP_MAX_S, f"{cli.help_s:.2f} s")
        say(
            "`mentorscope demo` (generate + run, ~2,000 matches) under 30 s",
            cli.demo_s < DEMO_MAX_S and cli.run_success,
            f"{cli.demo_s:.1f} s (generate {cli.generate_s:.1f} s, run {cli.run_s:.1f} s)",
        )
    if results.incremental:
        inc = results.incremental
        say(
            f"one more month ({inc.added_rows:,} meetings) at most 20 % of a full run",
            inc.share <= INCREMENT_MAX_SHARE and inc.run.success,
            f"{inc.run.total.wall_s:.1f} s / {inc.full_s:.1f} s = {inc.share:.0%}",
        )
    return out


def step_table(run: ScaleRun, top: int = 15) -> list[str]:
    lines = [
        f"Slowest steps at scale {run.scale:g}:",
        "",
        "| step | wall s | CPU s | peak RSS |",
        "|---|---:|---:|---:|",
    ]
    for m in run.steps[:top]:
        lines.append(f"| {m.stage} | {m.wall_s:.1f} | {m.cpu_s:.1f} | {_mb(m.peak_rss)} |")
    return lines


def render(results: Results, steps: bool = False) -> str:
    m = results.machine
    lines = [
        f"Benchmark of {datetime.now():%Y-%m-%d %H:%M}; machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB RAM; {m['os']}; Python {m['python']}, DuckDB {m['duckdb']}, "
        f"Polars {m['polars']}."
        + (f" Measured processes' extra environment: {m['env']}." if m.get("env") else ""),
        "",
    ]
    for run in results.runs:
        files = ", ".join(f"{k} {v:,}" for k, v in run.program.items())
        shape = f" ({run.shape})" if run.shape else ""
        outcome = "succeeded" if run.success else "FAILED"
        lines.append(
            f"- scale {run.scale:g}{shape}: load average at start {run.load[0]:.2f}"
            f" / {run.load[1]:.2f} / {run.load[2]:.2f}; pipeline {outcome}"
            + (f" ({'; '.join(run.errors[:3])})" if run.errors else "")
            + f"; input rows: {files}"
        )
    lines += ["", *stage_table(results.runs)]
    if results.incremental:
        inc = results.incremental
        lines += [
            "",
            f"Incremental: {inc.added_rows:,} new meetings on the loaded scale-{inc.scale:g} "
            f"warehouse (load average {inc.run.load[0]:.2f}):",
            "",
            *stage_table([inc.run]),
        ]
    if steps:
        for run in results.runs:
            lines += ["", *step_table(run)]
    growth = growth_table(results.runs)
    if growth:
        lines += ["", "Growth (wall time at the larger scale / at the smaller):", "", *growth]
    if results.cli:
        c = results.cli
        lines += [
            "",
            f"CLI: `mentorscope --help` {c.help_s:.2f} s (median of 3); `mentorscope generate` "
            f"{c.generate_s:.1f} s + `mentorscope run` {c.run_s:.1f} s "
            f"({'ok' if c.run_success else 'FAILED'}).",
        ]
    lines += ["", "Targets:", "", *verdicts(results)]
    return "\n".join(lines)
