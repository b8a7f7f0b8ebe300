"""Free-text categories in the research snapshot: published as written only when they are
categories.

Some columns hold whatever the program typed (career level, age band, survey and outcome
names). A value there can be a person: a name typed into career_level, an email into age_band.
Such a column is published with `publish: category` and a `vocabulary` in catalog.yaml: a value
held by at least k distinct people of its source column (k = the disclosure threshold) is a
category and kept; any other value, and anything that looks like an email or web address or a
phone number, is replaced by a keyed code (`withheld_` + 8 hex). Every column of one vocabulary
(outcomes.measure, breakdowns.metric, model_estimates.outcome, ...) uses the same codes, so
joins and group-bys still work and nothing of the value is revealed.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from models.publish.catalog import CategorySource

CODE_LENGTH = 8
SQL = (Path(__file__).with_name("sql") / "category_codes.sql").read_text(encoding="utf-8")


def code_table(vocabulary: str) -> str:
    return f"__withheld_{vocabulary}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build_codes(
    con: duckdb.DuckDBPyConnection, source_db: str, spec: CategorySource, min_holders: int
) -> int:
    """Temp table code_table(vocabulary): value -> code for every value to withhold.

    Needs pseudonyms.load_key_table first. Returns how many distinct values are withheld.
    """
    schema, table, column = spec.source.split(".")
    name = code_table(spec.vocabulary)
    present = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = ? AND table_name = ? AND column_name IN (?, ?)",
        [source_db, schema, table, column, spec.counted_by],
    ).fetchall()[0][0]
    if present < 2:  # no such table in this warehouse: nothing of the vocabulary to code
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (value VARCHAR, code VARCHAR)")
        return 0
    con.execute(
        SQL.format(
            code_table=name,
            column=_q(column),
            counted_by=_q(spec.counted_by),
            source=f"{_q(source_db)}.{_q(schema)}.{_q(table)}",
            vocabulary=spec.vocabulary.replace("'", "''"),
            min_holders=int(min_holders),
            length=CODE_LENGTH,
        )
    )
    return con.sql(f"SELECT count(*) FROM temp.{name}").fetchall()[0][0]


def drop_code_tables(con: duckdb.DuckDBPyConnection, vocabularies: list[str]) -> None:
    for vocabulary in vocabularies:
        con.execute(f"DROP TABLE IF EXISTS temp.{code_table(vocabulary)}")
