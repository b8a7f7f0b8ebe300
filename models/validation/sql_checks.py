"""Whole-table expectations computed exactly in DuckDB SQL (the ``sql`` path of ``paths.py``).

Each function returns what GX would have returned on the whole frame in pandas: the same
result fields, success, observed value and sample of failing rows (the first rows in
``__row`` order, with the same values: sample rows go through the same pandas conversion
GX's input does). Memory stays in DuckDB, which spills to disk under its memory limit.

When the SQL cannot reproduce GX (a column missing, or of a type the aggregate is not exact
for), :func:`usable` says so and the caller asks GX itself on an empty frame of the same
columns and dtypes: GX's error there is its error on the whole table (it depends on
no value); if GX does not fail there, the expectation has no exact path and is refused.

Semantics reproduced (pandas, as GX 1.24 runs it):

- ``expect_column_values_to_be_unique``: blanks are ignored; every non-blank row whose value
  occurs more than once is unexpected (``duplicated(keep=False)``).
- ``expect_compound_columns_to_be_unique``: rows whose key columns are all blank are
  ignored; blanks compare equal to each other (as in pandas' ``duplicated`` and SQL's
  ``GROUP BY``).
- ``expect_table_row_count_to_be_between``: ``count(*)``.
- ``expect_column_mean_to_be_between``: integer columns only (meetings per match): the sum
  of integers is exact in both, so ``sum / count`` is the same float. A float mean depends
  on the order of additions (numpy sums pairwise), so it is refused.
- ``expect_column_median_to_be_between``: integer and float columns; blanks and NaN
  ignored; the middle value, or numpy's mean of the two middle values (see ``_median``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np

from models.validation.declarations import Declared
from models.validation.frames import to_pandas
from models.validation.gx_engine import RawResult, map_result
from models.validation.paths import UnsupportedExpectation
from models.validation.source import ROW, FrameQuery, q

INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
FLOAT = ("FLOAT", "DOUBLE")


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    return con.sql(sql).fetchall()[0]


def _between(value: Any, kwargs: Mapping[str, Any]) -> RawResult:
    """GX's ``_validate_metric_value_between`` for a number (no strict bounds declared)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return RawResult(False, {"observed_value": None})
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    success = (lo is None or value >= lo) and (hi is None or value <= hi)
    return RawResult(bool(success), {"observed_value": value})


def _missing(column: str, sql_type: str, alias: str = "") -> str:
    # pandas counts NaN as missing; SQL does not.
    name = f"{alias}{q(column)}"
    if sql_type in FLOAT:
        return f"({name} IS NULL OR isnan({name}))"
    return f"{name} IS NULL"


def _ignored(domain: list[str], types: Mapping[str, str], compound: bool, alias: str = "") -> str:
    """Rows GX leaves out: a blank value (one column), all values blank (compound)."""
    missing = [_missing(c, types[c], alias) for c in domain]
    return "(" + " AND ".join(missing) + ")" if compound else missing[0]


def _sample_rows(
    con: duckdb.DuckDBPyConnection,
    frame: FrameQuery,
    domain: list[str],
    units: Mapping[str, str],
    duplicates: str,
    where: str,
    sample_size: int,
) -> tuple[list[Any], list[Any]]:
    """The first failing rows in ``__row`` order: values and index entries, as GX builds them.

    ``duplicates`` is a query of the duplicated key values; rows match it with IS NOT
    DISTINCT FROM so that blanks pair up as they do in pandas.
    """
    shown = list(dict.fromkeys([*domain, *frame.keys]))
    on = " AND ".join(f"r.{q(c)} IS NOT DISTINCT FROM d.{q(c)}" for c in domain)
    cols = ", ".join(f"r.{q(c)}" for c in [*shown, ROW])
    rows = con.sql(
        f"SELECT {cols} FROM {frame.relation_for(shown)} AS r JOIN ({duplicates}) AS d ON {on} "
        f"WHERE {where} ORDER BY r.{ROW} LIMIT {int(sample_size)}"
    ).pl()
    pdf = to_pandas(rows.drop(ROW), units)
    values: list[Any] = []
    index: list[Any] = []
    for i in range(len(pdf)):
        if len(domain) == 1:
            values.append(pdf.at[i, domain[0]])
        else:
            values.append({c: pdf.at[i, c] for c in domain})
        if frame.keys:
            # GX's order: the expectation's columns, then the index columns not yet listed.
            entry = {c: pdf.at[i, c] for c in domain}
            entry.update({c: pdf.at[i, c] for c in frame.keys})
            index.append(entry)
        else:
            index.append(int(rows[ROW][i]))
    return values, index


def _unique(
    con: duckdb.DuckDBPyConnection,
    frame: FrameQuery,
    d: Declared,
    domain: list[str],
    units: Mapping[str, str],
    sample_size: int,
) -> RawResult:
    compound = d.expectation == "expect_compound_columns_to_be_unique"
    relation = frame.relation_for(domain)
    ignored = _ignored(domain, frame.types, compound)
    keys = ", ".join(q(c) for c in domain)
    duplicates = (
        f"SELECT {keys}, count(*) AS n FROM {relation} WHERE NOT ({ignored}) "
        f"GROUP BY {keys} HAVING count(*) > 1"
    )
    total, considered = _one(
        con, f"SELECT count(*), count(*) FILTER (WHERE NOT ({ignored})) FROM {relation}"
    )
    (unexpected,) = _one(con, f"SELECT coalesce(sum(n), 0)::BIGINT FROM ({duplicates})")
    values: list[Any] = []
    index: list[Any] = []
    if unexpected:
        where = f"NOT {_ignored(domain, frame.types, compound, 'r.')}"
        values, index = _sample_rows(con, frame, domain, units, duplicates, where, sample_size)
    return map_result(
        d,
        element_count=int(total),
        nonnull_count=int(considered),
        unexpected_count=int(unexpected),
        values=values,
        index=index,
        keys=frame.keys,
        sample_size=sample_size,
    )


