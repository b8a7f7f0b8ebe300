"""Row rules: decide, for every landed row, whether it reaches ``core`` or quarantine.

The rules come from the contract (``models/contract/tables.yaml``): required columns,
types, enumerations, ranges, references, roles, dates after the as-of date and duplicate
keys. They run in that order and a row is quarantined for the first rule it breaks, so
every input row ends up in exactly one place: core, quarantine, or the exact-duplicate
count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from models.contract import ColumnSpec, TableSpec
from models.ingest.before_match import before_match_checks
from models.ingest.parse import (
    clean_text,
    enum_key,
    known_zones,
    normalise_demographic,
    parse_bool,
    parse_date,
    parse_float,
    parse_int,
    parse_timestamp,
)

RULES = (
    "required",
    "type",
    "enum",
    "range",
    "future",
    "reference",
    "role",
    "before_match",
    "duplicate_key",
)
LINEAGE = ("_source_file", "_source_row")
POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "enum": pl.String(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
}
TYPE_WORDS = {
    "date": "a date (e.g. 2025-03-31)",
    "timestamp": "a date and time (e.g. 2025-03-31 14:30)",
    "int": "a whole number",
    "float": "a number",
    "bool": "yes/no (true/false, y/n, 1/0)",
}


@dataclass
class RowContext:
    """What the rules of one table need to know beyond its own rows."""

    as_of: date
    parent_keys: dict[str, pl.Series] = field(default_factory=dict)  # "matches.match_id"
    participant_roles: pl.DataFrame | None = None  # participant_id, role
    item_scales: dict[str, tuple[float, float]] = field(default_factory=dict)
    match_dates: pl.DataFrame | None = None  # match_id, matched_on (for before_match)
    # One clock: the program zone of each row, by the key that leads to its program
    # (program_id, match_id or participant_id): columns <zone_by>, timezone.
    zone_by: str | None = None
    zones: pl.DataFrame | None = None


def _raw(name: str) -> str:
    return f"__raw_{name}"


ZONE = "__zone"  # the row's program zone while typing (dropped afterwards)
ZONE_COLUMN = "timezone"  # programs.timezone: IANA name of the program's local calendar


def _typed(col: ColumnSpec) -> pl.Expr:
    raw = pl.col(_raw(col.name))
    if col.lookup:
        return normalise_demographic(raw, col.lookup)
    if col.type == "enum":
        value = enum_key(raw)
        return (
            pl.when(value.is_null() & pl.lit(col.default is not None))
            .then(pl.lit(col.default))
            .otherwise(value)
        )
    if col.type == "date":
        return parse_date(raw, zone=pl.col(ZONE))
    if col.type == "timestamp":
        return parse_timestamp(raw, zone=pl.col(ZONE))
    if col.type == "int":
        return parse_int(raw)
    if col.type == "float":
        return parse_float(raw)
    if col.type == "bool":
        return parse_bool(raw)
    return raw


def _shown(col: str) -> pl.Expr:
    """The offending value as the evaluator typed it, shortened for a one-line reason."""
    value = pl.col(_raw(col)).fill_null("")
    return (
        pl.when(value.str.len_chars() > 60)
        .then(value.str.slice(0, 57) + pl.lit("..."))
        .otherwise(value)
    )


def _bounds_text(col: ColumnSpec) -> str:
    lo = "" if col.minimum is None else f"{col.minimum:g}"
    hi = "" if col.maximum is None else f"{col.maximum:g}"
    if lo and hi:
        return f"outside {lo}–{hi}"
    return f"below {lo}" if lo else f"above {hi}"


Check = tuple[str, str, pl.Expr, pl.Expr]  # rule, column, fails, explanation


def _column_checks(spec: TableSpec, ctx: RowContext) -> list[Check]:
    checks: list[Check] = []
    for col in spec.columns:
        raw, typed = pl.col(_raw(col.name)), pl.col(col.name)
        if col.required:
            checks.append(
                (
                    "required",
                    col.name,
                    raw.is_null(),
                    pl.lit(f"required column {col.name} is blank"),
                )
            )
        if col.type in TYPE_WORDS:
            checks.append(
                (
                    "type",
                    col.name,
                    raw.is_not_null() & typed.is_null(),
                    pl.format(
                        "{} = '{}' is not {}",
                        pl.lit(col.name),
                        _shown(col.name),
                        pl.lit(TYPE_WORDS[col.type]),
                    ),
                )
            )
        if col.name == ZONE_COLUMN and col.type == "string":
            checks.append(
                (
                    "type",
                    col.name,
                    raw.is_not_null() & ~raw.is_in(sorted(known_zones())),
                    pl.format(
                        "{} = '{}' is not an IANA time zone (e.g. Europe/Berlin, "
                        "America/New_York, UTC)",
                        pl.lit(col.name),
                        _shown(col.name),
                    ),
                )
            )
        if col.type == "enum" and not col.lookup:
            checks.append(
                (
                    "enum",
                    col.name,
                    typed.is_not_null() & ~typed.is_in(col.values),
                    pl.format(
                        "{} = '{}' is not one of {}",
                        pl.lit(col.name),
                        _shown(col.name),
                        pl.lit(", ".join(col.values)),
                    ),
                )
            )
        if col.minimum is not None or col.maximum is not None:
            lo = typed < col.minimum if col.minimum is not None else pl.lit(False)
            hi = typed > col.maximum if col.maximum is not None else pl.lit(False)
            checks.append(
                (
                    "range",
                    col.name,
                    lo | hi,
                    pl.format(
                        "{} = {} is {}",
                        pl.lit(col.name),
                        _shown(col.name),
                        pl.lit(_bounds_text(col)),
                    ),
                )
            )
    for col in spec.columns:
        if col.type in ("date", "timestamp"):
            day = pl.col(col.name) if col.type == "date" else pl.col(col.name).dt.date()
            checks.append(
                (
                    "future",
                    col.name,
                    day > ctx.as_of,
                    pl.format(
                        "{} = {} is after the as-of date {}",
                        pl.lit(col.name),
                        _shown(col.name),
                        pl.lit(ctx.as_of.isoformat()),
                    ),
                )
            )
    return checks


def _scale_checks(spec: TableSpec, ctx: RowContext) -> list[Check]:
    """Survey values must lie inside their instrument's scale (codebooks)."""
    if spec.name != "survey_responses" or not ctx.item_scales:
        return []
    lows = {k: v[0] for k, v in ctx.item_scales.items()}
    highs = {k: v[1] for k, v in ctx.item_scales.items()}
    lo = pl.col("item_id").replace_strict(lows, default=None, return_dtype=pl.Float64)
    hi = pl.col("item_id").replace_strict(highs, default=None, return_dtype=pl.Float64)
    fails = (pl.col("value") < lo) | (pl.col("value") > hi)
    scale_text = {k: f"{v[0]:g}–{v[1]:g}" for k, v in ctx.item_scales.items()}
    shown_scale = pl.col("item_id").replace_strict(scale_text, default=None, return_dtype=pl.String)
    why = pl.format(
        "value = {} is outside the instrument scale {} of item {}",
        _shown("value"),
        shown_scale,
        pl.col("item_id"),
    )
    return [("range", "value", fails.fill_null(False), why)]


