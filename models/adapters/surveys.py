"""Survey exports melted to canonical `survey_responses` rows.

Output columns, all Utf8 so the ingest types every source the same way: response_id,
participant_id, survey, submitted_at (ISO `YYYY-MM-DDTHH:MM:SS` when it parsed, else the raw
text), item_id, value; plus `_source_row` (Int64, the response's data row in the file).

`value` is the codebook number as text when the answer is a known label ("Agree" -> "4"),
otherwise the answer as written (stripped). The ingest casts `value` to float and quarantines
what does not parse under rule `type`, so free text is visible there rather than silently lost.
Unanswered items (blank or a declared NA token) produce no row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from models.adapters.dates import iso_text, parse_timestamp_any
from models.adapters.rejection import Rejection
from models.adapters.survey_formats import (
    CANONICAL_LONG,
    WideSurvey,
    read_survey,
    resolve_column,
)
from models.adapters.text_table import SOURCE_ROW

LONG_COLUMNS = ("response_id", "participant_id", "survey", "submitted_at", "item_id", "value")


class SurveyMappingError(ValueError):
    """A survey mapping names something the export does not have."""


@dataclass(frozen=True)
class SurveyMapping:
    """How one survey export becomes `survey_responses` rows.

    Column references (`items` keys, `participant_column`, ...) may be the export's column name,
    a Qualtrics ImportId (`QID3`) or the question text (matched ignoring case, spacing, HTML).
    Unset id/participant/timestamp columns and `exclude` fall back to the tool's usual ones.
    """

    survey: str
    items: Mapping[str, str]
    participant_column: str | None = None
    submitted_at_column: str | None = None
    date_format: str | None = None
    response_id_column: str | None = None
    labels: Mapping[str, float] = field(default_factory=dict)
    item_labels: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    recode: Mapping[str, str] = field(default_factory=dict)
    exclude: Mapping[str, Sequence[str]] | None = None
    na_values: Sequence[str] = ()
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    timezone: str | None = None


def labels_from_codebook(path: Path | str) -> dict[str, float]:
    """The Likert label -> number table of an instrument codebook (e.g. mfq9.yaml)."""
    with open(path, encoding="utf-8") as handle:
        codebook = yaml.safe_load(handle) or {}
    return {str(k): float(v) for k, v in (codebook.get("labels") or {}).items()}


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _pick(
    survey: WideSurvey, declared: str | None, defaults: Sequence[str], what: str
) -> str | None:
    if declared:
        column = resolve_column(survey, declared)
        if column is None:
            raise SurveyMappingError(
                f"{what} {declared!r} is not a column of the export; columns are "
                f"{_shown(survey.frame.columns)}"
            )
        return column
    for candidate in defaults:
        column = resolve_column(survey, candidate)
        if column is not None:
            return column
    return None


def _shown(columns: Sequence[str]) -> str:
    visible = [c for c in columns if c != SOURCE_ROW]
    short = [c if len(c) <= 60 else c[:57] + "..." for c in visible[:40]]
    more = f" (+{len(visible) - 40} more)" if len(visible) > 40 else ""
    return repr(short) + more


def _value_expr(mapping: SurveyMapping, na: set[str]) -> pl.Expr:
    raw = pl.col("value").str.strip_chars()
    recode = {_key(k): v for k, v in mapping.recode.items()}
    if recode:
        key = raw.str.replace_all(r"\s+", " ").str.to_lowercase()
        raw = key.replace_strict(recode, default=raw, return_dtype=pl.String).str.strip_chars()
    key = raw.str.replace_all(r"\s+", " ").str.to_lowercase()
    labelled = pl.lit(None, dtype=pl.String)
    if mapping.labels:
        table = {_key(k): _number_text(v) for k, v in mapping.labels.items()}
        labelled = key.replace_strict(table, default=None, return_dtype=pl.String)
    for item_id, labels in mapping.item_labels.items():
        table = {_key(k): _number_text(v) for k, v in labels.items()}
        per_item = key.replace_strict(table, default=None, return_dtype=pl.String)
        labelled = pl.when(pl.col("item_id") == item_id).then(per_item).otherwise(labelled)
    value = pl.coalesce(labelled, raw)
    return pl.when(key.is_in(sorted(na)) | (raw == "")).then(None).otherwise(value)


def _response_ids(frame: pl.DataFrame, survey: str, participant: str, submitted: str) -> pl.Series:
    """Stable ids for tools that write none: same answers file, same ids."""
    ids = []
    for p, s in zip(frame[participant], frame[submitted], strict=True):
        digest = hashlib.sha256(f"{survey}\x1f{p}\x1f{s}".encode()).hexdigest()[:16]
        ids.append(f"{survey}-{digest}")
    return pl.Series("response_id", ids, dtype=pl.String)


def survey_to_long(
    path: Path | str,
    mapping: SurveyMapping,
    participant_ids: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Melt one export to `survey_responses` rows; rejected responses come back separately.

    `participant_ids` (optional) translates the export's respondent key (often an email) to
    participant_id, matched case-insensitively; a key it lacks rejects the response.
    """
    path = Path(path)
    wide = read_survey(path, mapping.format, mapping.encoding, mapping.delimiter)
    if wide.format == CANONICAL_LONG:
        return _canonical_long(path, wide, mapping)
    return _wide_to_long(path, wide, mapping, participant_ids)


