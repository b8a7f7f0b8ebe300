"""The ``before_match`` row rule, applied by ``models/ingest/rules.py`` with the others.

A meeting (or activity) dated long before its match was made is a wrong match_id or a
mistyped date; a short tolerance allows intro meetings. Like the reference checks it runs on
the typed frame and returns ``(frame, checks)``: the frame with helper columns joined, and
``Check`` tuples ``(rule, column, fails, explanation)`` added to the rule list before the
first failure is picked.
"""

from __future__ import annotations

import polars as pl

Check = tuple[str, str, pl.Expr, pl.Expr]  # same shape as models.ingest.rules.Check
DATE_COLUMNS = {"meetings": "started_at", "activities": "occurred_at"}


def before_match_checks(
    table: str, frame: pl.DataFrame, match_dates: pl.DataFrame | None, tolerance_days: int = 30
) -> tuple[pl.DataFrame, list[Check]]:
    """Flag rows dated more than ``tolerance_days`` before their match's ``matched_on``.

    ``match_dates``: core.matches' ``match_id, matched_on``. Rows whose match is unknown
    are left to the reference rule.
    """
    column = DATE_COLUMNS.get(table)
    if column is None or match_dates is None or column not in frame.columns:
        return frame, []
    frame = frame.join(
        match_dates.select("match_id", pl.col("matched_on").alias("__matched_on")),
        on="match_id",
        how="left",
        maintain_order="left",
    )
    day = pl.col(column).dt.date()
    early_by = (pl.col("__matched_on") - day).dt.total_days()
    fails = early_by > tolerance_days
    why = pl.format(
        "{} = {} is {} days before the match was made (matched_on {}); "
        "more than {} days early suggests a wrong match_id or date",
        pl.lit(column),
        day.cast(pl.String),
        early_by.cast(pl.String),
        pl.col("__matched_on").cast(pl.String),
        pl.lit(str(tolerance_days)),
    )
    return frame, [("before_match", column, fails, why)]
