"""Generated breakdown tables with tiny groups: people drawn per program with skewed gender and
race (so intersections of one or two people are common) and a yes/no outcome."""

from __future__ import annotations

import numpy as np
import polars as pl

GENDERS = ("woman", "man", "nonbinary", "undisclosed")
RACES = ("white", "black", "asian", "hispanic", "native", "undisclosed")
PARENTS = {"mentee_gender_race": ("mentee_gender", "mentee_race")}


def people(rng: np.random.Generator, programs: int, size: tuple[int, int]) -> pl.DataFrame:
    rows = []
    for p in range(programs):
        count = int(rng.integers(*size))
        g = rng.choice(GENDERS, size=count, p=[0.52, 0.4, 0.05, 0.03])
        r = rng.choice(RACES, size=count, p=[0.45, 0.2, 0.15, 0.12, 0.05, 0.03])
        rate = rng.uniform(0.1, 0.9)
        yes = rng.random(count) < rate
        rows.append(pl.DataFrame({"program_id": f"p{p}", "g": g, "r": r, "yes": yes}))
    return pl.concat(rows)


def truth_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """program_id (null = all programs), dimension, group, n, s (successes)."""
    frame = frame.with_columns(gr=pl.col("g") + "|" + pl.col("r"), all=pl.lit("all"))
    parts = []
    for by_program in (True, False):
        keys = ["program_id"] if by_program else []
        for dim, col in (
            ("all", "all"),
            ("mentee_gender", "g"),
            ("mentee_race", "r"),
            ("mentee_gender_race", "gr"),
        ):
            agg = frame.group_by([*keys, col]).agg(
                n=pl.len().cast(pl.Int64), s=pl.col("yes").sum().cast(pl.Float64)
            )
            program = pl.col("program_id") if by_program else pl.lit(None, pl.String)
            parts.append(
                agg.select(
                    program.alias("program_id"),
                    pl.lit(dim).alias("dimension"),
                    pl.col(col).alias("group"),
                    "n",
                    "s",
                )
            )
    return pl.concat(parts).sort(["program_id", "dimension", "group"], nulls_last=False)


def as_breakdown(truth: pl.DataFrame, metric: str = "outcome") -> pl.DataFrame:
    """The truth in the breakdowns layout suppress_cells takes (one share metric)."""
    return truth.select(
        "program_id",
        "dimension",
        "group",
        pl.lit(metric).alias("metric"),
        "n",
        pl.lit("share").alias("value_type"),
        (pl.col("s") / pl.col("n")).alias("value"),
        *(pl.lit(None, pl.Float64).alias(c) for c in ("ci_low", "ci_high", "gap")),
        *(pl.lit(None, pl.Float64).alias(c) for c in ("gap_ci_low", "gap_ci_high")),
    )
