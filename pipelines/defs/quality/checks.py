"""Validation checks on every core asset: the contract's rules and the dataset rules.

One multi-asset check per core table runs its whole validation once (Great Expectations,
imported lazily by ``models.validation``) and reports one Dagster check per rule id. The
table is validated where it lies, in batches (bounded memory; docs/validation.md), so the
check holds its warehouse connection until the results are recorded. A table whose
validation reads nothing changed since its last run takes those results again
(``models.validation.reuse``). Rules of severity error are blocking: a failure stops the
table's downstream assets and fails the run; warn rules are reported and the run goes on.
Every result is appended to ``metrics.expectation_results``.
"""

from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from models.contract import load_contract
from models.validation import (
    Outcome,
    contract_rule_ids,
    record,
    reuse,
    rules_for,
    validate_warehouse_table,
)
from pipelines.defs.keys import core_key
from pipelines.resources import RunConfig

MESSAGES_SHOWN = 3

RULE_WORDS = {
    "required": "Required columns are filled in on every row.",
    "type": "Every column is stored with the contract's type.",
    "enum": "Category columns hold only the contract's values.",
    "range": "Numbers lie within the contract's bounds.",
    "future": "No date is after the run's as-of date.",
    "reference": "Every id names an existing row of the table it refers to.",
    "role": "Mentor ids name mentors and mentee ids name mentees.",
    "duplicate_key": "The table's key is unique.",
    "row_count_drop": "The table did not shrink sharply since the last accepted run.",
    "required_table_empty": "The required table is not empty.",
    "reference_failure_share": "Few rows were quarantined for naming unknown ids.",
    "undisclosed_share": "Demographic answers are mostly disclosed.",
    "meetings_per_match": "Meetings per match on average lie in a plausible band.",
    "duration_median": "The median meeting length lies in a plausible band.",
}


def _severities(table: str) -> dict[str, str]:
    """Rule id -> severity for one table: contract rules block; dataset rules as declared."""
    out = dict.fromkeys(contract_rule_ids(load_contract()[table]), "error")
    for rule in rules_for(table):
        out[rule.rule] = rule.severity
    return out


def _check_specs(table: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            rule,
            asset=core_key(table),
            blocking=severity == "error",
            description=f"{RULE_WORDS.get(rule, rule)} "
            + ("Blocking." if severity == "error" else "Warning only."),
            metadata={"severity": severity},
        )
        for rule, severity in _severities(table).items()
    ]


def _metadata(outcomes: list[Outcome]) -> dict[str, dg.MetadataValue]:
    failed = [o for o in outcomes if not o.success]
    first = failed[0] if failed else outcomes[0]
    rows = "\n".join(
        f"| {o.column or '—'} | `{o.expectation}` | {'pass' if o.success else 'FAIL'} "
        f"| {o.observed} |"
        for o in outcomes
    )
    counts = [o.unexpected_count for o in failed if o.unexpected_count is not None]
    return {
        "expectation": dg.MetadataValue.text(first.expectation),
        "observed": dg.MetadataValue.text(first.observed or "—"),
        "unexpected_count": dg.MetadataValue.int(sum(counts)),
        "failing_keys_sample": dg.MetadataValue.json(first.sample if failed else []),
        "severity": dg.MetadataValue.text(first.severity),
        "expectations": dg.MetadataValue.md(
            "| column | expectation | result | observed |\n|---|---|---|---|\n" + rows
        ),
    }


def _result(
    table: str, rule: str, outcomes: list[Outcome], reused_from: str | None
) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if not o.success]
    messages = [o.message for o in failed if o.message]
    description = " ".join(messages[:MESSAGES_SHOWN])
    if len(messages) > MESSAGES_SHOWN:
        description += f" (and {len(messages) - MESSAGES_SHOWN} more)"
    blocking = any(o.severity == "error" for o in outcomes)
    return dg.AssetCheckResult(
        asset_key=core_key(table),
        check_name=rule,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=description or None,
        metadata={
            **_metadata(outcomes),
            "reused_from_run": dg.MetadataValue.text(reused_from or "—"),
        },
    )


def build_validation_check(table: str) -> dg.AssetChecksDefinition:
    spec = load_contract()[table]

    @dg.multi_asset_check(
        name=f"validate_{spec.core_name}",
        specs=_check_specs(table),
        pool="warehouse",
        description=f"core.{spec.core_name}: the contract's rules and the dataset rules, "
        "evaluated by Great Expectations; results in metrics.expectation_results.",
    )
    def _validate(
        context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, export: RunConfig
    ) -> Iterator[dg.AssetCheckResult]:
        run_id = context.run.run_id
        as_of = export.as_of_date
        with warehouse.get_connection() as con:
            print_ = reuse.fingerprint(con, table, run_id)
            reused = reuse.reusable(con, print_, as_of)
            if reused is None:
                validation = validate_warehouse_table(con, table, run_id, as_of)
                reused_from = None
            else:
                reused_from, validation = reused
                context.log.info(
                    f"{table}: nothing the validation reads changed since run {reused_from}; "
                    "its results stand and are recorded for this run"
                )
            record(con, validation, run_id)
            reuse.remember(con, print_, as_of, run_id)
        for failure in validation.failures():
            log = context.log.error if failure.severity == "error" else context.log.warning
            log(failure.message or failure.rule)
        for rule, outcomes in validation.by_rule().items():
            yield _result(table, rule, outcomes, reused_from)

    return _validate


validation_checks = [build_validation_check(t) for t in load_contract()]