def _required_columns(wide: WideSurvey, mapping: SurveyMapping) -> tuple[str, str, str | None]:
    participant = _pick(
        wide, mapping.participant_column, wide.defaults.participant, "participant_column"
    )
    submitted = _pick(
        wide, mapping.submitted_at_column, wide.defaults.submitted_at, "submitted_at_column"
    )
    response = _pick(
        wide, mapping.response_id_column, wide.defaults.response_id, "response_id_column"
    )
    for name, found in (("participant_column", participant), ("submitted_at_column", submitted)):
        if found is None:
            raise SurveyMappingError(
                f"survey {mapping.survey!r} ({wide.format}): the export has no obvious "
                f"{name.removesuffix('_column')} column; declare {name} "
                f"(columns are {_shown(wide.frame.columns)})"
            )
    assert participant is not None and submitted is not None
    return participant, submitted, response


def _excluded(wide: WideSurvey, mapping: SurveyMapping) -> pl.Expr | None:
    rules = mapping.exclude if mapping.exclude is not None else wide.defaults.exclude
    condition = None
    for key, values in rules.items():
        column = resolve_column(wide, key)
        if column is None:
            if mapping.exclude is not None:
                raise SurveyMappingError(
                    f"exclude names column {key!r}, which the export lacks; columns are "
                    f"{_shown(wide.frame.columns)}"
                )
            continue
        wanted = [_key(str(v)) for v in values]
        hit = pl.col(column).str.strip_chars().str.to_lowercase().is_in(wanted).fill_null(False)
        condition = hit if condition is None else condition | hit
    return condition


