"""Which way each expectation type is evaluated when a table is validated in batches.

A core table can be far larger than memory allows in pandas (21 M survey items), so the
table is streamed from DuckDB in record batches and GX runs the same suite on every batch.
That is exact only for expectations whose result over the table is a function of their
results over the batches. Every expectation type takes one of three paths, and a type (or
an argument) without an exact path is refused: :class:`UnsupportedExpectation`, raised
before any data is read, never a silent approximation.

- ``map``: row-wise. Each row is expected or not on its own, so the counts add up over
  batches: element, missing and unexpected counts are summed, percentages and success
  (``mostly`` included) recomputed from the sums with GX's own formulas, and the sample of
  failing rows is the first rows in table order across batches.
- ``schema``: about the column's dtype, not its values. Every batch is converted with the
  same dtypes (the date unit is decided once for the whole column), so every batch gets
  the same answer; it is checked that they do.
- ``sql``: about the whole table (uniqueness, row count, mean, median): a batch cannot
  see a duplicate in another batch, nor a median. Computed exactly in DuckDB SQL
  (``sql_checks.py``), under conditions listed there (e.g. integer columns for the mean).
"""

from __future__ import annotations

from typing import Literal

from models.validation.declarations import Declared

Path = Literal["map", "schema", "sql"]

MAP = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
    }
)
SCHEMA = frozenset({"expect_column_type_to_be"})
# The arguments each SQL implementation honours; any other argument would change the
# answer in a way the SQL does not reproduce, so it is refused.
SQL_ARGUMENTS: dict[str, frozenset[str]] = {
    "expect_column_values_to_be_unique": frozenset({"column", "mostly"}),
    "expect_compound_columns_to_be_unique": frozenset({"column_list", "mostly"}),
    "expect_table_row_count_to_be_between": frozenset({"min_value", "max_value"}),
    "expect_column_mean_to_be_between": frozenset({"column", "min_value", "max_value"}),
    "expect_column_median_to_be_between": frozenset({"column", "min_value", "max_value"}),
}
# Arguments of row-wise expectations the batch runner has not been checked with: a row
# condition keeps a check row-wise, but filters rows in pandas syntax GX parses per batch.
UNCHECKED_ARGUMENTS = frozenset({"row_condition", "condition_parser"})


class UnsupportedExpectation(ValueError):
    """An expectation that batches cannot evaluate exactly: refused, not approximated."""


def path_of(d: Declared) -> Path:
    """The path ``d`` takes, or :class:`UnsupportedExpectation`."""
    if d.expectation in MAP:
        extra = UNCHECKED_ARGUMENTS & set(d.kwargs)
        if extra:
            raise UnsupportedExpectation(
                f"{d.table} / {d.rule}: {d.expectation} with {sorted(extra)} is not "
                "evaluated in batches"
            )
        return "map"
    if d.expectation in SCHEMA:
        return "schema"
    if d.expectation in SQL_ARGUMENTS:
        extra = set(d.kwargs) - SQL_ARGUMENTS[d.expectation]
        if extra:
            raise UnsupportedExpectation(
                f"{d.table} / {d.rule}: {d.expectation} is computed in SQL, which does not "
                f"implement the argument(s) {sorted(extra)}"
            )
        return "sql"
    raise UnsupportedExpectation(
        f"{d.table} / {d.rule}: {d.expectation} has no exact way to be evaluated in batches "
        "(add it to models/validation/paths.py with an exact aggregation, and a test)"
    )
