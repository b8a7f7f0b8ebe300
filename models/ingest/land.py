"""Land a table's export files as text rows with their lineage, checking the folder is usable.

Besides canonical table files, a file may come through an adapter (models/adapters): a survey
tool's export melted to ``survey_responses`` rows, or an iCalendar file expanded to ``meetings``.
What an adapter could not use (a preview response, an unknown respondent, a malformed event)
lands as one *rejection row*: the contract columns that are safe to show, plus ``_reject_rule``,
``_reject_column`` and ``_reject_reason``. The row rules send such a row straight to
``quarantine.rejected_rows``, so rows read = kept + quarantined + duplicates still holds per
file. Rejection rows never carry names or email addresses: adapters may see them (respondent
keys, attendees), so reasons are written or scrubbed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from models.adapters.calendar import ics_to_meetings
from models.adapters.mapping import (
    CalendarSource,
    Mapping,
    MappingError,
    SurveySource,
    apply_constants,
    apply_date_formats,
    apply_recodes,
    apply_renames,
    calendar_resolver,
)
from models.adapters.rejection import Rejection
from models.adapters.survey_formats import SurveyFormatError
from models.adapters.surveys import SurveyMappingError, survey_to_long
from models.contract import TableSpec
from models.ingest.discover import ExportFile
from models.ingest.errors import ExportError
from models.ingest.read import SOURCE_ROW, normalise_header, read_export_file

LINEAGE_COLUMNS = ("_source_file", "_source_row", "_file_sha256", "_loaded_at")
REJECT_RULE, REJECT_COLUMN, REJECT_REASON = "_reject_rule", "_reject_column", "_reject_reason"
REJECT_COLUMNS = (REJECT_RULE, REJECT_COLUMN, REJECT_REASON)
MAX_REASON = 300

# The contract column an adapter rule is about (quarantine.rejected_rows.column_name).
RULE_COLUMNS = {
    "unknown_participant": "participant_id",
    "no_match": "match_id",
    "ambiguous_match": "match_id",
}
_EMAIL = re.compile(r"[\w.+'%-]+@[\w-]+(?:\.[\w-]+)+")
_MAILTO = re.compile(r"(?i)mailto:[^\s;,'\"]*")
_COMMON_NAME = re.compile(r'(?i)\bCN=("[^"]*"|[^;:,]*)')


def empty_raw(spec: TableSpec) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {c: pl.String() for c in spec.column_names}
    schema |= {
        "_source_file": pl.String(),
        "_source_row": pl.Int64(),
        "_file_sha256": pl.String(),
        "_loaded_at": pl.Datetime("us"),
    }
    schema |= {c: pl.String() for c in REJECT_COLUMNS}
    return pl.DataFrame(schema=schema)


def _with_lineage(frame: pl.DataFrame, file: ExportFile, loaded_at: datetime) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(file.name).alias("_source_file"),
        pl.lit(file.sha256).alias("_file_sha256"),
        pl.lit(loaded_at).cast(pl.Datetime("us")).alias("_loaded_at"),
    )


def _date_mapping_declared(mapping: Mapping, table: str) -> bool:
    spec = mapping.table(table)
    return bool(spec.date_formats or mapping.date_format or spec.timezone or mapping.timezone)


def transforms_table(mapping: Mapping, table: str) -> bool:
    """Whether the mapping changes the table's values or names (not only how it is read)."""
    spec = mapping.table(table)
    changes = spec.rename or spec.recode or spec.constants
    return bool(changes) or _date_mapping_declared(mapping, table)


def map_table_frame(
    frame: pl.DataFrame, table: str, mapping: Mapping, file_name: str
) -> pl.DataFrame:
    """Apply ``tables.<table>`` of a mapping to a file read by ``read_export_file``.

    The reader normalises headers ('Employee ID' -> 'employee_id'), so rename keys are
    normalised the same way; a key the file lacks fails naming the key, the file and its
    columns. Dates are rewritten only when the mapping declares a format or a time zone.
    """
    spec = mapping.table(table)
    present = [c for c in frame.columns if c != SOURCE_ROW]
    rename: dict[str, str] = {}
    for source, target in spec.rename.items():
        column = normalise_header(source)
        if column not in frame.columns:
            raise MappingError(
                f"{mapping.source}: tables.{table}.rename.{source}: column {source!r} is not in "
                f"{file_name}; its columns are {present}"
            )
        rename[column] = target
    local = replace(mapping, tables={**mapping.tables, table: replace(spec, rename=rename)})
    frame = apply_renames(frame, table, local)
    frame = apply_recodes(frame, table, local)
    frame = apply_constants(frame, table, local)
    if _date_mapping_declared(local, table):
        frame = apply_date_formats(frame, table, local)
    return frame


def land_file(
    file: ExportFile, spec: TableSpec, loaded_at: datetime, mapping: Mapping | None = None
) -> pl.DataFrame:
    table_mapping = mapping.table(spec.name) if mapping is not None else None
    encoding = delimiter = None
    if mapping is not None and table_mapping is not None:
        encoding = table_mapping.encoding or mapping.encoding
        delimiter = table_mapping.delimiter or mapping.delimiter
    frame = read_export_file(file.path, encoding, delimiter)
    if mapping is not None:
        frame = map_table_frame(frame, spec.name, mapping, file.name)
    missing = [c for c in spec.required_columns if c not in frame.columns]
    if missing:
        raise ExportError(
            f"required column(s) {', '.join(missing)} of table {spec.name} not found "
            f"(columns present: {', '.join(c for c in frame.columns if c != '_source_row')})",
            file.name,
        )
    return _with_lineage(frame, file, loaded_at)


