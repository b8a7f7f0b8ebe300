"""A small read-only SQL shell on a research snapshot (what `mentorscope sql` runs).

DuckDB's own CLI on the package index is 1.x and cannot open the 2.0 files the pipeline writes,
so the shell goes through the Python client, which the project pins.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json as jsonlib
import math
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import duckdb

from models.publish.formulas import neutralise_text, safe_csv

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


@dataclass(frozen=True)
class Truncation:
    """What a printed table left out to fit its row and width limits."""

    rows: bool
    columns: bool

    @property
    def what(self) -> str:
        return " and ".join(w for w, cut in (("rows", self.rows), ("columns", self.columns)) if cut)


# The renderer's footer says what it left out: "300 rows (40 shown)" (or "? rows (>9999 rows,
# 40 shown)") and "30 columns (5 shown)"; a table shown whole says only "3 rows".
_ROWS_CUT = re.compile(r"\brows\s*\([^()]*\bshown\)")
_COLUMNS_CUT = re.compile(r"\bcolumns\s*\([^()]*\bshown\)")


def truncation(box: str) -> Truncation | None:
    """What the table drawn in `box` left out, from its footer; None when it shows everything."""
    lines = box.splitlines()
    closings = [i for i, line in enumerate(lines) if line.lstrip().startswith("└")]
    if not closings:
        return None
    footer = " ".join(line.strip() for line in lines[closings[-1] + 1 :])
    cut = Truncation(rows=bool(_ROWS_CUT.search(footer)), columns=bool(_COLUMNS_CUT.search(footer)))
    return cut if cut.rows or cut.columns else None


# DuckDB types a CSV cell cannot hold as they are (nested values), or Polars cannot import
# (INTERVAL): written as DuckDB's own text for them, e.g. [1, 2], {'a': 1}, 3 days.
_TEXT_IN_CSV = re.compile(r"^(INTERVAL|MAP|STRUCT|UNION)\b|\[\d*\]$")


def _as_flat_columns(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with every column a CSV can hold: nested and interval columns as text."""
    types = [str(t) for t in relation.types]
    if not any(_TEXT_IN_CSV.search(t) for t in types):
        return relation
    columns = []
    for name, kind in zip(relation.columns, types, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        text = _TEXT_IN_CSV.search(kind)
        columns.append(f"CAST({quoted} AS VARCHAR) AS {quoted}" if text else quoted)
    return relation.project(", ".join(columns))


def run_query(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    csv: bool = False,
    json: bool = False,
    max_rows: int = 40,
    max_width: int = 200,
    out: TextIO | None = None,
    params: list | None = None,
) -> Truncation | None:
    """Run `query` and print its result: a table (at most `max_rows` rows and `max_width`
    characters), CSV or JSON records. Returns what the table left out (None for CSV, JSON and
    a table shown whole), so that a caller can say how to get everything."""
    out = out or sys.stdout
    relation = con.sql(query, params=params) if params else con.sql(query)
    if relation is None:
        print("OK", file=out)
        return None
    if csv:
        # Redirected into a file and opened in a spreadsheet: formulas must not run.
        print(safe_csv(_as_flat_columns(relation).pl()), end="", file=out)
        return None
    if json:
        write_json_records(relation, out)
        return None
    drawn = io.StringIO()
    with contextlib.redirect_stdout(drawn):
        relation.show(max_rows=max_rows, max_width=max_width)
    box = drawn.getvalue()
    print(box, end="", file=out)
    return truncation(box)


def _unique_names(names: list[str]) -> list[str]:
    """Column names as JSON keys: a repeated name gets a suffix (`n`, `n_2`) so no value is lost."""
    seen: set[str] = set()
    unique = []
    for name in names:
        key, i = name, 1
        while key in seen:
            i += 1
            key = f"{name}_{i}"
        seen.add(key)
        unique.append(key)
    return unique


def _jsonable(value: Any) -> Any:
    """A DuckDB value as JSON: text passes the spreadsheet-formula rule of the CSV export, dates
    and times are ISO 8601, NaN and infinities are null (JSON has neither)."""
    if isinstance(value, str):
        return neutralise_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.timedelta | uuid.UUID):
        return str(value)
    return str(value)


def write_json_records(relation: duckdb.DuckDBPyRelation, out: TextIO) -> None:
    """The rows as a JSON array of records, one record per line, written as they are read."""
    names = _unique_names(list(relation.columns))
    print("[", file=out)
    held: str | None = None  # each line but the last ends with a comma
    for row in relation.iter_rows():
        if held is not None:
            print(f"  {held},", file=out)
        record = {name: _jsonable(value) for name, value in zip(names, row, strict=True)}
        held = jsonlib.dumps(record, ensure_ascii=False, allow_nan=False)
    if held is not None:
        print(f"  {held}", file=out)
    print("]", file=out)


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
