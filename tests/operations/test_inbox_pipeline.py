"""A program's own tool exports through the graph give what its canonical CSVs give.

The same generated program is run twice: once as canonical CSVs, once as an evaluator would
receive it (HR file with its own names, Qualtrics exports with Likert labels keyed by email,
Outlook-style calendars, mapping.yaml: tests/operations/programs.py).
"""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from tests.operations.conftest import (
    failures,
    query,
    run_slice,
    settings_for,
)
from tests.operations.programs import canonical_program, write_tool_exports

MEETING_COLUMNS = ["meeting_id", "match_id", "started_at", "duration_min", "status"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inbox_pipeline")
    canon = canonical_program(root / "canon")
    write_tool_exports(canon, root / "inbox" / "acme")
    warehouses = {}
    with dg.DagsterInstance.ephemeral() as instance:
        for name, data in (("canonical", canon), ("tools", root / "inbox")):
            warehouse = root / name / "w.duckdb"
            result = run_slice(settings_for(data, warehouse), instance)
            assert result.success, failures(result)
            warehouses[name] = warehouse
    return warehouses


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(pl.all(), nulls_last=True)


def test_construct_scores_match_the_canonical_file(runs):
    sql = "SELECT * FROM core.construct_scores"
    canonical, tools = query(runs["canonical"], sql), query(runs["tools"], sql)
    assert canonical.height > 50
    assert _sorted(tools.select(canonical.columns)).equals(_sorted(canonical))


def test_calendar_meetings_match_the_canonical_meetings(runs):
    sql = f"SELECT {', '.join(MEETING_COLUMNS)} FROM core.meetings"
    canonical, tools = query(runs["canonical"], sql), query(runs["tools"], sql)
    assert canonical.height > 100
    assert _sorted(tools).equals(_sorted(canonical))
    # What a calendar cannot say stays unknown rather than guessed.
    modes = query(runs["tools"], "SELECT count(mode) AS n FROM core.meetings")
    assert modes["n"][0] == 0


def test_mapped_people_and_pairs_reach_core_unchanged(runs):
    for table in ("participants", "matches"):
        sql = f"SELECT * FROM core.{table}"
        canonical, tools = query(runs["canonical"], sql), query(runs["tools"], sql)
        public = [c for c in canonical.columns if not c.startswith("_")]
        assert _sorted(tools.select(public)).equals(_sorted(canonical.select(public))), table


def test_every_row_is_accounted_for_with_tool_exports(runs):
    quality = query(runs["tools"], "SELECT * FROM metrics.data_quality")
    assert quality["reconciled"].all()
    assert set(quality["source_file"]) >= {
        "acme/people.csv",
        "acme/qualtrics/intake_export.csv",
        "acme/outlook/mentoring_2025.ics",
    }
    previews = query(
        runs["tools"],
        "SELECT source_file, rule, reason FROM quarantine.rejected_rows "
        "WHERE table_name = 'survey_responses'",
    )
    # One Qualtrics preview per export, quarantined with the adapter's rule and reason.
    assert sorted(previews["source_file"]) == [
        "acme/qualtrics/exit_export.csv",
        "acme/qualtrics/intake_export.csv",
    ]
    assert set(previews["rule"]) == {"excluded"}
    assert all("Survey Preview" in r for r in previews["reason"])
