"""A blocking validation failure stops downstream assets, and the evaluator still gets the
data-quality page and one clear message."""

from datetime import date

import dagster as dg
import duckdb
import polars as pl

from models.demo.generator import generate
from pipelines.runner import run_pipeline
from pipelines.settings import RunSettings


def test_too_many_dangling_meetings_stop_the_run_with_a_report(tmp_path, monkeypatch):
    export = tmp_path / "export"
    generate(export, seed=3, scale=0.25, as_of=date(2026, 6, 30), bad_rows=False)
    path = export / "meetings_2025.csv"
    meetings = pl.read_csv(path, infer_schema=False)
    broken = pl.int_range(pl.len()) % 3 == 0
    meetings.with_columns(
        pl.when(broken).then(pl.lit("M-NOT-THERE")).otherwise(pl.col("match_id")).alias("match_id")
    ).write_csv(path)
    monkeypatch.setenv("MENTORSCOPE_PSEUDONYM_KEY", "11" * 32)
    monkeypatch.setenv("MENTORSCOPE_RESEARCH_DIR", str(tmp_path / "research"))
    settings = RunSettings(export, tmp_path / "w.duckdb", tmp_path / "reports", date(2026, 6, 30))
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_pipeline(settings, instance=instance)

    assert not report.success
    assert any("reference_failure_share" in c and "(ERROR)" in c for c in report.failed_checks)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'metrics'"
            ).fetchall()
        }
    finally:
        con.close()
    assert "match_steps" not in tables  # downstream of core/meetings: never built
    page = (settings.reports_dir / "data_quality.html").read_text(encoding="utf-8")
    assert "reference_failure_share" in page and "meetings_2025.csv" in page
    assert not (tmp_path / "research" / "research.duckdb").exists()
