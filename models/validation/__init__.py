"""Validation as a stage: the contract's rules and the dataset rules, run by Great Expectations.

Importing this package does not import Great Expectations (``gx_engine`` does, lazily).
Flow per core table: ``store.validate_warehouse_table`` (batches from DuckDB, whole-table
expectations in SQL: ``paths.py`` says which goes where) -> ``store.record`` (appends to
``metrics.expectation_results``). The in-memory paths the tests and the benchmark compare
against (``validate_table``, ``validate_whole_table``, ``load_inputs``) are in
``benchmarks/validation_reference.py``.
"""

from models.validation.dataset_rules import (
    DatasetRule,
    expectations_for,
    load_dataset_rules,
    rules_for,
)
from models.validation.declarations import (
    CONTRACT_RULES,
    Declared,
    contract_expectations,
    contract_rule_ids,
)
from models.validation.inputs import TableInputs
from models.validation.outcomes import Outcome, TableValidation
from models.validation.paths import UnsupportedExpectation, path_of
from models.validation.store import (
    latest_results,
    record,
    run_results,
    validate_warehouse_table,
)

__all__ = [
    "CONTRACT_RULES",
    "DatasetRule",
    "Declared",
    "Outcome",
    "TableInputs",
    "TableValidation",
    "UnsupportedExpectation",
    "contract_expectations",
    "contract_rule_ids",
    "expectations_for",
    "latest_results",
    "load_dataset_rules",
    "path_of",
    "record",
    "rules_for",
    "run_results",
    "validate_warehouse_table",
]
