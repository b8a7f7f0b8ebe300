"""Internal consistency (Cronbach's alpha) of each construct, per program and survey wave."""

from __future__ import annotations

import polars as pl

from models.instruments.codebook import Codebook
from models.metrics.constructs import scored_items
from models.metrics.frames import core_lazy
from models.metrics.settings import MetricSettings, settings_hash

RELIABILITY_COLUMNS: tuple[str, ...] = (
    "instrument",
    "construct",
    "program_id",
    "survey",
    "items_total",
    "n",
    "alpha",
)


def construct_reliability(
    survey_items: pl.DataFrame | pl.LazyFrame,
    codebook: Codebook,
    participants: pl.DataFrame | pl.LazyFrame,
    *,
    settings: MetricSettings | None = None,
) -> pl.DataFrame:
    """Cronbach's alpha per construct × program_id × survey over complete cases.

    alpha = k/(k−1) · (1 − Σ var(item) / var(sum of items)), sample variances, on the
    responses that answered every item of the construct (n). Null when n < 2, k < 2 or the
    sum has no variance. With `settings`, a settings_hash column is added.
    """
    programs = core_lazy(participants, "participants", ["participant_id", "program_id"])
    items = scored_items(survey_items, codebook).join(programs, on="participant_id", how="left")
    sizes = pl.DataFrame(
        {
            "construct": list(codebook.constructs),
            "items_total": [len(v) for v in codebook.constructs.values()],
        },
        schema={"construct": pl.String, "items_total": pl.Int64},
    ).lazy()
    group = ["program_id", "survey", "construct"]
    complete = (
        items.group_by("response_id", *group)
        .agg(answered=pl.col("value").count().cast(pl.Int64), total=pl.col("value").sum())
        .join(sizes, on="construct")
        .filter(pl.col("answered") == pl.col("items_total"))
    )
    item_var = (
        items.join(complete.select("response_id", "construct"), on=["response_id", "construct"])
        .group_by(*group, "item_id")
        .agg(var=pl.col("value").var(ddof=1))
        .group_by(group)
        .agg(sum_item_var=pl.col("var").sum())
    )
    k = pl.col("items_total").cast(pl.Float64)
    alpha = k / (k - 1) * (1 - pl.col("sum_item_var") / pl.col("total_var"))
    out = (
        complete.group_by(*group, "items_total")
        .agg(n=pl.len().cast(pl.Int64), total_var=pl.col("total").var(ddof=1))
        .join(item_var, on=group, how="left", nulls_equal=True)
        .with_columns(
            instrument=pl.lit(codebook.instrument, dtype=pl.String),
            alpha=pl.when(
                (pl.col("n") >= 2) & (pl.col("items_total") >= 2) & (pl.col("total_var") > 0)
            ).then(alpha),
        )
        .select(RELIABILITY_COLUMNS)
        .sort(["program_id", "survey", "construct"], nulls_last=True)
    )
    if settings is not None:
        out = out.with_columns(settings_hash=pl.lit(settings_hash(settings), dtype=pl.String))
    return out.collect()
