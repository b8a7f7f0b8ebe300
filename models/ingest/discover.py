"""Find the files of each contract table in an export folder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.contract import TableSpec
from models.ingest.errors import ExportError, refuse_unprintable

READABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")


# How a file becomes rows of its table: read as a table, melted from a survey tool's export,
# expanded from an iCalendar file, or a survey export no mapping entry names (rejected whole).
KINDS = ("table", "survey", "calendar", "unmapped_survey")


@dataclass(frozen=True)
class ExportFile:
    table: str
    path: Path
    sha256: str
    # Lineage name: the path relative to the data root ("people.csv", "acme/outlook/jan.ics").
    source_file: str = ""
    kind: str = "table"
    program: str = ""
    # The mapping entry behind a survey or calendar file (SurveySource / CalendarSource), or the
    # detected survey format of an unmapped export.
    source: Any = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.source_file or self.path.name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_of(file_name: str, tables: list[str]) -> str | None:
    """The table a file belongs to: its name starts with the table name.

    Longest table name first, so a table whose name extends another's wins.
    """
    stem = file_name.lower()
    for table in sorted(tables, key=len, reverse=True):
        if stem.startswith(table) and (len(stem) == len(table) or not stem[len(table)].isalpha()):
            return table
    return None


def discover(folder: Path, contract: dict[str, TableSpec]) -> dict[str, list[ExportFile]]:
    """Files per table, in name order (the order that decides which duplicate key wins)."""
    if not folder.is_dir():
        raise ExportError("export folder does not exist or is not a folder", str(folder))
    found: dict[str, list[ExportFile]] = {t: [] for t in contract}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        refuse_unprintable(path.name)
        if not path.is_file() or path.suffix.lower() not in READABLE_SUFFIXES:
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
            raise ExportError("is a link to a file outside the export folder", path.name)
        table = table_of(path.name, list(contract))
        if table is not None:
            found[table].append(ExportFile(table, path, file_sha256(path)))
    missing = [t for t, spec in contract.items() if spec.required_table and not found[t]]
    if missing:
        raise ExportError(
            "required table(s) missing: "
            + ", ".join(missing)
            + " (expected files whose names start with the table name, e.g. "
            + f"{missing[0]}.csv)",
            str(folder),
        )
    return found
