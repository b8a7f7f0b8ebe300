"""Group gaps as effect sizes for the research report: odds ratios for shares, Hedges' g for
means, each with its 95 % interval, from the all-programs rows of metrics.breakdowns."""

from __future__ import annotations

import math

import polars as pl

from models.reporting import labels
from models.reporting.markup import Table, fmt_number, is_missing

EFFECT_NAMES = {"odds_ratio": "odds ratio", "hedges_g": "Hedges' g"}
SHOWN_ROWS = 30


def _strength(row: dict) -> float:
    """How far from 'no difference' an effect is, comparable across the two kinds."""
    value = row["effect_size"]
    return abs(math.log(value)) if row["effect_size_type"] == "odds_ratio" else abs(value)


def gap_rows(breakdowns: pl.DataFrame | None) -> list[dict]:
    """Published (unsuppressed) all-programs group rows that carry an effect size, largest
    effects first."""
    if breakdowns is None or "effect_size" not in breakdowns.columns:
        return []
    rows = breakdowns.filter(
        pl.col("program_id").is_null()
        & (pl.col("dimension") != "all")
        & ~pl.col("suppressed").fill_null(True)
        & pl.col("effect_size").is_not_null()
        & (pl.col("effect_size") > 0).or_(pl.col("effect_size_type") != "odds_ratio")
    ).to_dicts()
    return sorted(rows, key=lambda r: (-_strength(r), r["dimension"], r["group"], r["metric"]))


def _gap(row: dict) -> str:
    if is_missing(row.get("gap")):
        return "—"
    scale, unit = (100, " pp") if row.get("value_type") == "share" else (1, "")
    low, high = row.get("gap_ci_low"), row.get("gap_ci_high")
    interval = (
        f" ({fmt_number(low * scale, 1)} to {fmt_number(high * scale, 1)})"
        if not (is_missing(low) or is_missing(high))
        else ""
    )
    return f"{row['gap'] * scale:+.1f}{unit}{interval}"


def _effect(row: dict) -> str:
    low, high = row.get("effect_size_ci_low"), row.get("effect_size_ci_high")
    interval = (
        f" ({fmt_number(low, 2)} to {fmt_number(high, 2)})"
        if not (is_missing(low) or is_missing(high))
        else ""
    )
    return f"{fmt_number(row['effect_size'], 2)}{interval}"


def _adjusted(p: float | None) -> str:
    if is_missing(p):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def gap_table(rows: list[dict]) -> Table:
    return Table(
        ("Dimension", "Group", "Measure", "n", "Gap vs the rest (95 % CI)", "Effect size",
         "Effect (95 % CI)", "adj. p"),
        tuple(
            (
                labels.dimension_label(r["dimension"]),
                labels.group_label(r["group"]),
                labels.metric_label(r["metric"]),
                fmt_number(r.get("n")),
                _gap(r),
                EFFECT_NAMES.get(r["effect_size_type"], r["effect_size_type"]),
                _effect(r),
                _adjusted(r.get("gap_p_adjusted")),
            )
            for r in rows
        ),
    )  # fmt: skip
