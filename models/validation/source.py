"""Where a table's rows come from when it is validated in batches: DuckDB relations.

A :class:`TableSource` names, as SQL relations on one DuckDB connection, everything the
suites read: the core table with ``__row`` (the rows' order: failing rows are sampled in
it), the parent keys behind the ``reference`` flags, the participants' roles, the rows read
(for the reference share) and the match ids. The warehouse provides them as tables
(``store.warehouse_source``); in-memory :class:`TableInputs` (tests) are registered on an
in-memory DuckDB (:func:`frames_source`), so both go through the same code.

Each validation frame (the frames of ``inputs.frames_for``) is one SQL query here
(:class:`FrameQuery`) producing the same columns, types and rows as the Polars frame did.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import polars as pl

from models.contract import TableSpec
from models.validation.declarations import CORE_FRAME, reference_flag, role_column
from models.validation.frames import datetime_units
from models.validation.inputs import TableFacts, TableInputs

ROW = "__row"  # a frame's row order: rowid in the warehouse, the row index of a test frame
TEMPORAL = ("DATE", "TIMESTAMP")  # DuckDB type names starting so become datetime64 columns


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class FrameQuery:
    """One validation frame as SQL: its rows, columns (without ``__row``) and key columns."""

    name: str
    sql: str  # every column of the frame plus __row
    columns: tuple[str, ...]
    keys: tuple[str, ...]  # columns that identify a failing row in samples
    types: Mapping[str, str]  # DuckDB type of each column
    # The same rows without the derived (joined) columns: cheaper for whole-table SQL.
    plain: str
    plain_columns: tuple[str, ...]

    def relation_for(self, columns: list[str]) -> str:
        """The cheapest relation holding ``columns`` (and ``__row``), as a FROM item."""
        if set(columns) <= set(self.plain_columns):
            return self.plain
        return f"({self.sql})"


@dataclass
class TableSource:
    """A table and its lookups as DuckDB relations (names or parenthesised queries)."""

    con: duckdb.DuckDBPyConnection
    spec: TableSpec
    core: str  # core rows, with __row
    parents: dict[str, str] = field(default_factory=dict)  # "matches.match_id" -> column k
    roles: str | None = None  # participant_id, role, __row
    read_rows: str | None = None  # _source_file, _source_row, reference_failed, __row
    match_ids: str | None = None  # match_id, __row
    previous_row_count: int | None = None

    def _types(self, relation: str) -> dict[str, str]:
        rel = self.con.sql(f"SELECT * FROM {relation} LIMIT 0")
        return {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True)}

    def core_types(self) -> dict[str, str]:
        """The public contract columns present in the core table (restricted never are)."""
        present = self._types(self.core)
        return {c: present[c] for c in self.spec.public_columns if c in present}

    def facts(self) -> tuple[TableFacts, dict[str, str]]:
        """Counts for the dataset rules, and each date column's pandas unit (aggregates only)."""
        types = self.core_types()
        counts = ", ".join(f"count({q(c)}) AS {q(c)}" for c in types)
        row = self.con.sql(
            f"SELECT count(*) AS __rows{', ' + counts if counts else ''} FROM {self.core}"
        ).fetchall()[0]
        non_null = dict(zip(types, (int(n) for n in row[1:]), strict=True))
        read = None
        if self.read_rows is not None:
            read = int(self.con.sql(f"SELECT count(*) FROM {self.read_rows}").fetchall()[0][0])
        matches = None
        if self.match_ids is not None:
            matches = int(self.con.sql(f"SELECT count(*) FROM {self.match_ids}").fetchall()[0][0])
        facts = TableFacts(
            spec=self.spec,
            columns=tuple(types),
            row_count=int(row[0]),
            non_null=non_null,
            previous_row_count=self.previous_row_count,
            read_rows=read,
            matches=matches,
        )
        return facts, units_of(self.con, self.core, types)

    def frames(self) -> dict[str, FrameQuery]:
        """Every frame the table's expectations run on, by name (as ``inputs.frames_for``)."""
        types = self.core_types()
        frames = {CORE_FRAME: self._core_frame(types)}
        if self.read_rows is not None:
            sql = (
                "SELECT _source_file, _source_row, "
                f"NOT coalesce(reference_failed, false) AS reference_ok, {ROW} "
                f"FROM {self.read_rows}"
            )
            frames["read_rows"] = _frame(
                self.con, "read_rows", sql, ("_source_file", "_source_row")
            )
        if self.match_ids is not None and "match_id" in types:
            # Meetings per match, matches without meetings counted as 0 (a NULL match_id
            # joins no match, as in Polars).
            sql = (
                f"SELECT m.match_id, coalesce(c.n, 0)::BIGINT AS meetings, m.{ROW} "
                f"FROM {self.match_ids} AS m LEFT JOIN "
                f"(SELECT match_id, count(*) AS n FROM {self.core} GROUP BY match_id) AS c "
                "ON m.match_id = c.match_id"
            )
            frames["meetings_per_match"] = _frame(
                self.con, "meetings_per_match", sql, ("match_id",)
            )
        return frames

    def _core_frame(self, types: dict[str, str]) -> FrameQuery:
        """The core rows plus the derived reference flags and roles (``inputs.core_frame``)."""
        select = [f"c.{q(c)}" for c in types] + [f"c.{ROW}"]
        joins: list[str] = []
        derived: dict[str, str] = {}
        for col in self.spec.columns:
            if col.restricted or col.name not in types or not col.references:
                continue
            parent = self.parents.get(".".join(col.references))
            if parent is None:
                continue
            # DISTINCT: a parent key listed twice must not repeat the child row. A join on
            # distinct keys streamed 10 M meetings in half the time of `IN (subquery)`.
            alias = f"p{len(joins)}"
            joins.append(
                f"LEFT JOIN (SELECT DISTINCT k FROM {parent} WHERE k IS NOT NULL) AS {alias} "
                f"ON c.{q(col.name)} = {alias}.k"
            )
            select.append(
                f"(c.{q(col.name)} IS NULL OR {alias}.k IS NOT NULL) "
                f"AS {q(reference_flag(col.name))}"
            )
            derived[reference_flag(col.name)] = "BOOLEAN"
        role_cols = [c for c in self.spec.columns if c.role and c.name in types]
        with_roles = ""
        if role_cols and self.roles is not None:
            # One role per participant, the first in table order (Polars keep="first").
            with_roles = (
                f"WITH roles AS (SELECT participant_id, arg_min(role, {ROW}) AS role "
                f"FROM {self.roles} GROUP BY participant_id) "
            )
            for i, col in enumerate(role_cols):
                joins.append(f"LEFT JOIN roles AS r{i} ON c.{q(col.name)} = r{i}.participant_id")
                select.append(f"r{i}.role AS {q(role_column(col.name))}")
                derived[role_column(col.name)] = "VARCHAR"
        sql = f"{with_roles}SELECT {', '.join(select)} FROM {self.core} AS c {' '.join(joins)}"
        shown = [*self.spec.key, *[c.name for c in self.spec.columns if c.references]]
        keys = tuple(k for k in dict.fromkeys(shown) if k in types)
        columns = (*types, *derived)
        return FrameQuery(
            CORE_FRAME, sql, columns, keys, {**types, **derived}, self.core, tuple(types)
        )


