"""Every table of the research snapshot as Stata (.dta) and SPSS (.sav), labelled from the catalog.

Variable labels are the catalog's column descriptions (cut to Stata's 80 characters; the whole
text is in the codebook). Coded text columns become numeric codes with value labels, booleans
0/1 labelled false/true (exports.yaml says which columns are coded and from which vocabulary).
What the formats cannot hold as DuckDB does is converted and said in `ExportColumn.note`, which
the codebook prints: names longer than 32 characters, nested and INTERVAL values (text),
missing text (an empty string), time stamps (milliseconds, UTC for time-zoned ones).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import yaml

from models.contract.spec import load_contract
from models.publish import reuse, spss_file, stata_file
from models.publish.catalog import Catalog, ColumnDoc
from models.publish.reuse import link_intact, table_content
from models.publish.spss_file import SavWriter
from models.publish.stata_file import DtaWriter
from models.publish.variables import Variable, text_matrix

EXPORTS_PATH = Path(__file__).with_name("exports.yaml")
FINGERPRINTS = "labelled_fingerprints.json"  # per table: what its two files were written from
STATA_DIR = "stata"
SPSS_DIR = "spss"
NAME_LIMIT = 32  # Stata; SPSS allows 64, one name per column across formats is simpler to use
LABEL_LIMIT = 80  # Stata variable, file and (our) value labels
# Stata's long: -2,147,483,647 .. 2,147,483,620; wider integers are written as doubles.
STATA_LONG = (-2_147_483_647, 2_147_483_620)
BOOLEAN_LABELS: dict[int, str] = {0: "false", 1: "true"}
CHUNK_ROWS = 262_144  # rows per chunk streamed to the writers: tens of MB, not a table
# Tables written at once. write_labelled alone on the consortium's snapshot (33 tables, 41.6 M
# rows, 2 cores): one at a time 46.7 s, two 35.0 s (the largest first), the same bytes.
LABELLED_THREADS = 2

_STATA_RESERVED = {
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n",
    "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with",
}  # fmt: skip
_SPSS_RESERVED = {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_DOUBLE_TYPES = {"FLOAT", "DOUBLE", "REAL", "HUGEINT", "UHUGEINT", "UBIGINT"}


@dataclass(frozen=True)
class ExportColumn:
    name: str  # the DuckDB column
    export_name: str  # the variable in .dta and .sav
    data_type: str  # DuckDB type as published
    kind: str  # code, boolean, integer, double, date, timestamp, text
    label: str  # variable label, at most LABEL_LIMIT characters
    value_labels: dict[int, str] = field(default_factory=dict)
    extra_values: tuple[str, ...] = ()  # values outside the vocabulary, coded after it
    note: str = ""  # how the exported column differs from the DuckDB one


@dataclass(frozen=True)
class ExportTable:
    schema: str
    name: str
    label: str
    columns: tuple[ExportColumn, ...]
    rows: int

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def stata_file(self) -> str:
        return f"{STATA_DIR}/{self.schema}/{self.name}.dta"

    @property
    def spss_file(self) -> str:
        return f"{SPSS_DIR}/{self.schema}/{self.name}.sav"


@dataclass(frozen=True)
class ExportRules:
    vocabularies: dict[str, tuple[str, ...]]  # "schema.table.column" -> categories in code order
    short_names: dict[str, str]  # "schema.table.column" -> export name


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def short_label(text: str, limit: int = LABEL_LIMIT) -> str:
    """The text if it fits, else its first sentence if that fits, else cut at a word + '…'."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    first = re.split(r"(?<=[.;:])\s", text, maxsplit=1)[0].rstrip(".;:")
    if len(first) <= limit:
        return first
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:(")
    return cut + "…"


def _categories(unit: str | None) -> tuple[str, ...]:
    """The explicit list of a catalog unit 'category: a, b, c' (empty for bare 'category')."""
    if not unit or not unit.startswith("category:"):
        return ()
    return tuple(v.strip() for v in unit.partition(":")[2].split(",") if v.strip())


def _vocabulary(spec: Mapping[str, object]) -> tuple[str, ...]:
    if "contract" in spec:
        table, _, column = str(spec["contract"]).partition(".")
        return tuple(load_contract()[table].column(column).values)
    if "python" in spec:
        module, _, name = str(spec["python"]).rpartition(".")
        return tuple(getattr(importlib.import_module(module), name))
    return tuple(str(v) for v in spec["values"])  # type: ignore[union-attr]


def _contract_values(source: str | None) -> tuple[str, ...]:
    if not source or source.count(".") != 1:
        return ()
    table, column = source.split(".")
    spec = load_contract().get(table)
    if spec is None or column not in spec.column_names:
        return ()
    col = spec.column(column)
    return tuple(col.values) if col.type == "enum" else ()


@cache
def load_rules(path: Path = EXPORTS_PATH) -> ExportRules:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    named = {name: _vocabulary(spec) for name, spec in (raw.get("vocabularies") or {}).items()}
    coded = {column: named[vocab] for column, vocab in (raw.get("coded") or {}).items()}
    return ExportRules(vocabularies=coded, short_names=dict(raw.get("short_names") or {}))


def vocabulary(qualified_column: str, doc: ColumnDoc, rules: ExportRules) -> tuple[str, ...]:
    """The categories of a coded column in code order; empty when the column is not coded."""
    return (
        _contract_values(doc.source)
        or rules.vocabularies.get(qualified_column, ())
        or _categories(doc.unit)
    )


def export_name(column: str, qualified_column: str, taken: set[str], rules: ExportRules) -> str:
    """A name Stata and SPSS both accept: letters, digits and _, starting with a letter, at most
    32 characters, no reserved word, unique within the table (case-insensitively)."""
    name = rules.short_names.get(qualified_column) or column
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not re.match(r"[A-Za-z]", name):
        name = "v" + name
    words = name.split("_")
    while len("_".join(words)) > NAME_LIMIT and any(len(w) > 4 for w in words):
        longest = max(range(len(words)), key=lambda i: (len(words[i]), i))
        words[longest] = words[longest][:4]
    name = "_".join(words)[:NAME_LIMIT]
    if name in _STATA_RESERVED or name.lower() in _SPSS_RESERVED:
        name = (name + "_")[:NAME_LIMIT]
    base, i = name, 1
    while name.lower() in taken:
        i += 1
        suffix = f"_{i}"
        name = base[: NAME_LIMIT - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def _plan_column(
    qualified: str, column: str, data_type: str, doc: ColumnDoc, taken: set[str], rules: ExportRules
) -> ExportColumn:
    where = f"{qualified}.{column}"
    name = export_name(column, where, taken, rules)
    label = short_label(doc.description)
    notes = [] if name == column else [f"named {name} in .dta/.sav (Stata: 32 characters)"]
    base = data_type.split("(")[0].strip()
    if data_type == "VARCHAR":
        categories = vocabulary(where, doc, rules)
        if categories:
            labels = {i + 1: v for i, v in enumerate(categories)}
            note = "; ".join(notes)
            return ExportColumn(column, name, data_type, "code", label, labels, (), note)
        notes.append("text; a missing value is an empty string")
        kind = "text"
    elif data_type == "BOOLEAN":
        return ExportColumn(
            column, name, data_type, "boolean", label, dict(BOOLEAN_LABELS), (), "; ".join(notes)
        )
    elif data_type in _INTEGER_TYPES:
        kind = "integer"
    elif data_type in _DOUBLE_TYPES or base == "DECIMAL":
        kind = "double"
        if data_type not in {"FLOAT", "DOUBLE", "REAL"}:
            notes.append(f"{data_type} written as a double")
    elif data_type == "DATE":
        kind = "date"
    elif data_type == "TIMESTAMP" or data_type.startswith("TIMESTAMP_"):
        kind = "timestamp"
        notes.append("Stata and SPSS keep milliseconds")
    elif data_type == "TIMESTAMP WITH TIME ZONE":
        kind = "timestamp"
        notes.append("converted to UTC; Stata and SPSS keep milliseconds")
    else:
        kind = "text"
        nested = data_type.endswith("]") or base in {"STRUCT", "MAP", "UNION", "LIST"}
        notes.append(
            f"{data_type} written as JSON text" if nested else f"{data_type} written as text"
        )
    return ExportColumn(column, name, data_type, kind, label, {}, (), "; ".join(notes))


def _select(database: str, schema: str, table: str, columns: list[ExportColumn]) -> str:
    exprs = []
    for c in columns:
        ref = _q(c.name)
        base = c.data_type.split("(")[0].strip()
        if c.kind == "text" and c.data_type != "VARCHAR":
            nested = c.data_type.endswith("]") or base in {"STRUCT", "MAP", "UNION", "LIST"}
            cast = f"CAST(to_json({ref}) AS VARCHAR)" if nested else f"CAST({ref} AS VARCHAR)"
            exprs.append(f"{cast} AS {ref}")
        elif c.kind == "double" and c.data_type not in {"DOUBLE"}:
            exprs.append(f"CAST({ref} AS DOUBLE) AS {ref}")
        elif c.data_type == "TIMESTAMP WITH TIME ZONE":
            exprs.append(f"timezone('UTC', {ref}) AS {ref}")
        elif c.kind == "timestamp":
            exprs.append(f"CAST({ref} AS TIMESTAMP) AS {ref}")
        else:
            exprs.append(ref)
    return f"SELECT {', '.join(exprs)} FROM {_q(database)}.{_q(schema)}.{_q(table)}"


def _stats_select(select: str, columns: list[ExportColumn]) -> str:
    """One scan for what the plan needs of the whole table: its rows, every coded column's
    values, integer ranges (Stata's storage type), dates' ranges and text widths in bytes."""
    exprs = ["count(*)"]
    for c in columns:
        ref = _q(c.name)
        if c.kind == "code":
            exprs.append(f"list_sort(list(DISTINCT {ref}) FILTER ({ref} IS NOT NULL))")
        elif c.kind in {"integer", "date"}:
            value = f"date_diff('day', DATE '1970-01-01', {ref})" if c.kind == "date" else ref
            exprs.append(f"[CAST(min({value}) AS DOUBLE), CAST(max({value}) AS DOUBLE)]")
        elif c.kind == "text":
            exprs.append(f"coalesce(max(strlen({ref})), 0)")
        else:
            exprs.append("NULL")
    return f"SELECT {', '.join(exprs)} FROM ({select})"


def _finish(column: ExportColumn, stat: object) -> tuple[ExportColumn, Variable]:
    """The column with its final codes and notes, and the variable both writers store."""
    c = column
    measure = "nominal" if c.kind in {"code", "boolean", "text"} else "scale"
    if c.kind == "code":
        present = sorted(set(stat or []) - set(c.value_labels.values()))  # type: ignore[call-overload]
        labels = dict(c.value_labels)
        for value in present:  # a program's own category: next free code, said in the codebook
            labels[len(labels) + 1] = value
        note = c.note
        if present:
            extra = f"codes {len(c.value_labels) + 1}+ are values outside the vocabulary"
            note = f"{note}; {extra}" if note else extra
        c = replace(c, value_labels=labels, extra_values=tuple(present), note=note)
        return c, Variable(c.export_name, c.label, "integer", value_labels=labels,
                           measure=measure, smallest=1, largest=max(labels, default=1))  # fmt: skip
    if c.kind == "boolean":
        return c, Variable(c.export_name, c.label, "integer", value_labels=dict(c.value_labels),
                           measure=measure, smallest=0, largest=1)  # fmt: skip
    if c.kind == "text":
        return c, Variable(c.export_name, c.label, "text", width=max(int(stat or 0), 1),  # type: ignore[call-overload]
                           measure=measure)  # fmt: skip
    if c.kind in {"integer", "date"}:
        low, high = stat or (None, None)  # type: ignore[misc]
        if (
            c.kind == "integer"
            and low is not None
            and not (STATA_LONG[0] <= low and high <= STATA_LONG[1])
        ):
            extra = "beyond Stata's long: written as a double"
            c = replace(c, note=f"{c.note}; {extra}" if c.note else extra)
        return c, Variable(c.export_name, c.label, c.kind, measure=measure, smallest=low,
                           largest=high)  # fmt: skip
    return c, Variable(c.export_name, c.label, c.kind, measure=measure)


def _numbers(s: pl.Series, c: ExportColumn, codes: dict[str, int]) -> np.ndarray:
    """A chunk's column as float64, NaN for missing (variables.py's layout)."""
    if c.kind == "code":
        s = s.replace_strict(codes, default=None, return_dtype=pl.Float64)
    elif c.kind == "date":
        s = s.cast(pl.Int32)
    elif c.kind == "timestamp":
        s = s.cast(pl.Datetime("ms")).dt.epoch("ms")
    return s.cast(pl.Float64).to_numpy()


def _padded_select(select: str, columns: list[ExportColumn], variables: list[Variable]) -> str:
    """The select with every text value NUL-padded to its column's width in bytes (DuckDB's
    strlen counts bytes), so a chunk's text is one contiguous (rows, width) block."""
    exprs = []
    for c, v in zip(columns, variables, strict=True):
        ref = _q(c.name)
        if v.is_text:
            value = f"coalesce({ref}, '')"
            exprs.append(f"{value} || repeat(chr(0), {v.width} - strlen({value})) AS {ref}")
        else:
            exprs.append(ref)
    return f"SELECT {', '.join(exprs)} FROM ({select})"


def _chunks(
    con: duckdb.DuckDBPyConnection,
    select: str,
    columns: list[ExportColumn],
    variables: list[Variable],
) -> Iterator[list[np.ndarray]]:
    codes = [{v: k for k, v in c.value_labels.items()} for c in columns]
    reader = con.sql(_padded_select(select, columns, variables)).to_arrow_reader(CHUNK_ROWS)
    for batch in reader:
        chunk = []
        for i, (c, v, code) in enumerate(zip(columns, variables, codes, strict=True)):
            if v.is_text:
                chunk.append(text_matrix(batch.column(i), v.width))
            else:
                chunk.append(_numbers(pl.Series(c.name, batch.column(i)), c, code))
        yield chunk


def _whole_frame(chunks: list[list[np.ndarray]], variables: list[Variable]) -> pl.DataFrame:
    """For pyreadstat, which takes a whole frame: the chunks as typed columns."""
    out = []
    for i, v in enumerate(variables):
        parts = [chunk[i] for chunk in chunks]
        if v.is_text:
            matrix = np.concatenate(parts) if parts else np.zeros((0, v.width), np.uint8)
            texts = [bytes(row).rstrip(b"\0").decode("utf-8") for row in matrix]
            out.append(pl.Series(v.name, texts, dtype=pl.String))
            continue
        values = pl.Series(v.name, np.concatenate(parts) if parts else [], dtype=pl.Float64)
        values = values.fill_nan(None)
        if v.display == "date":
            values = values.cast(pl.Int32).cast(pl.Date)
        elif v.display == "timestamp":
            values = values.cast(pl.Int64).cast(pl.Datetime("ms")).cast(pl.Datetime("us"))
        elif v.display == "integer" and _within_long(v):
            values = values.cast(pl.Int32)
        out.append(values)
    return pl.DataFrame(out)


def _within_long(v: Variable) -> bool:
    return v.smallest is None or (STATA_LONG[0] <= v.smallest and v.largest <= STATA_LONG[1])  # type: ignore[operator]


def _write_with_pyreadstat(
    fmt: str, frame: pl.DataFrame, variables: list[Variable], path: Path, label: str
) -> None:
    """Text too wide for our writers (strL, SPSS very long strings): ReadStat's writer, which
    holds the whole table; only small tables (meta.columns) have such text."""
    import pyreadstat  # noqa: PLC0415 - only this fallback needs it

    labels = {v.name: v.label for v in variables}
    value_labels = {v.name: v.value_labels for v in variables if v.value_labels}
    if fmt == "stata":
        pyreadstat.write_dta(
            frame, path, file_label=label, column_labels=labels, variable_value_labels=value_labels
        )
    else:
        measure = {v.name: v.measure for v in variables}
        pyreadstat.write_sav(
            frame, path, file_label=label, column_labels=labels,
            variable_value_labels=value_labels, variable_measure=measure, compress=True,
        )  # fmt: skip


# Where ReadStat puts the time it wrote a file: SPSS's header holds "dd mmm yy" and "hh:mm:ss"
# after 92 bytes of fixed fields; Stata 118's <timestamp> holds a length byte and
# "dd Mon yyyy hh:mm" (as models.publish.stata_file writes them).
_SAV_STAMP = slice(92, 109)
_DTA_STAMP = b"<timestamp>\x11"


def _stamp(fmt: str, path: Path, created: dt.datetime) -> None:
    """Put `created` where ReadStat wrote the wall-clock time, so that the same table written
    again is the same file (as the streamed writers' are): a file's bytes then depend on the
    snapshot, not on the minute it was written in."""
    with path.open("r+b") as fh:
        head = fh.read(4096)
        if fmt == "spss" and head.startswith(b"$FL"):
            when = created.strftime("%d %b %y") + created.strftime("%H:%M:%S")
            fh.seek(_SAV_STAMP.start)
            fh.write(when.encode("ascii"))
        elif fmt == "stata" and (at := head.find(_DTA_STAMP)) >= 0:
            fh.seek(at + len(_DTA_STAMP))
            fh.write(created.strftime("%d %b %Y %H:%M").encode("ascii"))


def _write(
    con: duckdb.DuckDBPyConnection,
    select: str,
    export: ExportTable,
    variables: list[Variable],
    folder: Path,
    created: dt.datetime,
) -> None:
    targets = {"stata": folder / export.stata_file, "spss": folder / export.spss_file}
    streamed = {"stata": stata_file.fits(variables), "spss": spss_file.fits(variables)}
    for path in targets.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    writers: list[DtaWriter | SavWriter] = []
    if streamed["stata"]:
        writers.append(DtaWriter(targets["stata"], variables, export.rows, export.label, created))
    if streamed["spss"]:
        writers.append(SavWriter(targets["spss"], variables, export.rows, export.label, created))
    kept: list[list[np.ndarray]] = []
    try:
        for chunk in _chunks(con, select, list(export.columns), variables):
            for writer in writers:
                writer.write(chunk)
            if not all(streamed.values()):
                kept.append(chunk)
        for writer in writers:
            writer.close()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    if kept or not all(streamed.values()):
        frame = _whole_frame(kept, variables)
        for fmt, path in targets.items():
            if not streamed[fmt]:
                _write_with_pyreadstat(fmt, frame, variables, path, export.label)
                _stamp(fmt, path, created)


def _code_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in (Path(__file__), here / "stata_file.py", here / "spss_file.py",
                 here / "variables.py", EXPORTS_PATH):  # fmt: skip
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _link(previous: Path, folder: Path, export: ExportTable) -> bool:
    """Hard-link the previous version's two files of the table; False if they cannot be."""
    names = (export.stata_file, export.spss_file)
    return link_intact(previous, {name: folder / name for name in names})


def previous_fingerprints(previous: Path | None) -> dict[str, str]:
    return reuse.previous_fingerprints(previous, FINGERPRINTS)


def write_labelled(
    con: duckdb.DuckDBPyConnection,
    database: str,
    catalog: Catalog,
    folder: Path,
    created: dt.datetime | None = None,
    previous: Path | None = None,
    contents: Mapping[tuple[str, str], str] | None = None,
) -> list[ExportTable]:
    """Write folder/stata/<schema>/<table>.dta and folder/spss/<schema>/<table>.sav for every
    table of the attached snapshot `database`; return what was written (for the codebook).

    Rows are streamed a chunk at a time into both files (memory: a chunk, not a table);
    `created` is the files' time stamp (the snapshot's, so a table written again is the same).
    previous: the last version's folder. A table whose rows, plan and writers' code are those
    of a table there is hard-linked from it instead of written again: the same rows (in the
    order that version wrote them) and the time stamp of the version that first wrote them.
    Each table's fingerprint goes to folder/labelled_fingerprints.json; `contents` may hold
    the tables' rows as multisets already (reuse.table_content over every column, in order),
    which the fingerprints then reuse. Tables are read through
    cursors of `con` (LABELLED_THREADS at a time), which see what `con` has committed: call it
    outside a transaction."""
    rules = load_rules()
    published = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? ORDER BY schema_name, table_name, column_index",
        [database],
    ).fetchall()
    by_table: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in published:
        by_table.setdefault((schema, table), []).append((column, data_type))
    created = created or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    code, before = _code_digest(), previous_fingerprints(previous)

    # Set by the first table that fails (or an interrupt): tables not yet begun are skipped, as
    # when they were written one after the other.
    stop = threading.Event()

    def one(schema: str, table: str, columns: list[tuple[str, str]]) -> tuple[ExportTable, str]:
        if stop.is_set():
            raise _Skipped(f"{schema}.{table}")
        # A cursor per table: DuckDB runs each in its own thread state, and the writers' numpy
        # work and file writes let the other table's thread run.
        cursor = con.cursor()
        try:
            return _export_table(
                cursor, database, catalog, rules, (schema, table), columns,
                code, before, folder, created, previous, (contents or {}).get((schema, table)),
            )  # fmt: skip
        except BaseException:
            stop.set()
            raise
        finally:
            cursor.close()

    # LABELLED_THREADS tables at a time, the largest first (no long table left to run alone at
    # the end); a file is the same bytes whichever thread writes it, in whatever order.
    sizes = dict(
        ((schema, table), rows)
        for schema, table, rows in con.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
            "WHERE database_name = ?",
            [database],
        ).fetchall()
    )
    order = sorted(by_table, key=lambda name: -(sizes.get(name) or 0))
    pool = ThreadPoolExecutor(max_workers=LABELLED_THREADS)
    try:
        futures = {name: pool.submit(one, *name, by_table[name]) for name in order}
        finished, _ = wait(list(futures.values()), return_when=FIRST_EXCEPTION)
        errors = [e for f in finished if (e := f.exception()) is not None]
        if errors:
            raise next((e for e in errors if not isinstance(e, _Skipped)), errors[0])
        done = [futures[name].result() for name in by_table]
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    prints = {export.qualified: digest for export, digest in done}
    (folder / FINGERPRINTS).write_text(json.dumps(prints, indent=1) + "\n", encoding="utf-8")
    return [export for export, _ in done]


