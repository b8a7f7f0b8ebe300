"""One validated expectation, in words an evaluator understands."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from models.contract import load_contract
from models.validation.declarations import Declared, Severity
from models.validation.gx_engine import RawResult

RESULT_SCHEMA = {
    "run_id": pl.String,
    "table_name": pl.String,
    "rule": pl.String,
    "expectation": pl.String,
    "column_name": pl.String,
    "success": pl.Boolean,
    "observed": pl.String,
    "unexpected_count": pl.Int64,
    "unexpected_sample": pl.String,
    "severity": pl.String,
    "message": pl.String,
    "row_count": pl.Int64,
    "checked_at": pl.Datetime("us"),
}


@dataclass(frozen=True)
class Outcome:
    rule: str
    table: str
    expectation: str
    column: str | None
    severity: Severity
    success: bool
    observed: str
    unexpected_count: int | None
    sample: list[Any] = field(default_factory=list)
    message: str | None = None  # why it failed (or why it was not checked), in plain words
    skipped: bool = False


@dataclass(frozen=True)
class TableValidation:
    table: str
    row_count: int
    outcomes: tuple[Outcome, ...]

    def by_rule(self) -> dict[str, list[Outcome]]:
        grouped: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            grouped[o.rule].append(o)
        return dict(grouped)

    def failures(self, severity: str | None = None) -> list[Outcome]:
        return [
            o
            for o in self.outcomes
            if not o.success and (severity is None or o.severity == severity)
        ]

    @property
    def blocking(self) -> bool:
        return bool(self.failures("error"))


def _plain(value: Any) -> Any:
    """JSON-friendly: NaN and NaT become null, dates ISO text, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    text = str(value)
    return None if text in ("NaT", "nan", "<NA>") else text


def _shown(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, str) and value.endswith(" 00:00:00"):
        return value[: -len(" 00:00:00")]
    return "blank" if value is None else str(value)


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _examples(d: Declared, sample: list[Any], value_column: str | None) -> str:
    """' e.g. M9 (meeting_id X3), ...' from the sample of failing rows."""
    if not sample:
        return ""
    key = list(load_contract()[d.table].key)
    parts = []
    for row in sample[:3]:
        if not isinstance(row, dict):
            parts.append(_shown(row))
            continue
        ident = ", ".join(f"{k} {_shown(row[k])}" for k in key if k in row)
        value = row.get(value_column) if value_column else None
        if value_column and value_column not in key and value_column in row:
            parts.append(f"{_shown(value)} ({ident})" if ident else _shown(value))
        else:
            parts.append(ident or _shown(row))
    return "; e.g. " + "; ".join(parts)


def _where(d: Declared, column_named: bool = False) -> str:
    """Where a message points: the table, or table.column when the text does not say it."""
    named = column_named or d.rule in ("undisclosed_share", "duration_median")
    return f"{d.table}.{d.column}" if d.column and named else d.table


_ROW_RULES = {"required", "enum", "range", "future", "reference", "role", "duplicate_key"}


def _failure_text(d: Declared, raw: RawResult, row_count: int, sample: list[Any]) -> str:
    r = raw.result
    bad = int(r.get("unexpected_count") or 0)
    total = int(r.get("element_count") or row_count)
    pct = r.get("unexpected_percent")
    share = f"{pct:.1f}%" if isinstance(pct, int | float) else "?"
    obs = r.get("observed_value")
    explain = f" {d.extra['explain']}" if d.extra.get("explain") else ""
    col = d.column or ""
    rule = d.rule
    if rule == "type":
        body = f"{col} is stored as {obs}, not as a {d.extra['type']} column"
    elif rule in _ROW_RULES:
        subject = f"({col})" if rule == "duplicate_key" and "," in col else col
        value_column = None if rule in ("required", "duplicate_key") else col
        body = f"{subject} {d.problem} in {bad:,} of {total:,} rows"
        body += _examples(d, sample, value_column)
    elif rule == "row_count_drop":
        body = f"{_rows(int(obs or 0))} in core, but expected {d.expected}."
    elif rule == "required_table_empty":
        body = "no rows reached core (required table)."
    elif rule == "reference_failure_share":
        body = (
            f"{share} of rows read ({bad:,} of {total:,}) were quarantined for naming an id "
            f"that does not exist; at most {d.extra['max_share']:.0%} is accepted."
        )
    elif rule == "undisclosed_share":
        answered = total - int(r.get("missing_count") or 0)
        body = (
            f"{share} of participants with a {col} ({bad:,} of {answered:,}) are "
            f"{d.kwargs['value_set'][0]}; at most {d.extra['max_share']:.0%} expected."
        )
    elif rule in ("meetings_per_match", "duration_median"):
        what = "meetings per match on average" if rule == "meetings_per_match" else "median"
        body = f"{_shown(obs)} {what}; expected {d.expected}."
    else:
        body = f"expected {d.expected}; observed {_shown(obs) if obs is not None else share}"
    if not body.endswith("."):
        body += "."
    return f"{_where(d)}: {body}{explain}"


def _observed(raw: RawResult, row_count: int) -> str:
    r = raw.result
    if "observed_value" in r:
        return _shown(r["observed_value"])
    if "unexpected_count" in r:
        bad = int(r.get("unexpected_count") or 0)
        total = int(r.get("element_count") or row_count)
        pct = r.get("unexpected_percent") or 0.0
        return f"{bad:,} of {total:,} rows unexpected ({pct:.1f}%)"
    return ""


def outcome(d: Declared, raw: RawResult, row_count: int) -> Outcome:
    """Turn GX's result for ``d`` into an :class:`Outcome` with a one-line message."""
    r = raw.result
    sample = _plain(
        r.get("partial_unexpected_index_list") or r.get("partial_unexpected_list") or []
    )
    unexpected = r.get("unexpected_count")
    if raw.error is not None:
        message = (
            f"{_where(d, column_named=True)}: could not be checked ({d.expected}): {raw.error}"
        )
        return Outcome(
            d.rule, d.table, d.expectation, d.column, d.severity, False, "", None, [], message
        )
    message = None if raw.success else _failure_text(d, raw, row_count, sample)
    return Outcome(
        d.rule,
        d.table,
        d.expectation,
        d.column,
        d.severity,
        raw.success,
        _observed(raw, row_count),
        None if unexpected is None else int(unexpected),
        sample if not raw.success else [],
        message,
    )


def skipped(d: Declared) -> Outcome:
    """A rule that cannot apply to this data counts as passed, with the reason recorded."""
    reason = d.skip_reason or "not applicable"
    return Outcome(
        d.rule,
        d.table,
        d.expectation,
        d.column,
        d.severity,
        True,
        f"not checked: {reason}",
        None,
        [],
        None,
        skipped=True,
    )


def to_frame(
    outcomes: list[Outcome], run_id: str, row_count: int | None, checked_at: datetime
) -> pl.DataFrame:
    """Rows of ``metrics.expectation_results``."""
    rows = [
        {
            "run_id": run_id,
            "table_name": o.table,
            "rule": o.rule,
            "expectation": o.expectation,
            "column_name": o.column,
            "success": o.success,
            "observed": o.observed,
            "unexpected_count": o.unexpected_count,
            "unexpected_sample": json.dumps(o.sample, ensure_ascii=False) if o.sample else None,
            "severity": o.severity,
            "message": o.message,
            "row_count": row_count,
            "checked_at": checked_at,
        }
        for o in outcomes
    ]
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)
