"""The aggregate tier is written alone: suppressed tables, a README and manifest, no rows."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from models.publish.aggregate_tier import DisclosureError, write_aggregate_tier
from models.stats.breakdowns import TOTAL_OF
from models.stats.cells import suppress_cells

from .tables import as_breakdown, people, truth_cells


def _warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    cells = suppress_cells(
        as_breakdown(truth_cells(people(np.random.default_rng(2), 3, (20, 80)))),
        10,
        total_of=TOTAL_OF,
    )
    con.execute("CREATE SCHEMA metrics; CREATE SCHEMA core; CREATE SCHEMA restricted")
    con.register("_b", cells)
    con.execute("CREATE TABLE metrics.breakdowns AS SELECT * FROM _b")
    con.execute("CREATE TABLE core.matches AS SELECT 'm1' AS match_id, 'p1' AS mentee_id")
    con.execute("CREATE TABLE restricted.people AS SELECT 'Ada' AS name")
    return con


def test_a_duckdb_file_holds_only_the_aggregate_tables(tmp_path: Path) -> None:
    con = _warehouse(tmp_path / "w.duckdb")
    result = write_aggregate_tier(con, tmp_path / "hr" / "aggregate.duckdb")
    out = duckdb.connect(str(result.path), read_only=True)
    tables = {
        r[0]
        for r in out.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        ).fetchall()
    }
    assert tables == {"metrics.breakdowns", "meta.tier"}
    rows = out.execute("SELECT count(*) FROM metrics.breakdowns").fetchone()[0]
    assert rows == con.execute("SELECT count(*) FROM metrics.breakdowns").fetchone()[0]
    readme = out.execute("SELECT value FROM meta.tier WHERE key = 'readme'").fetchone()[0]
    assert "AGGREGATE, under disclosure control" in readme and "data-use agreement" in readme
    manifest = json.loads(
        out.execute("SELECT value FROM meta.tier WHERE key='manifest'").fetchone()[0]
    )
    assert manifest["tier"] == "aggregate" and "metrics.step_funnel" in manifest["absent"]


def test_a_folder_has_parquet_readme_and_manifest(tmp_path: Path) -> None:
    con = _warehouse(tmp_path / "w.duckdb")
    result = write_aggregate_tier(con, tmp_path / "hr-folder")
    names = sorted(p.name for p in result.path.iterdir())
    assert names == ["README.md", "manifest.json", "metrics.breakdowns.parquet"]
    frame = pl.read_parquet(result.path / "metrics.breakdowns.parquet")
    assert frame.filter("suppressed")["n"].null_count() == frame["suppressed"].sum() > 0


def test_a_suppressed_row_with_a_number_stops_the_write(tmp_path: Path) -> None:
    con = _warehouse(tmp_path / "w.duckdb")
    con.execute(
        "UPDATE metrics.breakdowns SET n = 3 WHERE suppressed AND rowid = "
        "(SELECT min(rowid) FROM metrics.breakdowns WHERE suppressed)"
    )
    with pytest.raises(DisclosureError, match="metrics.breakdowns"):
        write_aggregate_tier(con, tmp_path / "hr.duckdb")
    assert not (tmp_path / "hr.duckdb").exists()


def _above_the_gate(con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> int:
    """The synthetic breakdowns as step-flag rows, with the gate set just below their count:
    a run whose metrics of the same subjects were too many to protect together."""
    from models.stats import same_subjects

    con.execute("UPDATE metrics.breakdowns SET metric = 'retained'")  # a tied metric
    rows = con.execute("SELECT count(*) FROM metrics.breakdowns").fetchone()[0]
    monkeypatch.setattr(same_subjects, "TIED_CELLS", rows - 1)
    return rows


def test_breakdowns_protected_together_are_written_and_the_readme_says_so(
    tmp_path: Path,
) -> None:
    con = _warehouse(tmp_path / "w.duckdb")
    con.execute("UPDATE metrics.breakdowns SET metric = 'retained'")  # a tied metric
    result = write_aggregate_tier(con, tmp_path / "hr")
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["same_subjects_protected_together"] is True and manifest["withheld"] == {}
    assert "were protected together" in (result.path / "README.md").read_text()
    assert "metrics.breakdowns" in result.tables


def test_breakdowns_too_large_to_protect_together_keep_what_holds_alone_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = _warehouse(tmp_path / "w.duckdb")
    rows = _above_the_gate(con, monkeypatch)
    whole = con.execute(
        "SELECT count(*) FROM metrics.breakdowns WHERE dimension = 'all'"
    ).fetchone()[0]
    assert 0 < whole < rows
    left_out = write_aggregate_tier(con, tmp_path / "hr")
    # The synthetic table is `retained` only: its whole-program rows are what holds alone.
    assert left_out.tables["metrics.breakdowns"] == whole
    written = pl.read_parquet(left_out.path / "metrics.breakdowns.parquet")
    assert set(written["dimension"].to_list()) == {"all"}
    manifest = json.loads((left_out.path / "manifest.json").read_text())
    assert manifest["same_subjects_protected_together"] is False
    why = manifest["withheld"]["metrics.breakdowns"]
    assert f"{rows - whole:,} of {rows:,} rows" in why and f"{rows:,} cells" in why
    readme = (left_out.path / "README.md").read_text()
    assert "holds the step flags' groups and every metric's whole-program rows" in readme
    assert f"{rows - whole:,} rows of the other metrics' groups were left out" in readme

    asked = write_aggregate_tier(con, tmp_path / "hr.duckdb", include_untied_breakdowns=True)
    assert asked.tables["metrics.breakdowns"] == rows and asked.withheld == {}
    out = duckdb.connect(str(asked.path), read_only=True)
    readme = out.execute("SELECT value FROM meta.tier WHERE key = 'readme'").fetchone()[0]
    out.close()
    assert "KNOWN GAP IN THIS RELEASE" in readme and f"{rows:,} cells" in readme


def test_the_command_says_what_it_left_out_and_writes_it_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    con = _warehouse(tmp_path / "w.duckdb")
    _above_the_gate(con, monkeypatch)
    con.close()
    warehouse = ["--warehouse", str(tmp_path / "w.duckdb")]
    plain = CliRunner().invoke(app, ["aggregate", str(tmp_path / "hr"), *warehouse])
    assert plain.exit_code == 0, plain.output
    assert "Left out of metrics.breakdowns" in plain.stderr
    assert "--include-untied-breakdowns" in plain.stderr
    kept = pl.read_parquet(tmp_path / "hr" / "metrics.breakdowns.parquet")
    assert set(kept["dimension"].to_list()) == {"all"}
    flag = ["--include-untied-breakdowns"]
    asked = CliRunner().invoke(app, ["aggregate", str(tmp_path / "hr2"), *warehouse, *flag])
    assert asked.exit_code == 0 and "Left out" not in asked.stderr, asked.output
    every = pl.read_parquet(tmp_path / "hr2" / "metrics.breakdowns.parquet")
    assert every.height > kept.height


def test_the_run_summary_says_when_the_breakdowns_need_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    from pipelines.cli import _print_summary
    from pipelines.settings import RunSettings

    con = _warehouse(tmp_path / "w.duckdb")
    con.execute(
        "CREATE TABLE metrics.data_quality AS SELECT 'matches' AS table_name, 1 AS rows_read, "
        "1 AS rows_kept, 0 AS rows_quarantined, 0 AS rows_duplicate, true AS reconciled"
    )
    settings = RunSettings(
        data_dir=tmp_path, warehouse=tmp_path / "w.duckdb", reports_dir=tmp_path / "r",
        as_of=dt.date(2026, 6, 30),
    )  # fmt: skip
    con.close()
    _print_summary(settings)
    assert "Disclosure:" not in capsys.readouterr().out
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    rows = _above_the_gate(con, monkeypatch)
    con.close()
    _print_summary(settings)
    out = " ".join(capsys.readouterr().out.split())
    assert f"Disclosure: the breakdowns hold {rows:,} cells" in out
    assert "show the steps' groups and every metric's whole-program rows only" in out
