"""Per-match metric values in one wide frame: the step flags and timing from match_steps, and
every outcome measure from outcomes_by_match."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from models.vocabulary import FUNNEL_STEPS, WINDOW_CLOSED

STEP_SHARES = FUNNEL_STEPS
STEP_MEANS = ("days_to_first_meeting",)


@dataclass(frozen=True)
class MatchMetrics:
    """`frame` has match_id and one Float64 column per metric, named by `columns`.

    Metric columns get neutral internal names (m0, m1, ...) so that a program's own outcome
    measure can never collide with an identifier column.
    """

    frame: pl.DataFrame
    columns: dict[str, str]  # metric name -> internal column
    value_types: dict[str, str]  # metric name -> 'share' | 'mean'


def _judged(metric: str, columns: list[str]) -> pl.Expr:
    """A timed step's value where its window closed, null ("too early to tell") elsewhere: a
    share over the non-null values is then a share over the matches that can be judged."""
    closed = WINDOW_CLOSED.get(metric)
    if closed is None or closed not in columns:
        return pl.col(metric)
    return pl.when(pl.col(closed)).then(pl.col(metric))


# What match_metrics and settings_hash read of metrics.outcomes_by_match (its program and
# mentee columns are not needed: 5.3 M rows at 600 programs).
OUTCOME_COLUMNS: tuple[str, ...] = ("match_id", "measure", "value", "value_type", "settings_hash")


def match_metrics(
    match_steps: pl.DataFrame, outcomes_by_match: pl.DataFrame | None
) -> MatchMetrics:
    metrics: list[tuple[str, str]] = [(m, "share") for m in STEP_SHARES]
    metrics += [(m, "mean") for m in STEP_MEANS]
    present = [(m, t) for m, t in metrics if m in match_steps.columns]
    columns = {m: f"m{i}" for i, (m, _) in enumerate(present)}
    frame = match_steps.select(
        pl.col("match_id").cast(pl.String),
        *(_judged(m, match_steps.columns).cast(pl.Float64).alias(columns[m]) for m, _ in present),
    )
    value_types = dict(present)

    if outcomes_by_match is not None and not outcomes_by_match.is_empty():
        measures = (
            outcomes_by_match.group_by("measure")
            .agg(pl.col("value_type").drop_nulls().mode().first())
            .sort("measure")
        )
        extra = [
            (m, t or "mean")
            for m, t in zip(measures["measure"], measures["value_type"], strict=True)
            if m not in value_types
        ]
        if extra:
            offset = len(columns)
            extra_columns = {m: f"m{offset + i}" for i, (m, _) in enumerate(extra)}
            wide = (
                outcomes_by_match.filter(pl.col("measure").is_in(list(extra_columns)))
                .select(
                    pl.col("match_id").cast(pl.String),
                    pl.col("measure").replace_strict(extra_columns, return_dtype=pl.String),
                    pl.col("value").cast(pl.Float64),
                )
                .pivot(on="measure", index="match_id", values="value", aggregate_function="mean")
            )
            for column in extra_columns.values():
                if column not in wide.columns:
                    wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
            frame = frame.join(wide, on="match_id", how="left")
            columns.update(extra_columns)
            value_types.update(dict(extra))
    return MatchMetrics(frame=frame, columns=columns, value_types=value_types)


def settings_hash(*frames: pl.DataFrame | None) -> str | None:
    """The one settings hash the inputs were computed with; mixing settings is an error."""
    hashes: set[str] = set()
    for frame in frames:
        if frame is not None and "settings_hash" in frame.columns:
            hashes.update(h for h in frame["settings_hash"].unique().to_list() if h is not None)
    if len(hashes) > 1:
        raise ValueError(f"inputs were computed with different settings: {sorted(hashes)}")
    return next(iter(hashes), None)
