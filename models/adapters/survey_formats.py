"""Survey tool export layouts: recognise one, and read it into one row per response.

Each reader yields a `WideSurvey`: an all-Utf8 frame (one row per response, `_source_row`), the
tool's usual id/participant/timestamp columns, and aliases so a mapping can name a column by its
export name, its Qualtrics ImportId or its question text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from models.adapters.text_table import frame_from_rows, read_rows, read_sheet_rows

QUALTRICS = "qualtrics"
QUALTRICS_LEGACY = "qualtrics_legacy"
SURVEYMONKEY = "surveymonkey"
GOOGLE_FORMS = "google_forms"
MICROSOFT_FORMS = "microsoft_forms"
CANONICAL_LONG = "canonical_long"
WIDE = "wide"  # one header row, one row per response, one column per item: a home-made export
SURVEY_FORMATS = (
    QUALTRICS,
    QUALTRICS_LEGACY,
    SURVEYMONKEY,
    GOOGLE_FORMS,
    MICROSOFT_FORMS,
    CANONICAL_LONG,
    WIDE,
)
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_MS_FORMS_COLUMNS = {"id", "start time", "completion time"}
_MONKEY_ROW2 = {"response", "open-ended response"}
_MONKEY_IDS = {"respondentid", "respondent id", "collectorid", "collector id"}
_LONG_COLUMNS = {"response_id", "item_id", "value"}


class SurveyFormatError(ValueError):
    """The file is not a survey export this module can read."""


@dataclass(frozen=True)
class FormatDefaults:
    """Columns a tool uses for the response id, the respondent and the submission time, each a
    list of candidates tried in order, and rows the tool itself marks as not real responses."""

    response_id: tuple[str, ...] = ()
    participant: tuple[str, ...] = ()
    submitted_at: tuple[str, ...] = ()
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)


DEFAULTS: dict[str, FormatDefaults] = {
    QUALTRICS: FormatDefaults(
        ("ResponseId", "ResponseID"),
        ("ExternalReference", "ExternalDataReference", "RecipientEmail"),
        ("RecordedDate", "EndDate"),
        # Preview responses: numeric export writes Status 1, label export "Survey Preview", and
        # newer exports also mark them in DistributionChannel.
        {"Status": ("1", "Survey Preview"), "DistributionChannel": ("preview",)},
    ),
    QUALTRICS_LEGACY: FormatDefaults(
        ("ResponseID",),
        ("ExternalDataReference", "EmailAddress"),
        ("EndDate",),
        {"Status": ("1", "Survey Preview")},
    ),
    SURVEYMONKEY: FormatDefaults(
        ("RespondentID", "Respondent ID"),
        ("Email Address", "EmailAddress", "Custom Data", "Custom Data 1"),
        ("EndDate", "End Date"),
    ),
    GOOGLE_FORMS: FormatDefaults(
        (), ("Email address", "Email Address", "Username"), ("Timestamp",)
    ),
    MICROSOFT_FORMS: FormatDefaults(("ID",), ("Email",), ("Completion time",)),
    CANONICAL_LONG: FormatDefaults(("response_id",), ("participant_id",), ("submitted_at",)),
    WIDE: FormatDefaults(),
}


@dataclass(frozen=True)
class WideSurvey:
    format: str
    frame: pl.DataFrame
    aliases: dict[str, str]
    defaults: FormatDefaults


def normalise_text(text: str) -> str:
    """Key for loose column matching: no HTML tags, one space, case-folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip().casefold()


def _raw_rows(path: Path, encoding: str | None, delimiter: str | None) -> list[list[str]]:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_sheet_rows(path)
    rows, _, _ = read_rows(path, encoding, delimiter)
    return rows


def _cells(row: list[str]) -> list[str]:
    return [c.strip() for c in row]


def format_of_rows(rows: list[list[str]]) -> str:
    """The export layout that the first three rows show."""
    r1, r2, r3 = (_cells(rows[i]) if len(rows) > i else [] for i in range(3))
    if not any(r1):
        raise SurveyFormatError("the file has no header row")
    filled3 = [c for c in r3 if c]
    if filled3 and sum(c.startswith('{"ImportId"') for c in filled3) * 2 >= len(filled3):
        return QUALTRICS
    if r1[:2] == ["V1", "V2"] or (r1 and r1[0] == "V1" and "ResponseID" in r2):
        return QUALTRICS_LEGACY
    lower1 = {c.casefold() for c in r1}
    if lower1 >= _MS_FORMS_COLUMNS:
        return MICROSOFT_FORMS
    if r1[0] == "Timestamp":
        return GOOGLE_FORMS
    lower2 = [c.casefold() for c in r2]
    if any(c in _MONKEY_ROW2 for c in lower2) and (lower1 & _MONKEY_IDS or "" in r1):
        return SURVEYMONKEY
    if lower1 >= _LONG_COLUMNS:
        return CANONICAL_LONG
    if len([c for c in r1 if c]) < 2:
        raise SurveyFormatError("the header row has fewer than two named columns")
    return WIDE