def _reference_checks(
    spec: TableSpec, ctx: RowContext, frame: pl.DataFrame
) -> tuple[pl.DataFrame, list[Check]]:
    checks: list[Check] = []
    for col in spec.columns:
        if not col.references:
            continue
        parent = ".".join(col.references)
        keys = ctx.parent_keys.get(parent)
        if keys is None:
            continue
        flag = f"__known_{col.name}"
        frame = frame.with_columns(pl.col(col.name).is_in(keys.implode()).alias(flag))
        checks.append(
            (
                "reference",
                col.name,
                pl.col(col.name).is_not_null() & ~pl.col(flag),
                pl.format(
                    "{} = '{}' does not match any {} in {}",
                    pl.lit(col.name),
                    _shown(col.name),
                    pl.lit(col.references[1]),
                    pl.lit(col.references[0]),
                ),
            )
        )
        if col.role and ctx.participant_roles is not None:
            role_col = f"__role_{col.name}"
            roles = ctx.participant_roles.rename({"participant_id": col.name, "role": role_col})
            frame = frame.join(roles, on=col.name, how="left", maintain_order="left")
            checks.append(
                (
                    "role",
                    col.name,
                    pl.col(role_col).is_not_null() & (pl.col(role_col) != col.role),
                    pl.format(
                        "{} = '{}' is a {}, not a {}",
                        pl.lit(col.name),
                        _shown(col.name),
                        pl.col(role_col),
                        pl.lit(col.role),
                    ),
                )
            )
    return frame, checks


def _before_match_checks(
    spec: TableSpec, ctx: RowContext, frame: pl.DataFrame
) -> tuple[pl.DataFrame, list[Check]]:
    checks: list[Check] = []
    for col in spec.columns:
        if col.not_before_match_days is not None and ctx.match_dates is not None:
            frame, found = before_match_checks(
                spec.name, frame, ctx.match_dates, col.not_before_match_days
            )
            checks += found
    return frame, checks


def _first_failure(checks: list[Check]) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    rule: pl.Expr = pl.lit(None, pl.String)
    column: pl.Expr = pl.lit(None, pl.String)
    why: pl.Expr = pl.lit(None, pl.String)
    # Built back to front so that the first rule in RULES order wins.
    for name, col, fails, explanation in reversed(checks):
        cond = fails.fill_null(False)
        rule = pl.when(cond).then(pl.lit(name)).otherwise(rule)
        column = pl.when(cond).then(pl.lit(col)).otherwise(column)
        why = pl.when(cond).then(explanation).otherwise(why)
    return rule, column, why


# Landing marks rows an adapter (survey export, calendar) could not use: models/ingest/land.py.
REJECT_RULE, REJECT_COLUMN, REJECT_REASON = "_reject_rule", "_reject_column", "_reject_reason"


