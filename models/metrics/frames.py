"""Core-table column types the metrics rely on, and helpers to take just those columns."""

from __future__ import annotations

import polars as pl

# Only the columns metrics read; core tables may carry more.
CORE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "matches": {
        "match_id": pl.String(),
        "program_id": pl.String(),
        "mentor_id": pl.String(),
        "mentee_id": pl.String(),
        "matched_on": pl.Date(),
        "requested_on": pl.Date(),
        "ended_on": pl.Date(),
        "match_source": pl.String(),
        "closure_reason": pl.String(),
    },
    "meetings": {
        "meeting_id": pl.String(),
        "match_id": pl.String(),
        "started_at": pl.Datetime("us"),
        "duration_min": pl.Float64(),
        "mode": pl.String(),
        "initiated_by": pl.String(),
        "agenda_shared": pl.Boolean(),
        "questions_prepared": pl.Int64(),
        "status": pl.String(),
    },
    "activities": {
        "activity_id": pl.String(),
        "match_id": pl.String(),
        "occurred_at": pl.Datetime("us"),
        "kind": pl.String(),
        "from_role": pl.String(),
        "channel": pl.String(),
    },
    "survey_items": {
        "response_id": pl.String(),
        "participant_id": pl.String(),
        "survey": pl.String(),
        "submitted_at": pl.Datetime("us"),
        "item_id": pl.String(),
        "value": pl.Float64(),
    },
    "outcomes": {
        "participant_id": pl.String(),
        "measure": pl.String(),
        "value": pl.Float64(),
        "observed_on": pl.Date(),
    },
    "participants": {
        "participant_id": pl.String(),
        "program_id": pl.String(),
        "role": pl.String(),
        "gender": pl.String(),
        "race_ethnicity": pl.String(),
    },
    "construct_scores": {
        "response_id": pl.String(),
        "participant_id": pl.String(),
        "survey": pl.String(),
        "submitted_at": pl.Datetime("us"),
        "instrument": pl.String(),
        "construct": pl.String(),
        "score": pl.Float64(),
        "items_answered": pl.Int64(),
        "items_total": pl.Int64(),
    },
}


def empty_core(table: str) -> pl.DataFrame:
    """An empty frame with the core columns of `table` (stands in for an absent table)."""
    return pl.DataFrame(schema=CORE_SCHEMAS[table])


def core_lazy(
    frame: pl.DataFrame | pl.LazyFrame | None,
    table: str,
    columns: list[str],
    optional: tuple[str, ...] = (),
) -> pl.LazyFrame:
    """`columns` of a core table as a LazyFrame with the expected types (empty if absent).

    Casting is a no-op for frames typed as core already; it makes Int32/Int64 or
    datetime-unit differences between loaders irrelevant. Columns named in `optional` are
    null when the frame lacks them (an export without the optional column).
    """
    schema = CORE_SCHEMAS[table]
    if frame is None:
        frame = empty_core(table)
    lazy = frame.lazy()
    present = lazy.collect_schema().names()
    missing = [c for c in columns if c not in present and c not in optional]
    if missing:
        raise ValueError(f"{table} is missing column(s) {missing}")
    return lazy.select(
        pl.col(c).cast(schema[c]) if c in present else pl.lit(None, dtype=schema[c]).alias(c)
        for c in columns
    )
