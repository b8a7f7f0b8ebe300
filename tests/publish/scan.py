"""Find identifiers anywhere in a table: every column, as text, case-insensitively, as substrings.

Tens of thousands of needles against every distinct value of every column would be billions of
`contains` calls. Instead each value is cut into overlapping grams of GRAM characters, the grams
are joined on the first GRAM characters of each needle (a hash join), and only those candidate
pairs are checked with `contains`. A needle occurring anywhere in a value starts at one of the
value's gram positions, so nothing is missed.
"""

from __future__ import annotations

import duckdb

GRAM = 8
NEEDLES = "temp.scan_needles"


def load_needles(con: duckdb.DuckDBPyConnection, needles: list[str]) -> None:
    short = [n for n in needles if len(n) < GRAM]
    assert not short, f"needles shorter than {GRAM} characters: {short[:5]}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE scan_needles AS "
        f"SELECT needle, lower(needle) AS low, left(lower(needle), {GRAM}) AS head "
        f"FROM (SELECT DISTINCT unnest(?::VARCHAR[]) AS needle)",
        [needles],
    )


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def hits(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """'relation.column: needle' for every needle (see load_needles) found in the relation."""
    found: set[str] = set()
    for column in columns_of(con, relation):
        quoted = '"' + column.replace('"', '""') + '"'
        rows = con.sql(
            f"""
            WITH v AS (
                SELECT DISTINCT lower(CAST({quoted} AS VARCHAR)) AS v
                FROM {relation} WHERE {quoted} IS NOT NULL
            ),
            g AS (
                SELECT v, substr(v, i, {GRAM}) AS gram
                FROM (SELECT v, unnest(range(1, length(v) - {GRAM} + 2)) AS i FROM v)
            )
            SELECT DISTINCT n.needle
            FROM g JOIN {NEEDLES} AS n ON n.head = g.gram
            WHERE contains(g.v, n.low)
            """
        ).fetchall()
        found |= {f"{relation}.{column}: {r[0]}" for r in rows}
    return sorted(found)
