"""A small read-only SQL shell on a research snapshot (what `mentorscope sql` runs).

DuckDB's own CLI on the package index is 1.x and cannot open the 2.0 files the pipeline writes,
so the shell goes through the Python client, which the project pins.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from models.publish.formulas import safe_csv

TABLES_SQL = (
    "SELECT schema_name || '.' || table_name AS \"table\", estimated_size AS rows, "
    "left(comment, 90) AS comment FROM duckdb_tables() ORDER BY 1"
)
COLUMNS_SQL = (
    "SELECT column_name, data_type, comment FROM duckdb_columns() "
    "WHERE schema_name || '.' || table_name = ? ORDER BY column_index"
)
HELP = """Statements end with ';'. Commands:
  .tables            tables with their descriptions
  .describe TABLE    columns of schema.table with their descriptions
  .quit              leave (or Ctrl-D)"""


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """Read-only: a snapshot is never changed by its readers, and a reader never blocks the
    publisher (it replaces the file, it does not write into it)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no research snapshot (run the pipeline first)")
    return duckdb.connect(str(path), read_only=True)


def run_query(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    csv: bool = False,
    max_rows: int = 40,
    out: TextIO | None = None,
    params: list | None = None,
) -> None:
    out = out or sys.stdout
    relation = con.sql(query, params=params) if params else con.sql(query)
    if relation is None:
        print("OK", file=out)
    elif csv:
        # Redirected into a file and opened in a spreadsheet: formulas must not run.
        print(safe_csv(relation.pl()), end="", file=out)
    elif out is sys.stdout:
        relation.show(max_rows=max_rows, max_width=200)
    else:
        print(relation.pl(), file=out)


def _command(con: duckdb.DuckDBPyConnection, line: str) -> bool:
    """Run a dot command; False when the shell should stop."""
    word, _, rest = line.partition(" ")
    if word in (".quit", ".exit"):
        return False
    if word == ".tables":
        run_query(con, TABLES_SQL, max_rows=100)
    elif word == ".describe" and rest.strip():
        run_query(con, COLUMNS_SQL, params=[rest.strip()], max_rows=200)
    else:
        print(HELP)
    return True


def repl(con: duckdb.DuckDBPyConnection, read: Callable[[str], str] = input) -> None:
    with contextlib.suppress(ImportError):  # line editing and history for input()
        import readline  # noqa: F401
    print("Research snapshot, read-only. .help for commands; end statements with ';'.")
    buffer: list[str] = []
    while True:
        try:
            line = read("...> " if buffer else "research> ")
        except EOFError:
            print()
            return
        except KeyboardInterrupt:
            print()
            buffer.clear()
            continue
        if not buffer and line.strip().startswith("."):
            if not _command(con, line.strip()):
                return
            continue
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if statement.endswith(";"):
            buffer.clear()
            try:
                run_query(con, statement)
            except duckdb.Error as exc:
                print(f"Error: {exc}")