class _Skipped(RuntimeError):
    """A table not begun because another failed first."""


def _export_table(
    con: duckdb.DuckDBPyConnection,
    database: str,
    catalog: Catalog,
    rules: ExportRules,
    name: tuple[str, str],
    columns: list[tuple[str, str]],
    code: str,
    before: Mapping[str, str],
    folder: Path,
    created: dt.datetime,
    previous: Path | None,
    content: str | None = None,
) -> tuple[ExportTable, str]:
    """One table's two files, written or linked from `previous`; with its fingerprint
    (`content`: the table's rows as a multiset, when already known)."""
    schema, table = name
    doc = catalog.table(schema, table)
    if doc is None:  # cannot happen: the publisher writes catalogued tables only
        raise RuntimeError(f"{schema}.{table} is not in the catalog")
    taken: set[str] = set()
    planned = [
        _plan_column(doc.qualified, column, dtype, doc.columns[column], taken, rules)
        for column, dtype in columns
    ]
    select = _select(database, schema, table, planned)
    (stats,) = con.execute(_stats_select(select, planned)).fetchall()
    finished = [_finish(c, stat) for c, stat in zip(planned, stats[1:], strict=True)]
    export = ExportTable(
        schema, table, short_label(doc.description), tuple(c for c, _ in finished), stats[0]
    )
    digest = hashlib.sha256(code.encode())
    # The plan, not the name the snapshot is attached under.
    plan = _select("snapshot", schema, table, planned)
    if content is None:
        content = table_content(con, database, schema, table, [c for c, _ in columns])
    for part in (plan, repr(export), content):
        digest.update(part.encode())
    fingerprint = digest.hexdigest()
    same = before.get(export.qualified) == fingerprint
    if not (same and previous is not None and _link(previous, folder, export)):
        _write(con, select, export, [v for _, v in finished], folder, created)
    return export, fingerprint
