"""Duplicate keys across files resolve by one documented rule; mapping.yaml cannot run code
or reach outside the export folder."""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from models.adapters.mapping import MappingError, load_mapping
from models.contract import load_contract
from models.ingest.discover import discover
from models.ingest.land import land_table
from models.ingest.rules import RowContext
from tests.reference.row_rules import apply_row_rules

HEADER = "program_id,name,setting,start_date\n"


def _minimal_export(folder: Path) -> None:
    (folder / "participants.csv").write_text(
        "participant_id,program_id,role,enrolled_on\nP1,PRG1,mentor,2024-01-01\n"
    )
    (folder / "matches.csv").write_text(
        "match_id,program_id,mentor_id,mentee_id,matched_on\nM1,PRG1,P1,P1,2024-01-01\n"
    )


@pytest.mark.parametrize("created_first", ["programs_b.csv", "programs_a.csv"])
def test_duplicate_keys_across_files_first_file_by_name_wins(tmp_path, created_first):
    _minimal_export(tmp_path)
    rows = {
        "programs_a.csv": HEADER + "PRG1,Alpha,corporate,2024-01-01\n",
        "programs_b.csv": HEADER
        + "PRG1,Beta,corporate,2024-02-01\n"
        + "PRG1,Alpha,corporate,2024-01-01\n",
    }
    # Creation order and modification times must not matter: only the file names do.
    order = [created_first, *(n for n in rows if n != created_first)]
    for i, name in enumerate(order):
        (tmp_path / name).write_text(rows[name])
        os.utime(tmp_path / name, (time.time() - 100 * i, time.time() - 100 * i))
    contract = load_contract()
    files = discover(tmp_path, contract)["programs"]
    raw = land_table(files, contract["programs"], datetime(2026, 1, 1))
    outcome = apply_row_rules(raw, contract["programs"], RowContext(as_of=date(2026, 6, 30)))
    assert outcome.kept.select("name", "_source_file").rows() == [("Alpha", "programs_a.csv")]
    assert outcome.rejected.select("source_file", "source_row", "rule").rows() == [
        ("programs_b.csv", 1, "duplicate_key")
    ]
    # The identical copy is an exact duplicate, counted rather than quarantined.
    assert outcome.duplicates.select("source_file", "source_row").rows() == [("programs_b.csv", 2)]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version: 1\ntables: !!python/object/apply:os.system ['touch {marker}']\n", "tag"),
        ("version: 1\ntables: !!python/name:os.system\n", "tag"),
        ("version: 1\ntables:\n  programs:\n    files: ['../outside.csv']\n", ".."),
        ("version: 1\ntables:\n  programs:\n    files: ['/etc/passwd']\n", "relative"),
        ("version: 1\ntables:\n  programs:\n    files: ['sub/../../outside.csv']\n", ".."),
        ("version: 1\ncalendars:\n  - file: link/secret.csv\n", "outside"),
    ],
)
def test_hostile_mapping_files_are_refused_and_run_nothing(tmp_path, text, needle):
    export = tmp_path / "export"
    export.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.csv").write_text(HEADER)
    (export / "link").symlink_to(outside)
    marker = tmp_path / "marker"
    (export / "mapping.yaml").write_text(text.format(marker=marker))
    started = time.monotonic()
    with pytest.raises(MappingError) as err:
        load_mapping(export / "mapping.yaml", export)
    assert time.monotonic() - started < 5
    assert needle in str(err.value).lower() or needle in str(err.value)
    assert not marker.exists()


def test_alias_bombs_do_not_hang(tmp_path):
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines += ["tables: *a8"]
    (tmp_path / "mapping.yaml").write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(MappingError):
        load_mapping(tmp_path / "mapping.yaml", tmp_path)
    assert time.monotonic() - started < 5


def test_mapping_patterns_cannot_reach_outside_through_a_linked_folder(tmp_path):
    from models.ingest.errors import ExportError
    from models.ingest.sources import find_programs, plan_program

    export, outside = tmp_path / "export", tmp_path / "outside"
    export.mkdir()
    outside.mkdir()
    (outside / "programs_secret.csv").write_text(HEADER + "PRG9,Secret,corporate,2024-01-01\n")
    (export / "link").symlink_to(outside)
    (export / "mapping.yaml").write_text(
        "version: 1\ntables:\n  programs:\n    files: ['link/*.csv']\n"
    )
    contract = load_contract()
    with pytest.raises((ExportError, MappingError)):
        for program in find_programs(export, contract):
            plan_program(program, contract)