def land_table(
    files: list[ExportFile],
    spec: TableSpec,
    loaded_at: datetime,
    mapping: Mapping | None = None,
) -> pl.DataFrame:
    """Every row of every file of one table; columns are the union over the files."""
    frames = [land_file(f, spec, loaded_at, mapping) for f in files]
    return combine(spec, frames)


def combine(spec: TableSpec, frames: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Landed frames of one table as one frame: contract columns, extras, lineage, markers."""
    landed = pl.concat([empty_raw(spec), *frames], how="diagonal")
    tail = (*LINEAGE_COLUMNS, *REJECT_COLUMNS)
    ordered = [c for c in landed.columns if c not in tail] + list(tail)
    return landed.select(ordered)


# --- adapters ------------------------------------------------------------------------------


def safe_text(text: str) -> str:
    """A reason without email addresses or calendar display names, on one short line."""
    text = _MAILTO.sub("mailto:<email>", text)
    text = _EMAIL.sub("<email>", text)
    text = _COMMON_NAME.sub("CN=<name>", text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _reason(rejection: Rejection) -> str:
    if rejection.rule == "unknown_participant":
        # The adapter's reason quotes the respondent key, which is usually an email address.
        why = "the respondent key matches no participant of the program (by email or id)"
    else:
        why = rejection.reason
    where = rejection.where
    if where and not re.fullmatch(r"row \d+", where):  # the row number is in the lineage
        why = f"{where}: {why}"
    return safe_text(why)


def rejection_rows(
    rejections: list[Rejection],
    spec: TableSpec,
    file: ExportFile,
    loaded_at: datetime,
    safe: AbcMapping[str, str | None] | None = None,
) -> pl.DataFrame:
    """One landed row per rejection: ``safe`` contract values, the rule and a scrubbed reason.

    Only ``meeting_id`` is taken from a rejection's record (a calendar UID); records of survey
    rows hold the respondent's answers and key, which stay out of the warehouse.
    """
    rows = []
    for rejection in rejections:
        row: dict[str, object] = dict.fromkeys(spec.column_names)
        row |= dict(safe or {})
        if "meeting_id" in row and rejection.record.get("meeting_id"):
            row["meeting_id"] = rejection.record["meeting_id"]
        row |= {
            SOURCE_ROW: rejection.source_row or 0,
            REJECT_RULE: rejection.rule,
            REJECT_COLUMN: RULE_COLUMNS.get(rejection.rule),
            REJECT_REASON: _reason(rejection),
        }
        rows.append(row)
    schema = {c: pl.String for c in spec.column_names} | {SOURCE_ROW: pl.Int64}
    schema |= {c: pl.String for c in REJECT_COLUMNS}
    frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return _with_lineage(frame, file, loaded_at)


def file_rejection(
    spec: TableSpec, file: ExportFile, loaded_at: datetime, rule: str, reason: str
) -> pl.DataFrame:
    """The whole file as one rejection row (source row 0)."""
    return rejection_rows([Rejection(file.name, "", rule, reason)], spec, file, loaded_at)


def land_survey(
    file: ExportFile,
    spec: TableSpec,
    loaded_at: datetime,
    participant_ids: AbcMapping[str, str] | None,
) -> pl.DataFrame:
    """A survey tool export as long ``survey_responses`` rows plus its rejection rows.

    A mapping that does not fit the export (an item column it lacks) fails the landing with a
    message naming the mapping entry, the file and the export's columns; a file that cannot
    be read at all is one rejection row.
    """
    source: SurveySource = file.source
    try:
        long, rejections = survey_to_long(file.path, source.mapping, participant_ids)
    except SurveyMappingError as exc:
        raise MappingError(f"surveys entry for {file.name}: {exc}") from None
    except (SurveyFormatError, UnicodeError, OSError, ValueError) as exc:
        reason = f"cannot be read as a survey export: {exc}"
        return file_rejection(spec, file, loaded_at, "survey_unreadable", reason)
    safe = {"survey": source.mapping.survey}
    frames = [
        _with_lineage(long, file, loaded_at),
        rejection_rows(rejections, spec, file, loaded_at, safe),
    ]
    return combine(spec, frames)


def land_unmapped_survey(file: ExportFile, spec: TableSpec, loaded_at: datetime) -> pl.DataFrame:
    reason = (
        f"looks like a {file.source} survey export, but mapping.yaml has no surveys entry for "
        "it: add one naming its survey, instrument and item columns (docs/mapping.md)"
    )
    return file_rejection(spec, file, loaded_at, "unmapped_survey", reason)


def land_calendar(
    file: ExportFile,
    spec: TableSpec,
    loaded_at: datetime,
    as_of: date,
    timezone: str | None,
    emails_by_match: AbcMapping[str, Iterable[str]],
) -> pl.DataFrame:
    """An .ics file as ``meetings`` rows (matched by attendees or a mapping rule) plus its
    rejection rows. Without a time zone the file cannot be placed in local time: one rejection.
    """
    source: CalendarSource = file.source
    zone = source.timezone or timezone
    if zone is None:
        reason = (
            "no time zone for the calendar: set timezone in mapping.yaml or in the programs file"
        )
        return file_rejection(spec, file, loaded_at, "ics_timezone", reason)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        reason = f"time zone {zone!r} is not an IANA name (e.g. Europe/Berlin)"
        return file_rejection(spec, file, loaded_at, "ics_timezone", reason)
    resolver = calendar_resolver(source, emails_by_match)
    meetings, rejections = ics_to_meetings(file.path, resolver, as_of, zone)
    frames = [
        _with_lineage(meetings, file, loaded_at),
        rejection_rows(rejections, spec, file, loaded_at),
    ]
    return combine(spec, frames)
