"""Land a plain CSV file with DuckDB's own reader: no copy of the file in Python memory.

The common export is a UTF-8, comma (or semicolon, tab, pipe) separated file with a one-line
header and no mapping to apply. Reading that through Polars and handing the frame to DuckDB
held every value twice in Python memory (17.7 GB for a 49 M-row consortium); DuckDB's reader
streams it into the warehouse in bounded memory at about the speed of
``CREATE TABLE AS SELECT * FROM read_csv(...)``.

The result is the same as ``read_export_file`` + ``land_file`` (the Polars path), value for
value, and tests hold the two paths to that. Anything this path is not sure to read the same
way (another encoding, bare carriage returns, a ragged or badly quoted line, an invalid UTF-8
byte) makes it return ``None`` without writing anything, and the caller falls back to the
Polars path, which either reads the file or says precisely what is wrong with it.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb

from models.ingest.discover import ExportFile
from models.ingest.errors import ExportError
from models.ingest.read import (
    HEADER_ROW_RULE,
    MAX_COLUMNS,
    MAX_LINE_BYTES,
    REJECT_COLUMN,
    REJECT_REASON,
    REJECT_RULE,
    REPEATED_HEADER,
    SOURCE_ROW,
    UTF8_NAMES,
    file_chunks,
    normalise_header,
    scan_text_bytes,
    sniff_delimiter,
)

BULK_SUFFIXES = (".csv", ".tsv", ".txt")
STAGING = "__landing"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _header(path: Path, delimiter: str | None) -> tuple[list[str], str] | None:
    """The raw header names and the delimiter, or None when the header is not one clean line."""
    with path.open("rb") as fh:
        line = fh.readline(MAX_LINE_BYTES + 1)
    try:
        text = line.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    sep = delimiter or sniff_delimiter(text)
    if text.count('"') % 2:  # a quoted newline inside the header: leave it to the full reader
        return None
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES * 2))
    names = next(csv.reader([text], delimiter=sep), [])
    return (names, sep) if names else None


def _checked_names(raw: list[str], name: str) -> list[str]:
    """Normalised column names, refusing what ``read_export_file`` refuses."""
    if len(raw) > MAX_COLUMNS:
        raise ExportError(
            f"has {len(raw):,} columns; at most {MAX_COLUMNS:,} are accepted (is this the "
            "right file, or was it saved with the wrong delimiter?)",
            name,
        )
    names = [normalise_header(c) for c in raw]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ExportError(f"has duplicate column name(s) {', '.join(dupes)}", name)
    reserved = sorted({SOURCE_ROW, REJECT_RULE, REJECT_COLUMN, REJECT_REASON} & set(names))
    if reserved:
        raise ExportError(f"has column(s) named {', '.join(reserved)}, reserved", name)
    return names


def _normalised_sql(column: str) -> str:
    """``normalise_header`` in SQL, to recognise data rows that repeat the header."""
    text = f"trim(replace({_quote(column)}, chr(65279), ''))"
    text = f"trim(trim({text}, '\"'))"
    return f"lower(regexp_replace({text}, '[\\s\\-]+', '_', 'g'))"


def _stage(con: duckdb.DuckDBPyConnection, path: Path, names: list[str], sep: str) -> bool:
    """Read the file into a temporary table in file order; False when DuckDB refuses it."""
    columns = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names) + "}"
    options = (
        f"header = true, auto_detect = false, columns = {columns}, delim = {_literal(sep)}, "
        "quote = '\"', escape = '\"', strict_mode = true, null_padding = false, "
        f"allow_quoted_nulls = false, max_line_size = {MAX_LINE_BYTES * 2}"
    )
    con.execute(f"DROP TABLE IF EXISTS {STAGING}")
    try:
        # The scan preserves file order and a fresh table numbers its rows in insertion
        # order: rowid - first rowid + 1 is the data row number the Polars path counts.
        con.execute(
            f"CREATE TEMP TABLE {STAGING} AS SELECT * FROM read_csv({_literal(str(path))}, "
            f"{options})"
        )
    except duckdb.Error:
        con.execute(f"DROP TABLE IF EXISTS {STAGING}")
        return False
    return True


def bulk_readable(file: ExportFile, encoding: str | None) -> bool:
    declared = (encoding or "").lower().replace("_", "-")
    return file.path.suffix.lower() in BULK_SUFFIXES and declared in UTF8_NAMES


def land_csv_with_duckdb(
    con: duckdb.DuckDBPyConnection,
    target: str,
    file: ExportFile,
    required: list[str],
    loaded_at: datetime,
    delimiter: str | None = None,
) -> int | None:
    """Insert ``file``'s rows into ``target`` (a raw table); their count, or None to fall back.

    Raises ExportError for what the Polars path would refuse too (width, duplicate or reserved
    column names, missing required columns), naming the file.
    """
    with file.path.open("rb") as fh:
        if not fh.read(1 << 16).strip():
            raise ExportError("is empty", file.name)
    if scan_text_bytes(file_chunks(file.path), file.name) != b"\n":
        return None
    header = _header(file.path, delimiter)
    if header is None:
        return None
    raw_names, sep = header
    if not all(normalise_header(c) for c in raw_names):
        return None  # a blank header cell: the Polars path names it
    names = _checked_names(raw_names, file.name)
    missing = [c for c in required if c not in names]
    if missing:
        table = target.split(".")[-1]
        raise ExportError(
            f"required column(s) {', '.join(missing)} of table {table} not found "
            f"(columns present: {', '.join(names)})",
            file.name,
        )
    if not _stage(con, file.path, names, sep):
        return None
    try:
        # Inside a transaction rowids start far from 0 (transaction-local storage); they are
        # used only when they are one run of consecutive numbers.
        base, top, count = con.execute(
            f"SELECT min(rowid), max(rowid), count(*) FROM {STAGING}"
        ).fetchall()[0]
        if count and top - base + 1 != count:
            return None
        _add_columns(con, target, names)
        first = names[0]
        candidates = con.execute(
            f"SELECT count(*) FROM {STAGING} WHERE {_normalised_sql(first)} = ?", [first]
        ).fetchall()[0][0]
        if candidates:
            same = " AND ".join(
                f"coalesce({_normalised_sql(n)} = {_literal(n)}, false)" for n in names
            )
            flags = (
                f"CASE WHEN {same} THEN {_literal(HEADER_ROW_RULE)} END AS {REJECT_RULE}, "
                f"NULL::VARCHAR AS {REJECT_COLUMN}, "
                f"CASE WHEN {same} THEN {_literal(REPEATED_HEADER)} END AS {REJECT_REASON}"
            )
        else:
            flags = (
                f"NULL::VARCHAR AS {REJECT_RULE}, NULL::VARCHAR AS {REJECT_COLUMN}, "
                f"NULL::VARCHAR AS {REJECT_REASON}"
            )
        con.execute(
            f"INSERT INTO {target} BY NAME SELECT *, rowid - $base + 1 AS {SOURCE_ROW}, "
            f"$file AS _source_file, $sha AS _file_sha256, $at::TIMESTAMP AS _loaded_at, "
            f"{flags} FROM {STAGING}",
            {"file": file.name, "sha": file.sha256, "at": loaded_at, "base": base or 0},
        )
        return count
    finally:
        con.execute(f"DROP TABLE IF EXISTS {STAGING}")


def _add_columns(con: duckdb.DuckDBPyConnection, target: str, names: list[str]) -> None:
    schema, table = target.split(".")
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    for name in names:
        if name not in existing:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {_quote(name)} VARCHAR")
