"""A data root as programs and files: which file feeds which table, and through which adapter.

A data root is either one export folder (table files at its top level, or a ``mapping.yaml``)
or an inbox: a folder of program folders (``data/inbox/<program>/``), each with its own
optional ``mapping.yaml``. A program folder's files are assigned, in this order:

1. files named by the mapping: ``surveys[].file`` (survey tool exports), ``calendars[].file``
   (.ics) and ``tables.<table>.files`` (glob patterns);
2. other ``.ics`` files anywhere in the folder: calendars, read with the settings of the
   mapping's first ``calendars`` entry (or ``match_by: emails``), so a new month's calendar
   needs no mapping edit;
3. top-level files whose names start with a table name (the canonical export, as before);
4. other CSV/XLSX files that a survey tool wrote (Qualtrics, SurveyMonkey, Google Forms,
   Microsoft Forms): rejected whole, with a reason asking for a ``surveys`` entry;
5. anything else is ignored (and listed, so an evaluator sees it was not read).

Folders and files whose names start with ``.`` or ``_`` are never read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from models.adapters.mapping import CalendarSource, Mapping, MappingError, load_mapping
from models.adapters.survey_formats import (
    GOOGLE_FORMS,
    MICROSOFT_FORMS,
    QUALTRICS,
    QUALTRICS_LEGACY,
    SURVEYMONKEY,
    SurveyFormatError,
    detect_survey_format,
)
from models.contract import TableSpec
from models.ingest.discover import READABLE_SUFFIXES, ExportFile, file_sha256, table_of
from models.ingest.errors import ExportError, refuse_unprintable

MAPPING_FILE = "mapping.yaml"
CALENDAR_SUFFIX = ".ics"
SURVEY_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
TOOL_FORMATS = (QUALTRICS, QUALTRICS_LEGACY, SURVEYMONKEY, GOOGLE_FORMS, MICROSOFT_FORMS)
# Program keys become Dagster partition keys and source-file prefixes: keep them plain.
PROGRAM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Program:
    """One program folder of a data root."""

    key: str
    folder: Path
    prefix: str  # "" when the root is itself the export folder, else "<key>/"


@dataclass
class ProgramPlan:
    program: Program
    mapping: Mapping | None
    mapping_sha256: str  # "" without a mapping: part of every file's fingerprint
    files: list[ExportFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def of_table(self, table: str) -> list[ExportFile]:
        return [f for f in self.files if f.table == table]


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def _looks_like_export(folder: Path, contract: dict[str, TableSpec]) -> bool:
    if (folder / MAPPING_FILE).is_file():
        return True
    return any(
        path.is_file()
        and path.suffix.lower() in READABLE_SUFFIXES
        and table_of(path.name, list(contract)) is not None
        for path in folder.iterdir()
    )


def program_key(name: str) -> str:
    """A folder name as a partition key: characters outside [A-Za-z0-9_.-] become '_'."""
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("_.-")[:64]
    return key or "export"


def find_programs(root: Path, contract: dict[str, TableSpec]) -> list[Program]:
    """The root itself when it is an export folder, else each program sub-folder (by name)."""
    if not root.is_dir():
        raise ExportError("export folder does not exist or is not a folder", str(root))
    if _looks_like_export(root, contract):
        return [Program(program_key(root.resolve().name), root, "")]
    programs = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        if not PROGRAM_KEY.match(folder.name):
            raise ExportError(
                "program folder names may only use letters, digits, '_', '.' and '-' "
                "(they name the program's partition)",
                folder.name,
            )
        programs.append(Program(folder.name, folder, f"{folder.name}/"))
    return programs


def _check_inside(path: Path, root: Path, shown: str) -> None:
    # Resolved, not just "is a link": a linked folder on the way out counts too.
    if not path.resolve().is_relative_to(root.resolve()):
        raise ExportError("resolves to a file outside the export folder", shown)


class _Claims:
    """Which file goes where; a file claimed twice by the mapping is a mapping error."""

    def __init__(self, program: Program, mapping: Mapping | None) -> None:
        self.program = program
        self.mapping = mapping
        self.by_path: dict[Path, tuple[str, ExportFile]] = {}

    def source_file(self, path: Path) -> str:
        return self.program.prefix + path.relative_to(self.program.folder).as_posix()

    def claim(self, path: Path, table: str, kind: str, source: object, by: str) -> None:
        key = path.resolve()
        name = self.source_file(path)
        if key in self.by_path:
            earlier = self.by_path[key][0]
            origin = self.mapping.source if self.mapping else self.program.folder
            raise MappingError(f"{origin}: {by}: file {name!r} is already claimed by {earlier}")
        _check_inside(path, self.program.folder, name)
        entry = ExportFile(table, path, file_sha256(path), name, kind, self.program.key, source)
        self.by_path[key] = (by, entry)


def _default_calendar(mapping: Mapping | None, path: Path) -> CalendarSource:
    if mapping is not None and mapping.calendars:
        return replace(mapping.calendars[0], file=path)
    return CalendarSource(file=path)


def _survey_format(path: Path, encoding: str | None) -> str | None:
    try:
        found = detect_survey_format(path, encoding)
    except (SurveyFormatError, ValueError, OSError, UnicodeError):
        return None
    return found if found in TOOL_FORMATS else None


def plan_program(program: Program, contract: dict[str, TableSpec]) -> ProgramPlan:
    """Every file of one program folder with its table and adapter (see the module doc)."""
    folder = program.folder
    mapping_path = folder / MAPPING_FILE
    mapping = load_mapping(mapping_path, folder) if mapping_path.is_file() else None
    mapping_sha = file_sha256(mapping_path) if mapping is not None else ""
    claims = _Claims(program, mapping)
    if mapping is not None:
        for i, survey in enumerate(mapping.surveys):
            claims.claim(survey.file, "survey_responses", "survey", survey, f"surveys[{i}]")
        for i, calendar in enumerate(mapping.calendars):
            claims.claim(calendar.file, "meetings", "calendar", calendar, f"calendars[{i}]")
        for table, spec in mapping.tables.items():
            for pattern in spec.files:
                matched = sorted(p for p in folder.glob(pattern) if p.is_file())
                if not matched:
                    raise MappingError(
                        f"{mapping.source}: tables.{table}.files: pattern {pattern!r} matches no "
                        f"file in {folder}"
                    )
                for path in matched:
                    claims.claim(path, table, "table", None, f"tables.{table}.files")

    plan = ProgramPlan(program, mapping, mapping_sha)
    paths = sorted(
        (p for p in folder.rglob("*") if not _hidden(p.relative_to(folder))),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    for path in paths:
        refuse_unprintable(path.relative_to(folder).as_posix())
        if not path.is_file() or path == mapping_path or path.resolve() in claims.by_path:
            continue
        suffix = path.suffix.lower()
        table = table_of(path.name, list(contract)) if path.parent == folder else None
        if suffix == CALENDAR_SUFFIX:
            claims.claim(
                path, "meetings", "calendar", _default_calendar(mapping, path), "(an .ics file)"
            )
        elif table is not None and suffix in READABLE_SUFFIXES:
            claims.claim(path, table, "table", None, "(file name)")
        elif suffix in SURVEY_SUFFIXES and (
            fmt := _survey_format(path, mapping.encoding if mapping else None)
        ):
            claims.claim(path, "survey_responses", "unmapped_survey", fmt, "(survey export)")
        else:
            plan.ignored.append(claims.source_file(path))
    plan.files = sorted((entry for _, entry in claims.by_path.values()), key=lambda f: f.name)
    return plan


def required_missing(contract: dict[str, TableSpec], present: set[str]) -> ExportError | None:
    missing = [t for t, spec in contract.items() if spec.required_table and t not in present]
    if not missing:
        return None
    return ExportError(
        "required table(s) missing: "
        + ", ".join(missing)
        + " (expected files whose names start with the table name, e.g. "
        + f"{missing[0]}.csv)"
    )


def folder_signature(folder: Path) -> tuple[str, float]:
    """(a hash of every file's path, size and modification time; the newest modification time).

    Cheap enough for a sensor tick: no file is read. A changed signature means "look again";
    the landing's content hashes decide what really changed.
    """
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if _hidden(relative) or not path.is_file():
            continue
        stat = path.stat()
        newest = max(newest, stat.st_mtime)
        digest.update(f"{relative.as_posix()}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest(), newest