# Quantile brackets tried around the median, narrowest first; the last is the whole column.
MEDIAN_BRACKETS = ((0.48, 0.52), (0.4, 0.6), None)


def _median(con: duckdb.DuckDBPyConnection, relation: str, column: str, sql_type: str) -> Any:
    """The exact median in bounded memory: locate the middle rank(s) inside a bracket.

    An approximate quantile (t-digest, a few KB) proposes a value range around the median;
    counting the rows below it and grouping the values inside it (distinct values with
    their counts) tells exactly which value holds each middle rank. If the bracket misses
    a middle rank, a wider one is tried, the last being the whole column. Never a sort of
    the table, nor half of it held in a heap.
    """
    v = q(column)
    kept = f"NOT {_missing(column, sql_type)}"
    (n,) = _one(con, f"SELECT count(*) FROM {relation} WHERE {kept}")
    if not n:
        return None
    ranks = [(n - 1) // 2] if n % 2 else [n // 2 - 1, n // 2]  # 0-based, in sorted order
    for bracket in MEDIAN_BRACKETS:
        if bracket is None:
            lo, hi = _one(con, f"SELECT min({v}), max({v}) FROM {relation} WHERE {kept}")
        else:
            lo, hi = _one(
                con,
                f"SELECT approx_quantile({v}, {bracket[0]}), approx_quantile({v}, {bracket[1]}) "
                f"FROM {relation} WHERE {kept}",
            )
        inside = f"{kept} AND {v} >= $lo AND {v} <= $hi"
        (below,) = con.sql(
            f"SELECT count(*) FROM {relation} WHERE {kept} AND {v} < $lo", params={"lo": lo}
        ).fetchall()[0]
        if below > ranks[0]:
            continue
        groups = con.sql(
            f"SELECT {v}, count(*) FROM {relation} WHERE {inside} GROUP BY {v} ORDER BY {v}",
            params={"lo": lo, "hi": hi},
        ).fetchall()
        middle: list[Any] = []
        first = below  # rank of the first row of the current value
        for value, count in groups:
            middle += [value for r in ranks if first <= r < first + count]
            first += count
        if len(middle) == len(ranks):
            # numpy's own arithmetic on the middle value(s), as pandas' median ends with.
            return float(np.median(np.array(middle, dtype=np.float64)))
    raise AssertionError(f"median of {column}: the whole column did not hold its middle ranks")


def _mean(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> Any:
    n, total = _one(con, f"SELECT count({q(column)}), sum({q(column)})::HUGEINT FROM {relation}")
    # Python divides exactly-held integers with one rounding, as numpy does float(sum) / n.
    return None if not n else int(total) / int(n)


def _domain(d: Declared) -> list[str]:
    return list(d.kwargs["column_list"]) if "column_list" in d.kwargs else [d.kwargs["column"]]


def usable(frame: FrameQuery, d: Declared) -> bool:
    """Whether SQL can compute ``d`` on ``frame`` (from column types; no row is read).

    ``False``: a column is missing or of a type the SQL does not handle (ask GX on an empty
    frame, above). Raises :class:`UnsupportedExpectation` where no exact SQL exists.
    """
    kind = d.expectation
    if kind == "expect_table_row_count_to_be_between":
        return True
    domain = _domain(d)
    if any(c not in frame.types for c in domain):
        return False
    types = [frame.types[c] for c in domain]
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        if any(t in FLOAT for t in types):
            # NaN and -0.0 group differently in pandas and DuckDB.
            raise UnsupportedExpectation(
                f"{d.table} / {d.rule}: uniqueness of a float column ({', '.join(domain)}) "
                "has no exact SQL path"
            )
        return True
    if kind == "expect_column_mean_to_be_between":
        if types[0] in FLOAT:
            raise UnsupportedExpectation(
                f"{d.table} / {d.rule}: the mean of the float column {domain[0]} is not exact "
                "in SQL (it depends on the order of additions)"
            )
        return types[0] in INTEGER
    if kind == "expect_column_median_to_be_between":
        return types[0] in INTEGER + FLOAT
    raise UnsupportedExpectation(f"{d.table} / {d.rule}: {kind} has no SQL implementation")


def evaluate(
    con: duckdb.DuckDBPyConnection,
    frame: FrameQuery,
    d: Declared,
    units: Mapping[str, str],
    sample_size: int,
) -> RawResult:
    """GX's result for ``d`` on the whole frame, computed in SQL (``usable`` must hold)."""
    kind = d.expectation
    if kind == "expect_table_row_count_to_be_between":
        (n,) = _one(con, f"SELECT count(*) FROM {frame.relation_for([])}")
        return _between(int(n), d.kwargs)
    domain = _domain(d)
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        return _unique(con, frame, d, domain, units, sample_size)
    column = domain[0]
    relation = frame.relation_for([column])
    if kind == "expect_column_mean_to_be_between":
        return _between(_mean(con, relation, column), d.kwargs)
    return _between(_median(con, relation, column, frame.types[column]), d.kwargs)
