"""`mentorscope run` end to end through the CLI: progress lines from the run's events when the
output is not a terminal, the summary on standard output, and exit codes 0 and 1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from models.demo.generator import generate
from pipelines.progress import STAGES


def _run(export: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--data", str(export),
         "--warehouse", str(tmp_path / "w.duckdb"), "--reports", str(tmp_path / "reports"),
         "--as-of", "2026-06-30"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "80", "DAGSTER_HOME": str(home),
             "MENTORSCOPE_DAGSTER_STATE": str(tmp_path / "state"),
             "MENTORSCOPE_DAGSTER_LOGS": str(tmp_path / "logs"),
             "MENTORSCOPE_RESEARCH_DIR": str(tmp_path / "research"),
             "MENTORSCOPE_PSEUDONYM_KEY": "22" * 32},
    )  # fmt: skip


@pytest.mark.slow
def test_a_run_shows_progress_per_step_and_exits_0(tmp_path: Path) -> None:
    export = tmp_path / "export"
    generate(export, seed=5, scale=0.1, as_of=date(2026, 6, 30), bad_rows=True)
    done = _run(export, tmp_path)
    assert done.returncode == 0, done.stderr
    step_line = r"^\[\s*(\d+)/(\d+)\] (\w+) +(\S+) (ok|FAILED|skipped) \("
    lines = re.findall(step_line, done.stderr, re.M)
    total = int(lines[0][1])
    assert total >= 30 and len(lines) == total
    assert [int(n) for n, *_ in lines] == list(range(1, total + 1))
    assert {status for *_, status in lines} == {"ok"}
    stages = [stage for _, _, stage, _, _ in lines]
    assert set(stages) == set(STAGES)
    # in dependency order: ingest first, every core table before the models (which read them)
    last_core = max(i for i, stage in enumerate(stages) if stage == "core")
    assert stages[0] == "ingest" and last_core < stages.index("models")
    # the summary is on standard output, the progress is not
    assert "Quarantined rows: SELECT * FROM quarantine.rejected_rows" in done.stdout
    assert "[1/" not in done.stdout
    assert all(len(line) <= 80 or str(tmp_path) in line for line in done.stdout.splitlines())
    # The key the snapshot was built with, by its fingerprint (researchers link snapshots by it).
    from models.publish.keys import key_fingerprint

    fingerprint = key_fingerprint(bytes.fromhex("22" * 32))
    assert f"Pseudonym key fingerprint: {fingerprint}" in done.stdout.splitlines()


@pytest.mark.slow
def test_a_blocked_run_exits_1_with_its_reason(tmp_path: Path) -> None:
    export = tmp_path / "export"
    generate(export, seed=3, scale=0.1, as_of=date(2026, 6, 30), bad_rows=False)
    path = export / "meetings_2025.csv"
    meetings = pl.read_csv(path, infer_schema=False)
    broken = pl.int_range(pl.len()) % 3 == 0
    meetings.with_columns(
        pl.when(broken).then(pl.lit("M-NOT-THERE")).otherwise(pl.col("match_id")).alias("match_id")
    ).write_csv(path)
    done = _run(export, tmp_path)
    assert done.returncode == 1
    assert "Run failed:" in done.stderr and "reference_failure_share" in done.stderr
    assert "step(s) not run" in done.stderr
    assert (tmp_path / "reports" / "data_quality.html").exists()
