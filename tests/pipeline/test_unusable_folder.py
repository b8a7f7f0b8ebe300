"""A folder that cannot be used fails the CLI run with one clear message, not a traceback,
found before Dagster starts (exit 2)."""

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

PROGRAMS = "program_id,name,setting,start_date\nP1,One,corporate,2024-01-01\n"
PARTICIPANTS = "participant_id,program_id,role,enrolled_on\nA,P1,mentor,2024-01-01\n"


def _run(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "run",
            "--data",
            str(folder),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--as-of",
            "2025-01-01",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "DAGSTER_HOME": str(tmp_path / "home"),
            "PATH": "/usr/bin:/bin",
            "MENTORSCOPE_DAGSTER_STATE": str(tmp_path / "state"),
            "MENTORSCOPE_DAGSTER_LOGS": str(tmp_path / "logs"),
        },
    )


@pytest.fixture
def dagster_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"programs.csv": PROGRAMS}, "required table(s) missing: participants, matches"),
        (
            {
                "programs.csv": PROGRAMS,
                "participants.csv": PARTICIPANTS,
                "matches_2024.csv": "match_id,program_id,mentor_id,matched_on\n",
            },
            "matches_2024.csv: required column(s) mentee_id of table matches not found",
        ),
        (
            {
                "programs.csv": PROGRAMS,
                "participants.csv": PARTICIPANTS,
                "matches.parquet": "definitely not parquet",
            },
            "matches.parquet: cannot be read as Parquet",
        ),
        (
            # A line break in a file name would forge a line of output: refused, shown escaped.
            {
                "programs.csv": PROGRAMS,
                "participants.csv": PARTICIPANTS,
                "matches.csv\nRun succeeded.csv": "match_id\n",
            },
            "matches.csv\\nRun succeeded.csv: the file name holds a line break",
        ),
    ],
)
def test_unusable_folder_message(tmp_path, dagster_home, files, expected):
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    start = time.perf_counter()
    result = _run(folder, tmp_path)
    elapsed = time.perf_counter() - start
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not any(line.startswith("Run succeeded") for line in result.stderr.splitlines())
    # Before Dagster: no run was started, no warehouse or instance state written; the answer
    # comes in about a second (Dagster's start-up alone took 15 s), with slack for a busy CI.
    assert "starting Dagster" not in result.stderr
    assert not (tmp_path / "w.duckdb").exists() and not (tmp_path / "state").exists()
    assert elapsed < 6


def test_a_large_folder_gets_the_structural_check_with_the_same_message(tmp_path):
    from pipelines.preflight import export_problem

    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "programs.csv").write_text(PROGRAMS)
    (folder / "participants.csv").write_text(PARTICIPANTS)
    problem = export_problem(folder, date(2025, 1, 1), full_check_bytes=0)
    assert problem is not None and "required table(s) missing: matches" in problem
    # the structural check does not read rows: a header error is left to the run
    (folder / "matches.csv").write_text("match_id,program_id,mentor_id,matched_on\n")
    assert export_problem(folder, date(2025, 1, 1), full_check_bytes=0) is None
    assert "required column(s) mentee_id" in export_problem(folder, date(2025, 1, 1))


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("9999-12-31", "--as-of 9999-12-31 is outside 1900-01-01 .. 2199-12-31"),
        ("1066-10-14", "--as-of 1066-10-14 is outside"),
        ("2026-13-01", "--as-of must be a date as YYYY-MM-DD, got '2026-13-01'"),
    ],
)
def test_an_unusable_as_of_date_is_a_usage_error(tmp_path, as_of: str, expected: str) -> None:
    # 9999-12-31 used to overflow deep in the run (exit 1, OverflowError in validate_programs)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--data", str(tmp_path),
         "--warehouse", str(tmp_path / "w.duckdb"), "--as-of", as_of],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "w.duckdb").exists()