def detect_survey_format(path: Path | str, encoding: str | None = None) -> str:
    """One of SURVEY_FORMATS for a CSV or XLSX export; SurveyFormatError if it is none."""
    path = Path(path)
    try:
        rows = _raw_rows(path, encoding, None)
    except (UnicodeDecodeError, OSError, pl.exceptions.PolarsError) as exc:
        raise SurveyFormatError(f"{path.name}: cannot be read: {exc}") from exc
    except Exception as exc:  # fastexcel raises its own types for damaged workbooks
        raise SurveyFormatError(f"{path.name}: cannot be read: {exc}") from exc
    try:
        return format_of_rows(rows)
    except SurveyFormatError as exc:
        raise SurveyFormatError(f"{path.name}: {exc}") from exc


def _forward_filled(row: list[str]) -> list[str]:
    """Blank header cells continue the question to their left ("Q | 2", "Q | 3", ...)."""
    out, last, run = [], "", 1
    for cell in _cells(row):
        if cell:
            last, run = cell, 1
            out.append(cell)
        elif last:
            run += 1
            out.append(f"{last} | {run}")
        else:
            out.append("")
    return out


def _surveymonkey_names(r1: list[str], r2: list[str]) -> list[str]:
    width = max(len(r1), len(r2))
    questions = _cells(r1) + [""] * (width - len(r1))
    choices = _cells(r2) + [""] * (width - len(r2))
    names, question = [], ""
    for q, choice in zip(questions, choices, strict=True):
        question = q or question
        if not choice or choice.casefold() == "response":
            names.append(q or question if not choice else question)
        else:
            names.append(f"{question} | {choice}" if question else choice)
    return names


def _import_id(cell: str) -> str | None:
    try:
        value = json.loads(cell)
    except (json.JSONDecodeError, TypeError):
        return None
    return value.get("ImportId") if isinstance(value, dict) else None


def read_survey(
    path: Path | str,
    survey_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> WideSurvey:
    """Read an export into one row per response (format detected unless declared)."""
    path = Path(path)
    rows = _raw_rows(path, encoding, delimiter)
    fmt = survey_format or format_of_rows(rows)
    if fmt not in SURVEY_FORMATS:
        raise SurveyFormatError(f"{path.name}: unknown survey format {fmt!r}")
    aliases: dict[str, str] = {}
    if fmt == QUALTRICS:
        names, data = _cells(rows[0]), rows[3:]
        frame = frame_from_rows(names, data)
        for name, text, meta in zip(names, rows[1], rows[2], strict=False):
            import_id = _import_id(meta)
            if import_id:
                aliases.setdefault(import_id, name)
            if text.strip():
                aliases.setdefault(normalise_text(text), name)
    elif fmt == QUALTRICS_LEGACY:
        labels = _cells(rows[1]) + [""] * max(0, len(rows[0]) - len(rows[1]))
        names = [
            label if re.fullmatch(r"V\d+", vname) and label else vname
            for vname, label in zip(_cells(rows[0]), labels, strict=False)
        ]
        frame = frame_from_rows(names, rows[2:])
        for name, label in zip(names, labels, strict=False):
            if label:
                aliases.setdefault(normalise_text(label), name)
    elif fmt == SURVEYMONKEY:
        r2 = rows[1] if len(rows) > 1 else []
        frame = frame_from_rows(_surveymonkey_names(rows[0], r2), rows[2:])
    elif fmt == GOOGLE_FORMS:
        frame = frame_from_rows(_forward_filled(rows[0]), rows[1:])
    else:
        frame = frame_from_rows(_cells(rows[0]), rows[1:])
    for name in frame.columns:
        aliases.setdefault(normalise_text(name), name)
        if " | " in name and name.endswith(" | Response"):
            aliases.setdefault(normalise_text(name.removesuffix(" | Response")), name)
    for name in frame.columns:
        if not name.endswith(" | Response"):
            aliases.setdefault(normalise_text(f"{name} | Response"), name)
    return WideSurvey(fmt, frame, aliases, DEFAULTS[fmt])


def resolve_column(survey: WideSurvey, key: str) -> str | None:
    """The frame column a mapping key names: exact name, ImportId, or loose question text."""
    if key in survey.frame.columns:
        return key
    return survey.aliases.get(key) or survey.aliases.get(normalise_text(key))
