"""Validation of in-memory tables: the reference paths the tests and the benchmark compare.

The pipeline validates a warehouse table where it lies, in batches
(``models.validation.store.validate_warehouse_table``). The same rules can run on Polars frames
held in memory:

- :func:`validate_table`: the pipeline's batch path over frames registered in an in-memory
  DuckDB; what the rule tests call, since a frame is easier to build than a warehouse.
- :func:`validate_whole_table`: every expectation by GX on whole frames, as the stage first
  worked. The reference the batch path is tested against and the benchmark's comparison; it
  holds the table in pandas, so it is not for large tables.
- :func:`load_inputs`: a warehouse table and its lookups read whole into Polars, for it.

Here rather than under ``tests/`` because the benchmark (an installed package) times them too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

import duckdb

from models.contract import load_contract
from models.validation.batches import skip_reason, validate_source
from models.validation.dataset_rules import DatasetRule, expectations_for, rules_for
from models.validation.gx_engine import run_expectations
from models.validation.inputs import TableInputs, facts_of, frames_for
from models.validation.outcomes import Outcome, TableValidation, outcome, skipped
from models.validation.source import ROW, frames_source
from models.validation.store import previous_row_count, read_rows_sql
from models.warehouse import table_exists


def validate_table(
    inputs: TableInputs,
    as_of: date,
    rules: tuple[DatasetRule, ...] | None = None,
    batch_rows: int | None = None,
) -> TableValidation:
    """Validate in-memory inputs the way the pipeline validates the warehouse (in batches)."""
    with frames_source(inputs) as source:
        return validate_source(source, as_of, rules, batch_rows)


def validate_whole_table(
    inputs: TableInputs, as_of: date, rules: tuple[DatasetRule, ...] | None = None
) -> TableValidation:
    """Run every expectation with GX on whole frames (one GX validation per frame)."""
    frames = frames_for(inputs)
    declared = expectations_for(facts_of(inputs), as_of, rules)
    results: dict[int, Outcome] = {}
    by_frame: dict[str, list[int]] = defaultdict(list)
    columns = {f: tuple(frame.frame.columns) for f, frame in frames.items()}
    for i, d in enumerate(declared):
        reason = skip_reason(d, columns)
        if reason is not None:
            results[i] = skipped(replace(d, skip_reason=reason))
        else:
            by_frame[d.frame].append(i)
    rows = inputs.core.height
    for frame_name, indices in by_frame.items():
        raws = run_expectations(
            f"{inputs.spec.name}__{frame_name}", frames[frame_name], [declared[i] for i in indices]
        )
        for i, raw in zip(indices, raws, strict=True):
            results[i] = outcome(declared[i], raw, rows)
    return TableValidation(inputs.spec.name, rows, tuple(results[i] for i in range(len(declared))))


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: str,
    rules: tuple[DatasetRule, ...] | None = None,
) -> TableInputs:
    """Everything ``validate_whole_table`` needs for ``table``, read whole from the warehouse."""
    contract = load_contract()
    spec = contract[table]

    def core(name: str) -> str:
        return f"core.{contract[name].core_name}"

    inputs = TableInputs(spec=spec, core=con.sql(f"SELECT * FROM {core(table)}").pl())
    for col in spec.columns:
        if col.references:
            parent, key = col.references
            inputs.parent_keys[f"{parent}.{key}"] = con.sql(
                f"SELECT {key} FROM {core(parent)}"
            ).pl()[key]
        if col.role and inputs.participant_roles is None:
            inputs.participant_roles = con.sql(
                f"SELECT participant_id, role FROM {core('participants')}"
            ).pl()
    applying = {r.rule for r in rules_for(table, rules)}
    if "row_count_drop" in applying:
        inputs.previous_row_count = previous_row_count(con, table, run_id)
    if "reference_failure_share" in applying and table_exists(con, "raw", table):
        inputs.read_rows = con.sql(f"{read_rows_sql(table)} ORDER BY {ROW}").pl()
    if "meetings_per_match" in applying:
        inputs.match_ids = con.sql(f"SELECT match_id FROM {core('matches')}").pl()["match_id"]
    return inputs
