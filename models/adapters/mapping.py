"""A program's `mapping.yaml`: how its own export folder maps onto the canonical tables.

The file is read as plain YAML only (models/adapters/safe_yaml.py: no object-building tags, no
anchors or aliases), so it can never construct Python objects or expand into a memory bomb, and
every path in it must stay inside the export folder. Mistakes raise `MappingError` naming the
file and the key; a value echoed in a message is cut to about 80 characters. The format is
documented in docs/mapping.md.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml

from models.adapters.calendar import MatchResolver, pair_resolver, summary_pattern_resolver
from models.adapters.dates import iso_text, offset_utc_text, parse_date_any, parse_timestamp_any
from models.adapters.safe_yaml import (
    ECHO_CHARS,
    YamlAliasError,
    YamlNestingError,
    load_plain_yaml,
    short,
)
from models.adapters.survey_formats import SURVEY_FORMATS
from models.adapters.surveys import SurveyMapping, labels_from_codebook
from models.adapters.text_table import DELIMITERS

_MODELS = Path(__file__).resolve().parents[1]
TABLES_YAML = _MODELS / "contract" / "tables.yaml"
INSTRUMENTS = _MODELS / "instruments"

_TOP_KEYS = {
    "version", "program_id", "timezone", "date_format", "encoding", "delimiter",
    "tables", "surveys", "calendars",
}  # fmt: skip
_TABLE_KEYS = {
    "files", "rename", "recode", "constants", "date_formats", "encoding", "delimiter", "timezone",
}  # fmt: skip
_SURVEY_KEYS = {
    "file", "format", "survey", "instrument", "items", "participant_column",
    "submitted_at_column", "response_id_column", "date_format", "labels", "item_labels",
    "recode", "exclude", "na_values", "encoding", "delimiter", "timezone",
}  # fmt: skip
_CALENDAR_KEYS = {"file", "timezone", "match_by", "summary_pattern", "matches"}
MATCH_BY = ("emails", "summary", "explicit")


class MappingError(ValueError):
    """mapping.yaml is unsafe, malformed or does not fit the export."""


@dataclass(frozen=True)
class TableMapping:
    files: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)
    recode: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class SurveySource:
    file: Path
    mapping: SurveyMapping
    instrument: str | None = None


@dataclass(frozen=True)
class CalendarSource:
    file: Path
    timezone: str | None = None
    match_by: str = "emails"
    summary_pattern: str | None = None
    matches: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    source: Path
    export_root: Path
    program_id: str | None = None
    timezone: str | None = None
    date_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    tables: dict[str, TableMapping] = field(default_factory=dict)
    surveys: tuple[SurveySource, ...] = ()
    calendars: tuple[CalendarSource, ...] = ()

    def table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping())


@cache
def contract_tables() -> dict[str, Any]:
    with open(TABLES_YAML, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class _Reader:
    """Validation helpers that know which file they read, for error messages."""

    def __init__(self, source: Path, export_root: Path) -> None:
        self.source = source
        self.root = export_root.resolve()

    def fail(self, key: str, message: str) -> MappingError:
        if len(key) > 2 * ECHO_CHARS:  # a key path holds the file's own keys: keep it short
            key = key[: 2 * ECHO_CHARS - 3] + "..."
        return MappingError(f"{self.source}: {key}: {message}")

    def mapping(self, value: object, key: str, allowed: set[str] | None = None) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        for k in value:
            if isinstance(k, bool):
                raise self.fail(key, f"key {short(k)} is a YAML boolean; quote it (e.g. 'Yes')")
        if allowed is not None:
            unknown = sorted(str(k) for k in value if k not in allowed)
            if unknown:
                raise self.fail(key, f"unknown key(s) {short(unknown)}; allowed: {sorted(allowed)}")
        return value

    def text(self, value: object, key: str, required: bool = False) -> str | None:
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise self.fail(key, f"expected text, got {type(value).__name__}")

    def text_map(self, value: object, key: str) -> dict[str, str]:
        return {
            str(k): str(self.text(v, f"{key}.{k}", True))
            for k, v in self.mapping(value, key).items()
        }

    def text_list(self, value: object, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {type(value).__name__}")
        return tuple(str(self.text(v, f"{key}[{i}]", True)) for i, v in enumerate(value))

    def timezone(self, value: object, key: str) -> str | None:
        name = self.text(value, key)
        if name is None:
            return None
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.fail(
                key, f"{short(name)} is not an IANA time zone (e.g. Europe/Berlin)"
            ) from exc
        return name

    def encoding(self, value: object, key: str) -> str | None:
        name = self.text(value, key)
        if name is None:
            return None
        try:
            codecs.lookup(name)
        except LookupError as exc:
            raise self.fail(key, f"unknown encoding {short(name)}") from exc
        return name

    def delimiter(self, value: object, key: str) -> str | None:
        sep = self.text(value, key)
        if sep is None:
            return None
        sep = "\t" if sep in {"\\t", "tab"} else sep
        if sep not in (*DELIMITERS, "|"):
            raise self.fail(key, f"delimiter {short(sep)} is not one of , ; tab |")
        return sep

    def date_format(self, value: object, key: str) -> str | None:
        fmt = self.text(value, key)
        if fmt is not None and "%" not in fmt:
            raise self.fail(key, f"{short(fmt)} is not a strftime format (e.g. '%d/%m/%Y')")
        return fmt

    def relative(self, value: str, key: str) -> None:
        for pure in (PurePosixPath(value), PureWindowsPath(value)):
            if pure.is_absolute() or pure.anchor or ".." in pure.parts:
                raise self.fail(
                    key, f"path {short(value)} must be relative to the export folder, without '..'"
                )

    def path(self, value: object, key: str) -> Path:
        text = self.text(value, key, required=True)
        assert text is not None
        self.relative(text, key)
        resolved = (self.root / text).resolve()
        if not resolved.is_relative_to(self.root):
            raise self.fail(
                key, f"path {short(text)} resolves outside the export folder {self.root}"
            )
        if not resolved.is_file():
            raise self.fail(key, f"file {short(text)} not found in the export folder {self.root}")
        return resolved


def load_mapping(path: Path, export_root: Path) -> Mapping:
    """Read and check a mapping.yaml; MappingError names the file and key of any problem."""
    path = Path(path)
    reader = _Reader(path, Path(export_root))
    try:
        raw = load_plain_yaml(path)
    except (YamlAliasError, YamlNestingError) as exc:
        raise MappingError(f"{path} {exc}") from None
    except yaml.constructor.ConstructorError as exc:
        raise MappingError(
            f"{path}: only plain YAML is allowed, not tags that build objects: {exc.problem}"
            f" {exc.problem_mark or ''}".rstrip()
        ) from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise MappingError(f"{path}: not valid YAML: {short(str(exc))}") from None
    top = reader.mapping(raw, "(top level)", _TOP_KEYS)
    contract = contract_tables()

    tables: dict[str, TableMapping] = {}
    for name, spec in reader.mapping(top.get("tables"), "tables").items():
        key = f"tables.{name}"
        if name not in contract:
            raise reader.fail(key, f"unknown table; the contract tables are {list(contract)}")
        tables[name] = _table(reader, key, reader.mapping(spec, key, _TABLE_KEYS), contract[name])

    surveys = tuple(
        _survey(reader, f"surveys[{i}]", spec)
        for i, spec in enumerate(_items(reader, top, "surveys"))
    )
    calendars = tuple(
        _calendar(reader, f"calendars[{i}]", spec)
        for i, spec in enumerate(_items(reader, top, "calendars"))
    )
    return Mapping(
        source=path,
        export_root=reader.root,
        program_id=reader.text(top.get("program_id"), "program_id"),
        timezone=reader.timezone(top.get("timezone"), "timezone"),
        date_format=reader.date_format(top.get("date_format"), "date_format"),
        encoding=reader.encoding(top.get("encoding"), "encoding"),
        delimiter=reader.delimiter(top.get("delimiter"), "delimiter"),
        tables=tables,
        surveys=surveys,
        calendars=calendars,
    )


def _items(reader: _Reader, top: dict, key: str) -> list:
    value = top.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise reader.fail(key, "expected a list of entries")
    return value


def _table(reader: _Reader, key: str, spec: dict, contract: dict) -> TableMapping:
    columns = set(contract["columns"])
    rename = reader.text_map(spec.get("rename"), f"{key}.rename")
    for source, target in rename.items():
        if target not in columns:
            raise reader.fail(
                f"{key}.rename.{source}",
                f"target {short(target)} is not a column of the table; "
                f"columns are {sorted(columns)}",
            )
    recode = {
        str(col): reader.text_map(values, f"{key}.recode.{col}")
        for col, values in reader.mapping(spec.get("recode"), f"{key}.recode").items()
    }
    for pattern in reader.text_list(spec.get("files"), f"{key}.files"):
        reader.relative(pattern, f"{key}.files")
    date_formats = {
        str(col): str(reader.date_format(fmt, f"{key}.date_formats.{col}"))
        for col, fmt in reader.mapping(spec.get("date_formats"), f"{key}.date_formats").items()
    }
    return TableMapping(
        files=reader.text_list(spec.get("files"), f"{key}.files"),
        rename=rename,
        recode=recode,
        constants=reader.text_map(spec.get("constants"), f"{key}.constants"),
        date_formats=date_formats,
        encoding=reader.encoding(spec.get("encoding"), f"{key}.encoding"),
        delimiter=reader.delimiter(spec.get("delimiter"), f"{key}.delimiter"),
        timezone=reader.timezone(spec.get("timezone"), f"{key}.timezone"),
    )


def _numbers(reader: _Reader, value: object, key: str) -> dict[str, float]:
    out = {}
    for label, number in reader.mapping(value, key).items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise reader.fail(f"{key}.{label}", f"expected a number, got {short(number)}")
        out[str(label)] = float(number)
    return out


def _survey(reader: _Reader, key: str, raw: object) -> SurveySource:
    spec = reader.mapping(raw, key, _SURVEY_KEYS)
    file = reader.path(spec.get("file"), f"{key}.file")
    fmt = reader.text(spec.get("format"), f"{key}.format")
    if fmt is not None and fmt not in SURVEY_FORMATS:
        raise reader.fail(f"{key}.format", f"{short(fmt)} is not one of {list(SURVEY_FORMATS)}")
    instrument = reader.text(spec.get("instrument"), f"{key}.instrument")
    labels: dict[str, float] = {}
    if instrument is not None:
        # A name from the list, never a path: "/elsewhere/x" would otherwise pick any YAML file.
        known = sorted(p.stem for p in INSTRUMENTS.glob("*.yaml"))
        if instrument not in known:
            raise reader.fail(
                f"{key}.instrument", f"no codebook {short(instrument)}; known: {known}"
            )
        labels = labels_from_codebook(INSTRUMENTS / f"{instrument}.yaml")
    labels |= _numbers(reader, spec.get("labels"), f"{key}.labels")
    item_labels = {
        str(item): _numbers(reader, table, f"{key}.item_labels.{item}")
        for item, table in reader.mapping(spec.get("item_labels"), f"{key}.item_labels").items()
    }
    exclude_raw = spec.get("exclude")
    exclude = None
    if exclude_raw is not None:
        exclude = {
            str(col): reader.text_list(values, f"{key}.exclude.{col}")
            for col, values in reader.mapping(exclude_raw, f"{key}.exclude").items()
        }
    items = reader.text_map(spec.get("items"), f"{key}.items")
    if not items and fmt != "canonical_long":
        raise reader.fail(f"{key}.items", "map at least one export column to an item_id")
    mapping = SurveyMapping(
        survey=str(reader.text(spec.get("survey"), f"{key}.survey", required=True)),
        items=items,
        participant_column=reader.text(spec.get("participant_column"), f"{key}.participant_column"),
        submitted_at_column=reader.text(
            spec.get("submitted_at_column"), f"{key}.submitted_at_column"
        ),
        date_format=reader.date_format(spec.get("date_format"), f"{key}.date_format"),
        response_id_column=reader.text(spec.get("response_id_column"), f"{key}.response_id_column"),
        labels=labels,
        item_labels=item_labels,
        recode=reader.text_map(spec.get("recode"), f"{key}.recode"),
        exclude=exclude,
        na_values=reader.text_list(spec.get("na_values"), f"{key}.na_values"),
        format=fmt,
        encoding=reader.encoding(spec.get("encoding"), f"{key}.encoding"),
        delimiter=reader.delimiter(spec.get("delimiter"), f"{key}.delimiter"),
        timezone=reader.timezone(spec.get("timezone"), f"{key}.timezone"),
    )
    return SurveySource(file, mapping, instrument)


def _calendar(reader: _Reader, key: str, raw: object) -> CalendarSource:
    spec = reader.mapping(raw, key, _CALENDAR_KEYS)
    match_by = reader.text(spec.get("match_by"), f"{key}.match_by") or (
        "explicit" if spec.get("matches") else "emails"
    )
    if match_by not in MATCH_BY:
        raise reader.fail(f"{key}.match_by", f"{short(match_by)} is not one of {list(MATCH_BY)}")
    pattern = reader.text(spec.get("summary_pattern"), f"{key}.summary_pattern")
    if match_by == "summary":
        import re

        try:
            compiled = re.compile(pattern or "")
        except re.error as exc:
            raise reader.fail(
                f"{key}.summary_pattern", f"invalid regular expression: {exc}"
            ) from exc
        if "match_id" not in compiled.groupindex:
            raise reader.fail(
                f"{key}.summary_pattern", "needs a named group (?P<match_id>...) for the match id"
            )
    matches = {
        str(m): reader.text_list(emails, f"{key}.matches.{m}")
        for m, emails in reader.mapping(spec.get("matches"), f"{key}.matches").items()
    }
    if match_by == "explicit" and not matches:
        raise reader.fail(f"{key}.matches", "match_by: explicit needs match_id: [emails] entries")
    return CalendarSource(
        file=reader.path(spec.get("file"), f"{key}.file"),
        timezone=reader.timezone(spec.get("timezone"), f"{key}.timezone"),
        match_by=match_by,
        summary_pattern=pattern,
        matches=matches,
    )


def calendar_resolver(
    source: CalendarSource, emails_by_match: AbcMapping[str, Iterable[str]] | None = None
) -> MatchResolver:
    """The match rule a calendar entry declares. `emails` needs the pipeline's
    match_id -> (mentor email, mentee email) table from the restricted schema."""
    if source.match_by == "summary":
        return summary_pattern_resolver(str(source.summary_pattern))
    if source.match_by == "explicit":
        return pair_resolver(source.matches)
    if emails_by_match is None:
        raise MappingError(f"{source.file}: match_by emails needs the participants' emails")
    return pair_resolver(emails_by_match)


# --- applying a table mapping to a frame -------------------------------------------------------


def _data_columns(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if not c.startswith("_")]


def _missing(mapping: Mapping, key: str, column: str, df: pl.DataFrame, stage: str) -> MappingError:
    return MappingError(
        f"{mapping.source}: {key}: column {short(column)} is not in the file{stage}; "
        f"its columns are {_data_columns(df)}"
    )


def apply_renames(df: pl.DataFrame, table: str, mapping: Mapping) -> pl.DataFrame:
    """Rename export columns to canonical ones, as `tables.<table>.rename` says."""
    rename = mapping.table(table).rename
    for source, target in rename.items():
        if source not in df.columns:
            raise _missing(mapping, f"tables.{table}.rename.{source}", source, df, "")
        if target in df.columns and target not in rename:
            raise MappingError(
                f"{mapping.source}: tables.{table}.rename.{source}: the file already has a "
                f"column {short(target)}; columns are {_data_columns(df)}"
            )
    return df.rename(rename)


def apply_recodes(df: pl.DataFrame, table: str, mapping: Mapping) -> pl.DataFrame:
    """Replace a program's spellings with canonical values (matched ignoring case and padding);
    values the recode does not list are kept for the normalisation step to judge."""
    exprs = []
    for column, values in mapping.table(table).recode.items():
        if column not in df.columns:
            raise _missing(
                mapping, f"tables.{table}.recode.{column}", column, df, " (after renames)"
            )
        lookup = {" ".join(k.split()).casefold(): v for k, v in values.items()}
        original = pl.col(column).cast(pl.String)
        key = original.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()
        exprs.append(
            key.replace_strict(lookup, default=original, return_dtype=pl.String).alias(column)
        )
    return df.with_columns(exprs) if exprs else df


def apply_constants(df: pl.DataFrame, table: str, mapping: Mapping) -> pl.DataFrame:
    """Add constant columns (`tables.<table>.constants`, and the top-level program_id for tables
    that have one). An explicit constant may not overwrite a column the file already has."""
    constants = dict(mapping.table(table).constants)
    for column in constants:
        if column in df.columns:
            raise MappingError(
                f"{mapping.source}: tables.{table}.constants.{column}: the file already has this "
                f"column; remove the constant or the column (columns are {_data_columns(df)})"
            )
    contract = contract_tables().get(table, {}).get("columns", {})
    if mapping.program_id and "program_id" in contract and "program_id" not in df.columns:
        constants.setdefault("program_id", mapping.program_id)
    return df.with_columns(pl.lit(v, dtype=pl.String).alias(c) for c, v in constants.items())


def apply_date_formats(df: pl.DataFrame, table: str, mapping: Mapping) -> pl.DataFrame:
    """Rewrite the table's date and timestamp columns as ISO text using the declared formats
    (per column, else the mapping's `date_format`, else the built-in month-first list).
    Values no format fits are kept as written, so the ingest's type check quarantines them."""
    spec = mapping.table(table)
    contract = contract_tables().get(table, {}).get("columns", {})
    zone = spec.timezone or mapping.timezone
    for column in spec.date_formats:
        if column not in df.columns:
            key = f"tables.{table}.date_formats.{column}"
            raise _missing(mapping, key, column, df, " (after renames)")
    exprs = []
    for column, meta in contract.items():
        kind = meta.get("type")
        if kind not in {"date", "timestamp"} or column not in df.columns:
            continue
        fmt = spec.date_formats.get(column) or mapping.date_format
        formats = [fmt] if fmt else None
        raw = df[column].cast(pl.String)
        # One clock: a value with an offset becomes local time in the mapping's zone; without
        # a mapping zone it keeps its instant (as UTC text) for the row rules, which convert it
        # to the zone of the row's program (programs.timezone).
        instant = offset_utc_text(raw)
        if kind == "date":
            parsed = parse_date_any(raw, formats)
            assert isinstance(parsed, pl.Series)
            text = parsed.dt.strftime("%Y-%m-%d")
            if zone:
                local = parse_timestamp_any(raw, None, zone)
                assert isinstance(local, pl.Series)
                instant = local.dt.strftime("%Y-%m-%d").zip_with(instant.is_not_null(), instant)
        else:
            parsed = parse_timestamp_any(raw, formats, zone)
            assert isinstance(parsed, pl.Series)
            text = iso_text(parsed)
            if zone:
                instant = pl.Series(column, [None] * len(raw), dtype=pl.String)
        exprs.append(pl.coalesce(instant, text, raw).alias(column))
    return df.with_columns(exprs) if exprs else df


def apply_table_mapping(df: pl.DataFrame, table: str, mapping: Mapping) -> pl.DataFrame:
    """Renames, then recodes, constants and date formats."""
    df = apply_renames(df, table, mapping)
    df = apply_recodes(df, table, mapping)
    df = apply_constants(df, table, mapping)
    return apply_date_formats(df, table, mapping)