def _frame(
    con: duckdb.DuckDBPyConnection, name: str, sql: str, keys: tuple[str, ...]
) -> FrameQuery:
    rel = con.sql(f"SELECT * FROM ({sql}) LIMIT 0")
    types = {c: str(t) for c, t in zip(rel.columns, rel.types, strict=True) if c != ROW}
    return FrameQuery(name, sql, tuple(types), keys, types, f"({sql})", tuple(types))


def units_of(
    con: duckdb.DuckDBPyConnection, relation: str, types: Mapping[str, str]
) -> dict[str, str]:
    """Each date/timestamp column's pandas unit, decided on the whole column's min and max.

    The same decision ``frames.to_pandas`` makes on a whole frame, so every batch gets the
    dtype the whole table would get.
    """
    temporal = [c for c, t in types.items() if t.startswith(TEMPORAL)]
    if not temporal:
        return {}
    lows = ", ".join(f"min({q(c)}) AS {q(c)}" for c in temporal)
    highs = ", ".join(f"max({q(c)}) AS {q(c)}" for c in temporal)
    extremes = con.sql(f"SELECT {lows} FROM {relation} UNION ALL SELECT {highs} FROM {relation}")
    return datetime_units(extremes.pl())


@contextmanager
def frames_source(inputs: TableInputs) -> Iterator[TableSource]:
    """In-memory inputs as relations of a private in-memory DuckDB (closed afterwards)."""
    con = duckdb.connect()
    try:

        def register(name: str, frame: pl.DataFrame) -> str:
            con.register(name, frame.with_row_index(ROW).to_arrow())
            return name

        source = TableSource(
            con=con,
            spec=inputs.spec,
            core=register("core_rows", inputs.core),
            previous_row_count=inputs.previous_row_count,
        )
        for i, (parent, keys) in enumerate(inputs.parent_keys.items()):
            source.parents[parent] = register(f"parent_{i}", pl.DataFrame({"k": keys}))
        if inputs.participant_roles is not None:
            source.roles = register(
                "roles", inputs.participant_roles.select("participant_id", "role")
            )
        if inputs.read_rows is not None:
            source.read_rows = register("read_rows", inputs.read_rows)
        if inputs.match_ids is not None:
            source.match_ids = register("match_ids", pl.DataFrame({"match_id": inputs.match_ids}))
        yield source
    finally:
        con.close()
