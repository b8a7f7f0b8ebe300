"""Validate one table: contract rules and dataset rules, evaluated by Great Expectations.

Two ways, one answer (tested to give identical results):

- :func:`validate_table` (and ``store.validate_warehouse_table``, which the pipeline uses):
  in batches from DuckDB, whole-table expectations in SQL (``batches.py``). Bounded memory.
- :func:`validate_whole_table`: every expectation by GX on whole in-memory frames, as the
  stage first worked. Kept as the reference the batch path is tested against and for the
  benchmark's comparison; it holds the table in pandas, so it is not for large tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

from models.validation.batches import unavailable, validate_source
from models.validation.dataset_rules import DatasetRule, expectations_for
from models.validation.gx_engine import run_expectations
from models.validation.inputs import TableInputs, facts_of, frames_for
from models.validation.outcomes import Outcome, TableValidation, outcome, skipped
from models.validation.source import frames_source

__all__ = [
    "TableValidation",
    "expectations_for",
    "validate_table",
    "validate_whole_table",
]


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
    for i, d in enumerate(declared):
        reason = d.skip_reason
        if reason is None and d.frame not in frames:
            reason = "its input is not available"
        if reason is None:
            reason = unavailable(d, tuple(frames[d.frame].frame.columns))
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
