"""Row rules over a whole in-memory table: the reference for ``models/ingest/batched.py``.

The pipeline types and checks raw rows in bounded memory over a warehouse table
(``models.ingest.batched``); this gives the same outcome from one Polars frame, built from the
same rule pieces of ``models.ingest.rules``, so the tests can compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from models.contract import TableSpec
from models.ingest.rules import (
    LINEAGE,
    RowContext,
    checked_rows,
    duplicate_key_reason,
    kept_columns,
    landing_rejections,
    raw_columns,
    rejected_rows,
)


@dataclass
class RuleOutcome:
    kept: pl.DataFrame  # typed contract columns + lineage (restricted columns included)
    rejected: pl.DataFrame  # quarantine.rejected_rows layout
    duplicates: pl.DataFrame  # exact duplicates dropped: table_name, source_file, source_row


def mark_duplicate_keys(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """Duplicate keys with different content: the first occurrence (file name, then row) wins.

    ``frame`` is in file-name then row order, exact duplicates removed.
    """
    passing = pl.col("__rule").is_null()
    key = list(spec.key)
    dup_key = passing & ~pl.struct(key).is_first_distinct().over(passing)
    return frame.with_columns(
        pl.when(dup_key).then(pl.lit("duplicate_key")).otherwise(pl.col("__rule")).alias("__rule"),
        pl.when(dup_key)
        .then(pl.lit(", ".join(key)))
        .otherwise(pl.col("__column"))
        .alias("__column"),
        pl.when(dup_key).then(duplicate_key_reason(spec)).otherwise(pl.col("__why")).alias("__why"),
    )


def apply_row_rules(raw: pl.DataFrame, spec: TableSpec, ctx: RowContext) -> RuleOutcome:
    """Type and check one table's landed rows (all files), in file-name then row order."""
    landing_rejected, raw = landing_rejections(raw, spec)
    frame = checked_rows(raw.sort(list(LINEAGE), maintain_order=True), spec, ctx)
    first_copy = pl.struct(raw_columns(spec)).is_first_distinct()
    duplicates = frame.filter(~first_copy).select(
        pl.lit(spec.name).alias("table_name"),
        pl.col("_source_file").alias("source_file"),
        pl.col("_source_row").alias("source_row"),
    )
    frame = mark_duplicate_keys(frame.filter(first_copy), spec)
    rejected = rejected_rows(frame, spec)
    kept = frame.filter(pl.col("__rule").is_null()).select(kept_columns(spec))
    if landing_rejected.height:
        rejected = pl.concat([rejected, landing_rejected.cast(rejected.schema)])
    return RuleOutcome(kept=kept, rejected=rejected, duplicates=duplicates)
