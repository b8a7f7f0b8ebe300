"""Validate one table: contract rules and dataset rules, evaluated by Great Expectations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from models.validation.dataset_rules import DatasetRule, dataset_expectations
from models.validation.declarations import Declared, contract_expectations
from models.validation.gx_engine import run_expectations
from models.validation.inputs import TableInputs, frames_for
from models.validation.outcomes import Outcome, outcome, skipped


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


def expectations_for(
    inputs: TableInputs, as_of: date, rules: tuple[DatasetRule, ...] | None = None
) -> list[Declared]:
    """Everything checked on one table: the contract's rules, then the dataset rules."""
    return contract_expectations(inputs.spec, as_of) + dataset_expectations(inputs, rules)


def _unavailable(d: Declared, columns: list[str]) -> str | None:
    """A derived column is absent when its lookup was not provided: not checkable."""
    column = d.kwargs.get("column")
    if isinstance(column, str) and column.startswith("__") and column not in columns:
        return "the table it refers to is not available"
    return None


def validate_table(
    inputs: TableInputs, as_of: date, rules: tuple[DatasetRule, ...] | None = None
) -> TableValidation:
    """Run every expectation of ``inputs.spec`` (one GX validation per frame)."""
    frames = frames_for(inputs)
    declared = expectations_for(inputs, as_of, rules)
    results: dict[int, Outcome] = {}
    by_frame: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(declared):
        reason = d.skip_reason
        if reason is None and d.frame not in frames:
            reason = "its input is not available"
        if reason is None:
            reason = _unavailable(d, frames[d.frame].frame.columns)
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
