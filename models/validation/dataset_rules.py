"""Dataset-level rules (``models/contract/dataset_rules.yaml``) as declared expectations.

The YAML holds each rule's parameters and severity; this module knows what each rule id
means. A rule applies to the tables its ``tables:`` names (or ``all``, ``required``,
``referencing``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from models.contract import TableSpec, load_contract
from models.validation.declarations import CORE_FRAME, Declared, Severity, contract_expectations
from models.validation.inputs import TableFacts
from models.vocabulary import UNDISCLOSED

RULES_FILE = Path(__file__).resolve().parents[1] / "contract" / "dataset_rules.yaml"


@dataclass(frozen=True)
class DatasetRule:
    rule: str
    severity: Severity
    tables: tuple[str, ...]
    params: Mapping[str, Any]
    explain: str


def _tables(selector: str | list[str], contract: Mapping[str, TableSpec]) -> tuple[str, ...]:
    if selector == "all":
        return tuple(contract)
    if selector == "required":
        return tuple(t for t, s in contract.items() if s.required_table)
    if selector == "referencing":
        return tuple(t for t, s in contract.items() if any(c.references for c in s.columns))
    if isinstance(selector, str):
        selector = [selector]
    unknown = [t for t in selector if t not in contract]
    if unknown:
        raise ValueError(f"dataset_rules.yaml names unknown table(s): {', '.join(unknown)}")
    return tuple(selector)


@cache
def load_dataset_rules(path: Path = RULES_FILE) -> tuple[DatasetRule, ...]:
    contract = load_contract()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = []
    for rule, body in raw.items():
        if rule not in BUILDERS:
            raise ValueError(f"dataset_rules.yaml: unknown rule {rule!r}; known: {list(BUILDERS)}")
        severity = body.get("severity")
        if severity not in ("error", "warn"):
            raise ValueError(f"dataset_rules.yaml: {rule} needs severity error or warn")
        params = {k: v for k, v in body.items() if k not in ("severity", "tables", "explain")}
        rules.append(
            DatasetRule(
                rule,
                severity,
                _tables(body.get("tables", "all"), contract),
                params,
                " ".join(str(body.get("explain", "")).split()),
            )
        )
    return tuple(rules)


def rules_for(table: str, rules: tuple[DatasetRule, ...] | None = None) -> list[DatasetRule]:
    return [r for r in (rules if rules is not None else load_dataset_rules()) if table in r.tables]


def _declared(rule: DatasetRule, table: str, **kwargs: Any) -> Declared:
    return Declared(rule=rule.rule, table=table, severity=rule.severity, **kwargs)


def _row_count_drop(rule: DatasetRule, facts: TableFacts) -> list[Declared]:
    share = float(rule.params["min_share_of_previous"])
    previous = facts.previous_row_count
    if previous is None:
        minimum, expected = 0, "row count recorded (first validated run: nothing to compare)"
    else:
        minimum = math.ceil(previous * share)
        expected = (
            f"at least {share:.0%} of the last accepted run's {previous:,} rows "
            f"(≥ {minimum:,} rows)"
        )
    return [
        _declared(
            rule,
            facts.spec.name,
            expectation="expect_table_row_count_to_be_between",
            kwargs={"min_value": minimum, "max_value": None},
            column=None,
            expected=expected,
            extra={"previous": previous, "explain": rule.explain},
        )
    ]


def _required_table_empty(rule: DatasetRule, facts: TableFacts) -> list[Declared]:
    return [
        _declared(
            rule,
            facts.spec.name,
            expectation="expect_table_row_count_to_be_between",
            kwargs={"min_value": 1, "max_value": None},
            column=None,
            expected="the required table has at least one row in core",
            extra={"explain": rule.explain},
        )
    ]


def _reference_failure_share(rule: DatasetRule, facts: TableFacts) -> list[Declared]:
    share = float(rule.params["max_share"])
    least = int(rule.params.get("min_rows", 1))
    skip = None if facts.read_rows is not None else "rows read are not available"
    if facts.read_rows is not None and facts.read_rows < least:
        skip = f"{facts.read_rows:,} rows read; a share is judged from {least:,} rows"
    return [
        _declared(
            rule,
            facts.spec.name,
            expectation="expect_column_values_to_be_in_set",
            kwargs={"column": "reference_ok", "value_set": [True], "mostly": 1.0 - share},
            column=None,
            expected=(
                f"at most {share:.0%} of rows read are quarantined for naming an id "
                "that does not exist"
            ),
            frame="read_rows",
            skip_reason=skip,
            extra={"max_share": share, "explain": rule.explain},
        )
    ]


def _undisclosed_share(rule: DatasetRule, facts: TableFacts) -> list[Declared]:
    share = float(rule.params["max_share"])
    value = str(rule.params.get("value", UNDISCLOSED))
    least = int(rule.params.get("min_rows", 1))

    def skip(column: str) -> str | None:
        if column not in facts.columns:
            return f"no {column} column"
        answered = facts.non_null[column]
        if answered < least:
            return f"{answered:,} participants with a {column}; a share is judged from {least:,}"
        return None

    return [
        _declared(
            rule,
            facts.spec.name,
            expectation="expect_column_values_to_not_be_in_set",
            kwargs={"column": column, "value_set": [value], "mostly": 1.0 - share},
            column=column,
            expected=f"at most {share:.0%} of participants have {column} = {value}",
            skip_reason=skip(column),
            extra={"max_share": share, "explain": rule.explain},
        )
        for column in rule.params["columns"]
    ]


def _meetings_per_match(rule: DatasetRule, facts: TableFacts) -> list[Declared]:
    lo, hi = float(rule.params["min"]), float(rule.params["max"])
    skip = None
    if not facts.matches:
        skip = "no matches to count meetings for"
    elif facts.row_count == 0:
        skip = "no meetings in this export (optional table absent or empty)"
    return [
        _declared(
            rule,
            facts.spec.name,
            expectation="expect_column_mean_to_be_between",
            kwargs={"column": "meetings", "min_value": lo, "max_value": hi},
            column=None,
            expected=f"the mean number of meetings per match lies within {lo:g}–{hi:g}",
            frame="meetings_per_match",
            skip_reason=skip,
            extra={"explain": rule.explain},
        )
    ]


def _duration_median(rule: DatasetRule, facts: TableFacts) -> list[Declared]:
    column = str(rule.params["column"])
    lo, hi = float(rule.params["min"]), float(rule.params["max"])
    present = column in facts.columns and facts.non_null[column] > 0
    return [
        _declared(
            rule,
            facts.spec.name,
            expectation="expect_column_median_to_be_between",
            kwargs={"column": column, "min_value": lo, "max_value": hi},
            column=column,
            expected=f"the median {column} lies within {lo:g}–{hi:g}",
            frame=CORE_FRAME,
            skip_reason=None if present else f"no {column} values",
            extra={"explain": rule.explain},
        )
    ]


BUILDERS: dict[str, Callable[[DatasetRule, TableFacts], list[Declared]]] = {
    "row_count_drop": _row_count_drop,
    "required_table_empty": _required_table_empty,
    "reference_failure_share": _reference_failure_share,
    "undisclosed_share": _undisclosed_share,
    "meetings_per_match": _meetings_per_match,
    "duration_median": _duration_median,
}


def dataset_expectations(
    facts: TableFacts, rules: tuple[DatasetRule, ...] | None = None
) -> list[Declared]:
    return [
        d for rule in rules_for(facts.spec.name, rules) for d in BUILDERS[rule.rule](rule, facts)
    ]


def expectations_for(
    facts: TableFacts, as_of: date, rules: tuple[DatasetRule, ...] | None = None
) -> list[Declared]:
    """Everything checked on one table: the contract's rules, then the dataset rules."""
    return contract_expectations(facts.spec, as_of) + dataset_expectations(facts, rules)
