"""Two row rules proposed for ``models/ingest/rules.py`` (not wired in: the lead decides).

Each function returns ``(frame, checks)`` in the shape ``apply_row_rules`` already uses
for references: the frame with helper columns joined, and ``Check`` tuples
``(rule, column, fails, explanation)`` to add to its list before ``_first_failure``.
Both run on the typed frame (after ``_typed``), like the reference checks.

- ``before_match``: a meeting (or activity) dated long before its match was made is a
  wrong match_id or a mistyped date; a short tolerance allows intro meetings.
- ``incomplete_construct``: a survey response that answered fewer of a construct's items
  than the codebook's minimum share cannot be scored for that construct.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from models.metrics.constructs import enough_items

Check = tuple[str, str, pl.Expr, pl.Expr]  # same shape as models.ingest.rules.Check
EXTRA_RULES = ("before_match", "incomplete_construct")
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


def construct_completeness_checks(
    table: str,
    frame: pl.DataFrame,
    constructs: Mapping[str, tuple[str, ...]],
    min_answered_share: float,
) -> tuple[pl.DataFrame, list[Check]]:
    """Flag every item row of a (response, construct) answered below the minimum share.

    ``constructs``: construct -> its item ids (a codebook's ``constructs``). Items outside
    every construct are not judged.
    """
    if table != "survey_responses" or not constructs:
        return frame, []
    item_construct = {item: c for c, items in constructs.items() for item in items}
    sizes = {c: len(items) for c, items in constructs.items()}
    construct = pl.col("item_id").replace_strict(item_construct, default=None)
    frame = frame.with_columns(construct.alias("__construct"))
    answered = (
        pl.col("value").is_not_null().sum().over("response_id", "__construct").cast(pl.Float64)
    )
    size = pl.col("__construct").replace_strict(sizes, default=None, return_dtype=pl.Float64)
    # The scoring code's own test, so a row is flagged exactly when its score would be null.
    fails = pl.col("__construct").is_not_null() & ~enough_items(answered, size, min_answered_share)
    why = pl.format(
        "response {} answered {} of the {} items of {}; at least {}% are needed to score it",
        pl.col("response_id"),
        answered.cast(pl.Int64).cast(pl.String),
        size.cast(pl.Int64).cast(pl.String),
        pl.col("__construct"),
        pl.lit(f"{min_answered_share * 100:.0f}"),
    )
    return frame, [("incomplete_construct", "item_id", fails, why)]
