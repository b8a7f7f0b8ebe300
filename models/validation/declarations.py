"""Expectations as plain data, derived from the contract: no Great Expectations import here.

Every rule of ``models/contract/tables.yaml`` becomes one declared expectation on the core
table it governs, so the contract stays the single place a rule is written. The rule ids
are the row rules' ids (``models/ingest/rules.py``): ``required``, ``type``, ``enum``,
``range``, ``future``, ``reference``, ``role``, ``duplicate_key``; in core every one of them
should already hold, so a failure here means rows reached core that must not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from models.contract import ColumnSpec, TableSpec
from models.ingest.rules import RULES as ROW_RULES

Severity = Literal["error", "warn"]
# The row rules of models/ingest/rules.py, declared once there. before_match compares a
# meeting with its match's date, a join the suites leave to the row rule and its quarantine.
CONTRACT_RULES = tuple(rule for rule in ROW_RULES if rule != "before_match")
CORE_FRAME = "core"

# The pandas dtype each contract type arrives as (see models/validation/frames.py).
PANDAS_DTYPES = {
    "string": "str",
    "enum": "str",
    "date": "datetime64",
    "timestamp": "datetime64",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
}


def reference_flag(column: str) -> str:
    """Derived column: true when ``column`` is blank or names an existing parent row."""
    return f"__reference__{column}"


def role_column(column: str) -> str:
    """Derived column: the role of the participant ``column`` names (blank if unknown)."""
    return f"__role__{column}"


@dataclass(frozen=True)
class Declared:
    """One expectation, declared once: what GX evaluates and how to say it in words."""

    rule: str  # contract rule id or dataset rule id (dataset_rules.yaml)
    table: str  # contract table name (survey_responses, not survey_items)
    expectation: str  # GX expectation type, e.g. expect_column_values_to_not_be_null
    kwargs: Mapping[str, Any]
    column: str | None  # the contract column it is about, if any
    severity: Severity
    expected: str  # plain words: what should be true
    problem: str = ""  # plain words for a failing row's value: "is blank", "is after ..."
    frame: str = CORE_FRAME  # which validation frame it runs on
    skip_reason: str | None = None  # set when the rule cannot apply (e.g. no rows to judge)
    extra: Mapping[str, Any] = field(default_factory=dict)  # facts for the message

    @property
    def gx_class(self) -> str:
        return "".join(part.title() for part in self.expectation.split("_"))


def last_moment(day: date) -> datetime:
    """The last representable instant of ``day`` at nanosecond precision (pandas bounds)."""
    return datetime.combine(day, time()) + timedelta(days=1) - timedelta(microseconds=1)


def _column_rules(spec: TableSpec, col: ColumnSpec, as_of: date) -> list[Declared]:
    out: list[Declared] = []
    name, table = col.name, spec.name
    if col.required:
        out.append(
            Declared(
                "required",
                table,
                "expect_column_values_to_not_be_null",
                {"column": name},
                name,
                "error",
                f"{name} is filled in on every row (a required column)",
                problem="is blank (a required column)",
            )
        )
    out.append(
        Declared(
            "type",
            table,
            "expect_column_type_to_be",
            {"column": name, "type_": PANDAS_DTYPES[col.type]},
            name,
            "error",
            f"{name} is stored as {col.type}",
            extra={"type": col.type},
        )
    )
    if col.type == "enum":
        out.append(
            Declared(
                "enum",
                table,
                "expect_column_values_to_be_in_set",
                {"column": name, "value_set": list(col.values)},
                name,
                "error",
                f"{name} is one of {', '.join(col.values)}",
                problem=f"is not one of {', '.join(col.values)}",
            )
        )
    if col.minimum is not None or col.maximum is not None:
        lo = "" if col.minimum is None else f"{col.minimum:g}"
        hi = "" if col.maximum is None else f"{col.maximum:g}"
        words = f"within {lo}–{hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
        off = f"outside {lo}–{hi}" if lo and hi else (f"below {lo}" if lo else f"above {hi}")
        out.append(
            Declared(
                "range",
                table,
                "expect_column_values_to_be_between",
                {"column": name, "min_value": col.minimum, "max_value": col.maximum},
                name,
                "error",
                f"{name} is {words}",
                problem=f"is {off}",
            )
        )
    if col.type in ("date", "timestamp"):
        out.append(
            Declared(
                "future",
                table,
                "expect_column_values_to_be_between",
                # Dates arrive as midnight datetimes; a timestamp on the as-of day is allowed.
                {"column": name, "max_value": last_moment(as_of)},
                name,
                "error",
                f"{name} is not after the as-of date {as_of.isoformat()}",
                problem=f"is after the as-of date {as_of.isoformat()}",
            )
        )
    if col.references:
        parent, key = col.references
        out.append(
            Declared(
                "reference",
                table,
                "expect_column_values_to_be_in_set",
                # Membership is computed in Polars: a 50k-value value_set costs GX ~5 s.
                {"column": reference_flag(name), "value_set": [True]},
                name,
                "error",
                f"every {name} names an existing {key} in {parent}",
                problem=f"names no existing {key} in {parent}",
                extra={"parent": parent, "key": key},
            )
        )
    if col.role:
        out.append(
            Declared(
                "role",
                table,
                "expect_column_values_to_be_in_set",
                {"column": role_column(name), "value_set": [col.role]},
                name,
                "error",
                f"every {name} names a participant whose role is {col.role}",
                problem=f"names a participant who is not a {col.role}",
                extra={"role": col.role},
            )
        )
    return out


def contract_expectations(spec: TableSpec, as_of: date) -> list[Declared]:
    """The contract's rules for one table as expectations on its core table."""
    out = [
        rule
        for col in spec.columns
        if not col.restricted
        for rule in _column_rules(spec, col, as_of)
    ]
    key = list(spec.key)
    keys = ", ".join(key)
    if len(key) == 1:
        unique = Declared(
            "duplicate_key",
            spec.name,
            "expect_column_values_to_be_unique",
            {"column": key[0]},
            key[0],
            "error",
            f"{keys} is unique (the table's key)",
            problem="repeats: more than one row has the same key",
        )
    else:
        unique = Declared(
            "duplicate_key",
            spec.name,
            "expect_compound_columns_to_be_unique",
            {"column_list": key},
            keys,
            "error",
            f"({keys}) is unique (the table's key)",
            problem="repeats: more than one row has the same key",
        )
    out.append(unique)
    return sorted(out, key=lambda d: CONTRACT_RULES.index(d.rule))


def contract_rule_ids(spec: TableSpec) -> list[str]:
    """The contract rule ids that apply to a table (known without data: for check specs)."""
    return list(dict.fromkeys(d.rule for d in contract_expectations(spec, date(2000, 1, 1))))