def _wide_to_long(
    path: Path,
    wide: WideSurvey,
    mapping: SurveyMapping,
    participant_ids: Mapping[str, str] | None,
) -> tuple[pl.DataFrame, list[Rejection]]:
    participant, submitted, response = _required_columns(wide, mapping)
    item_columns: dict[str, str] = {}
    for key, item_id in mapping.items.items():
        column = resolve_column(wide, key)
        if column is None:
            raise SurveyMappingError(
                f"survey {mapping.survey!r}: item {item_id!r} maps from {key!r}, which is not a "
                f"column of {path.name}; columns are {_shown(wide.frame.columns)}"
            )
        item_columns[column] = item_id

    frame = wide.frame
    formats = [mapping.date_format] if mapping.date_format else None
    stamps = parse_timestamp_any(frame[submitted], formats, mapping.timezone)
    assert isinstance(stamps, pl.Series)
    frame = frame.with_columns(
        pl.coalesce(iso_text(stamps), pl.col(submitted).str.strip_chars()).alias("_submitted"),
        pl.col(participant).str.strip_chars().alias("_participant"),
    )
    if response is not None:
        frame = frame.with_columns(pl.col(response).str.strip_chars().alias("_response"))
    else:
        ids = _response_ids(frame, mapping.survey, "_participant", "_submitted")
        frame = frame.with_columns(ids.alias("_response"))
    if participant_ids is not None:
        lookup = {_key(k): v for k, v in participant_ids.items()}
        frame = frame.with_columns(
            pl.col("_participant")
            .str.to_lowercase()
            .replace_strict(lookup, default=None, return_dtype=pl.String)
            .alias("_participant_id")
        )
    else:
        frame = frame.with_columns(pl.col("_participant").alias("_participant_id"))

    rejections: list[Rejection] = []
    excluded = _excluded(wide, mapping)
    flagged = frame.with_columns(
        (excluded if excluded is not None else pl.lit(False)).alias("_excluded")
    )
    for row in flagged.iter_rows(named=True):
        reason, rule = None, None
        if row["_excluded"]:
            rule, reason = "excluded", "the export marks this row as not a real response"
            rule_cols = mapping.exclude if mapping.exclude is not None else wide.defaults.exclude
            hits = [f"{c}={row.get(c)!r}" for c in rule_cols if row.get(c) is not None]
            reason += f" ({', '.join(hits)})" if hits else ""
        elif not row["_participant"]:
            rule, reason = "required", f"blank participant key in column {participant!r}"
        elif row["_participant_id"] is None:
            rule = "unknown_participant"
            reason = f"respondent key {row['_participant']!r} matches no participant"
        elif not row["_submitted"]:
            rule, reason = "required", f"blank submission time in column {submitted!r}"
        elif not row["_response"]:
            rule, reason = "required", f"blank response id in column {response!r}"
        if rule is not None:
            record = {k: v for k, v in row.items() if not k.startswith("_") and v is not None}
            rejections.append(
                Rejection(
                    str(path),
                    f"row {row[SOURCE_ROW]}",
                    rule,
                    str(reason),
                    row[SOURCE_ROW],
                    {k: str(v) for k, v in record.items()},
                )
            )
    bad_rows = {r.source_row for r in rejections}
    kept = frame.filter(~pl.col(SOURCE_ROW).is_in(sorted(bad_rows)))
    if not item_columns:
        return _empty_long(), rejections
    long = kept.select(
        pl.col("_response").alias("response_id"),
        pl.col("_participant_id").alias("participant_id"),
        pl.lit(mapping.survey).alias("survey"),
        pl.col("_submitted").alias("submitted_at"),
        pl.col(SOURCE_ROW),
        *[pl.col(c).alias(item) for c, item in item_columns.items()],
    ).unpivot(
        on=list(item_columns.values()),
        index=["response_id", "participant_id", "survey", "submitted_at", SOURCE_ROW],
        variable_name="item_id",
        value_name="value",
    )
    na = {_key(v) for v in mapping.na_values}
    long = (
        long.with_columns(_value_expr(mapping, na).alias("value"))
        .filter(pl.col("value").is_not_null())
        .sort(SOURCE_ROW, "item_id", maintain_order=True)
    )
    return long.select(*LONG_COLUMNS, SOURCE_ROW), rejections


def _empty_long() -> pl.DataFrame:
    schema = {c: pl.String for c in LONG_COLUMNS} | {SOURCE_ROW: pl.Int64}
    return pl.DataFrame(schema=schema)


def _canonical_long(
    path: Path, wide: WideSurvey, mapping: SurveyMapping
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Already long: only recode item ids (when `items` is given) and map labels."""
    lower = {c.casefold(): c for c in wide.frame.columns}
    missing = [c for c in LONG_COLUMNS if c not in lower and c != "survey"]
    if missing:
        raise SurveyMappingError(
            f"{path.name}: a long survey file needs columns {missing}; it has "
            f"{_shown(wide.frame.columns)}"
        )
    frame = wide.frame.rename({lower[c]: c for c in LONG_COLUMNS if c in lower})
    if "survey" not in frame.columns:
        frame = frame.with_columns(pl.lit(mapping.survey).alias("survey"))
    if mapping.items:
        frame = frame.with_columns(
            pl.col("item_id").replace_strict(dict(mapping.items), default=pl.col("item_id"))
        )
    formats = [mapping.date_format] if mapping.date_format else None
    stamps = parse_timestamp_any(frame["submitted_at"], formats, mapping.timezone)
    assert isinstance(stamps, pl.Series)
    na = {_key(v) for v in mapping.na_values}
    frame = frame.with_columns(
        _value_expr(mapping, na).alias("value"),
        pl.coalesce(iso_text(stamps), pl.col("submitted_at")).alias("submitted_at"),
    )
    return frame.select(*LONG_COLUMNS, SOURCE_ROW), []
