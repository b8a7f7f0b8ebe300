"""`mentorscope snapshot list / export / keep / release` on the session's published demo."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import Published

PROJECT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "snapshot", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_export_keep_and_release_a_version(published: Published, tmp_path):
    research = str(published.research)
    listed = _cli("list", "--research", research)
    assert listed.returncode == 0, listed.stderr
    first = listed.stdout.splitlines()[0]
    version = first.split()[0]
    assert version.startswith("v") and "[current" in first

    out = _cli("export", version, str(tmp_path), "--research", research)
    assert out.returncode == 0, out.stderr
    archive = Path(out.stdout.strip())
    assert archive == tmp_path / f"mentorscope-{version}.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read(f"{version}/manifest.json"))
        assert f"{version}/CITATION.cff" in names
        assert f"{version}/research.duckdb" in names
        assert any(n.endswith(".dta") for n in names) and any(n.endswith(".sav") for n in names)
        listed_files = {f"{version}/{name}" for name in manifest["files"]}
        assert listed_files <= names

    assert _cli("keep", version, "--reason", "paper", "--research", research).returncode == 0
    assert "kept" in _cli("list", "--research", research).stdout.splitlines()[0]
    assert _cli("release", version, "--research", research).returncode == 0
    assert "kept" not in _cli("list", "--research", research).stdout.splitlines()[0]


def test_an_unknown_version_is_a_usage_error_naming_the_known_ones(published: Published, tmp_path):
    out = _cli(
        "export", "v20260630-000000000000", str(tmp_path), "--research", str(published.research)
    )
    assert out.returncode == 2
    assert "no version v20260630-000000000000" in out.stderr and "known:" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_aggregate_tier_alone_holds_no_row_level_table(published: Published, tmp_path):
    target = tmp_path / "for-hr.duckdb"
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "aggregate", str(target)]
        + ["--warehouse", str(published.warehouse)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    import duckdb

    con = duckdb.connect(str(target), read_only=True)
    try:
        tables = {
            f"{s}.{t}"
            for s, t in con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        }
        tier = dict(con.sql("SELECT key, value FROM meta.tier").fetchall())
        leaks = con.sql(
            "SELECT count(*) FROM metrics.breakdowns WHERE suppressed AND n IS NOT NULL"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert "metrics.breakdowns" in tables and "metrics.step_funnel" in tables
    assert not {"metrics.match_steps", "core.participants", "core.matches"} & tables
    assert not any(t.startswith(("core.", "restricted.")) for t in tables)
    assert leaks == 0 and "aggregate" in " ".join(tier.values()).lower()
