"""Every table of the research snapshot as Stata (.dta) and SPSS (.sav), labelled from the catalog.

Variable labels are the catalog's column descriptions (cut to Stata's 80 characters; the whole
text is in the codebook). Coded text columns become numeric codes with value labels, booleans
0/1 labelled false/true (exports.yaml says which columns are coded and from which vocabulary).
What the formats cannot hold as DuckDB does is converted and said in `ExportColumn.note`, which
the codebook prints: names longer than 32 characters, nested and INTERVAL values (text),
missing text (an empty string), time stamps (milliseconds, UTC for time-zoned ones).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import polars as pl
import yaml

from models.contract.spec import load_contract
from models.publish.catalog import Catalog, ColumnDoc

EXPORTS_PATH = Path(__file__).with_name("exports.yaml")
STATA_DIR = "stata"
SPSS_DIR = "spss"
NAME_LIMIT = 32  # Stata; SPSS allows 64, one name per column across formats is simpler to use
LABEL_LIMIT = 80  # Stata variable, file and (our) value labels
# Stata's long: -2,147,483,647 .. 2,147,483,620; wider integers are written as doubles.
STATA_LONG = (-2_147_483_647, 2_147_483_620)
BOOLEAN_LABELS: dict[int, str] = {0: "false", 1: "true"}

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


def _convert(frame: pl.DataFrame, columns: list[ExportColumn]) -> tuple[pl.DataFrame, list]:
    """The frame as the formats store it, and the columns with their final codes and notes."""
    out, final = [], []
    for c in columns:
        s = frame[c.name]
        if c.kind == "code":
            present = sorted(set(s.drop_nulls().unique().to_list()) - set(c.value_labels.values()))
            labels = dict(c.value_labels)
            for value in present:  # a program's own category: next free code, said in the codebook
                labels[len(labels) + 1] = value
            codes = {v: k for k, v in labels.items()}
            s = s.replace_strict(codes, default=None, return_dtype=pl.Int32)
            note = c.note
            if present:
                extra = f"codes {len(c.value_labels) + 1}+ are values outside the vocabulary"
                note = f"{note}; {extra}" if note else extra
            c = ExportColumn(
                c.name, c.export_name, c.data_type, c.kind, c.label, labels, tuple(present), note
            )
        elif c.kind == "boolean":
            s = s.cast(pl.Int8)
        elif c.kind == "integer":
            low, high = s.min(), s.max()
            fits = low is None or (STATA_LONG[0] <= low and high <= STATA_LONG[1])  # type: ignore[operator]
            s = s.cast(pl.Int32 if fits else pl.Float64)
            if not fits:
                note = "beyond Stata's long: written as a double"
                c = ExportColumn(
                    c.name, c.export_name, c.data_type, c.kind, c.label, {}, (),
                    f"{c.note}; {note}" if c.note else note,
                )  # fmt: skip
        elif c.kind == "double":
            s = s.cast(pl.Float64)
        elif c.kind == "timestamp":
            s = s.cast(pl.Datetime("us"))
        out.append(s.alias(c.export_name))
        final.append(c)
    return pl.DataFrame(out), final


def _write(frame: pl.DataFrame, table: ExportTable, folder: Path) -> None:
    import pyreadstat  # noqa: PLC0415 - only the publish step needs it

    labels = {c.export_name: c.label for c in table.columns}
    value_labels = {c.export_name: c.value_labels for c in table.columns if c.value_labels}
    measure = {
        c.export_name: "nominal" if c.kind in {"code", "boolean", "text"} else "scale"
        for c in table.columns
    }
    stata, spss = folder / table.stata_file, folder / table.spss_file
    stata.parent.mkdir(parents=True, exist_ok=True)
    spss.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_dta(
        frame, stata, file_label=table.label, column_labels=labels,
        variable_value_labels=value_labels,
    )  # fmt: skip
    pyreadstat.write_sav(
        frame, spss, file_label=table.label, column_labels=labels,
        variable_value_labels=value_labels, variable_measure=measure, compress=True,
    )  # fmt: skip


def write_labelled(
    con: duckdb.DuckDBPyConnection, database: str, catalog: Catalog, folder: Path
) -> list[ExportTable]:
    """Write folder/stata/<schema>/<table>.dta and folder/spss/<schema>/<table>.sav for every
    table of the attached snapshot `database`; return what was written (for the codebook)."""
    rules = load_rules()
    published = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? ORDER BY schema_name, table_name, column_index",
        [database],
    ).fetchall()
    by_table: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in published:
        by_table.setdefault((schema, table), []).append((column, data_type))
    written = []
    for (schema, table), columns in by_table.items():
        doc = catalog.table(schema, table)
        if doc is None:  # cannot happen: the publisher writes catalogued tables only
            raise RuntimeError(f"{schema}.{table} is not in the catalog")
        taken: set[str] = set()
        planned = [
            _plan_column(doc.qualified, name, dtype, doc.columns[name], taken, rules)
            for name, dtype in columns
        ]
        frame = con.sql(_select(database, schema, table, planned)).pl()
        converted, final = _convert(frame, planned)
        export = ExportTable(
            schema, table, short_label(doc.description), tuple(final), converted.height
        )
        _write(converted, export, folder)
        written.append(export)
    return written