def landing_rejections(raw: pl.DataFrame, spec: TableSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(quarantine rows for rows rejected at landing, the other rows). Rejected rows keep the
    adapter's rule and reason and take no part in the row rules or de-duplication."""
    if REJECT_RULE not in raw.columns:
        return pl.DataFrame(), raw
    marked = pl.col(REJECT_RULE).is_not_null()
    pre = raw.filter(marked)
    present = set(pre.columns)
    rejected = pre.select(
        pl.lit(spec.name).alias("table_name"),
        pl.col("_source_file").alias("source_file"),
        pl.col("_source_row").alias("source_row"),
        pl.col(REJECT_RULE).alias("rule"),
        pl.col(REJECT_COLUMN).cast(pl.String).alias("column_name"),
        pl.format(
            "{} row {}: {}", pl.col("_source_file"), pl.col("_source_row"), pl.col(REJECT_REASON)
        ).alias("reason"),
        pl.struct(
            [
                (pl.col(c) if c in present else pl.lit(None, pl.String)).alias(c)
                for c in spec.public_columns
            ]
        )
        .struct.json_encode()
        .alias("row_json"),
    )
    return rejected, raw.filter(~marked)


def raw_columns(spec: TableSpec) -> list[str]:
    """The cleaned text columns rows are compared on for exact duplicates."""
    return [_raw(c.name) for c in spec.columns]


def _with_zone(frame: pl.DataFrame, spec: TableSpec, ctx: RowContext) -> pl.DataFrame:
    """Add the row's program zone: the table's own ``timezone`` (programs), else the zone found
    through ``ctx.zones``, else null (offsets then stay UTC wall time)."""
    if ZONE_COLUMN in spec.column_names:
        return frame.with_columns(pl.col(_raw(ZONE_COLUMN)).alias(ZONE))
    zone_by = ctx.zone_by
    if ctx.zones is None or zone_by is None or zone_by not in spec.column_names:
        return frame.with_columns(pl.lit(None, pl.String).alias(ZONE))
    zones = ctx.zones.select(
        pl.col(zone_by).cast(pl.String).alias(_raw(zone_by)),
        pl.col(ZONE_COLUMN).cast(pl.String).alias(ZONE),
    ).unique(subset=_raw(zone_by), keep="first")
    return frame.join(zones, on=_raw(zone_by), how="left", maintain_order="left")


def checked_rows(raw: pl.DataFrame, spec: TableSpec, ctx: RowContext) -> pl.DataFrame:
    """Cleaned text, typed values and the first rule each row breaks, row by row.

    Everything here depends on the row alone (and on ``ctx``), so it can run on any slice of
    a table; exact duplicates and duplicate keys compare rows and are decided afterwards.
    """
    present = set(raw.columns)
    frame = raw.select(
        *LINEAGE,
        *[
            (clean_text(pl.col(c.name)) if c.name in present else pl.lit(None, pl.String)).alias(
                _raw(c.name)
            )
            for c in spec.columns
        ],
    )
    frame = _with_zone(frame, spec, ctx).with_columns(
        [_typed(c).cast(POLARS_TYPES[c.type]).alias(c.name) for c in spec.columns]
    )
    frame, ref_checks = _reference_checks(spec, ctx, frame)
    frame, timing_checks = _before_match_checks(spec, ctx, frame)
    checks = _column_checks(spec, ctx) + _scale_checks(spec, ctx) + ref_checks + timing_checks
    checks.sort(key=lambda c: RULES.index(c[0]))
    rule, column, why = _first_failure(checks)
    return frame.select(
        *LINEAGE,
        *raw_columns(spec),
        *[c.name for c in spec.columns],
        rule.alias("__rule"),
        column.alias("__column"),
        why.alias("__why"),
    )


def duplicate_key_reason(spec: TableSpec) -> pl.Expr:
    key = list(spec.key)
    return pl.format(
        "key ({}) = ({}) already appeared earlier with different content",
        pl.lit(", ".join(key)),
        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator=", "),
    )


def rejected_rows(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """Checked rows that broke a rule, in ``quarantine.rejected_rows`` layout."""
    public = [c.name for c in spec.columns if not c.restricted]
    return frame.filter(pl.col("__rule").is_not_null()).select(
        pl.lit(spec.name).alias("table_name"),
        pl.col("_source_file").alias("source_file"),
        pl.col("_source_row").alias("source_row"),
        pl.col("__rule").alias("rule"),
        pl.col("__column").alias("column_name"),
        pl.format(
            "{} row {}: {}", pl.col("_source_file"), pl.col("_source_row"), pl.col("__why")
        ).alias("reason"),
        # Restricted columns (names, emails) never leave the restricted schema.
        pl.struct([pl.col(_raw(c)).alias(c) for c in public])
        .struct.json_encode()
        .alias("row_json"),
    )


def kept_columns(spec: TableSpec) -> list[pl.Expr]:
    """Typed contract columns, lineage, and the free text behind each normalised category
    (``<column>_raw``, for the restricted schema only)."""
    return [
        *[pl.col(c.name) for c in spec.columns],
        *[pl.col(c) for c in LINEAGE],
        *[pl.col(_raw(c.name)).alias(f"{c.name}_raw") for c in spec.columns if c.lookup],
    ]
