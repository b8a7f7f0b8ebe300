"""On a real pipeline run over the demo program: the independent attack recovers nothing from
the published breakdowns, and the aggregate tier written from that warehouse holds only them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from models.publish.aggregate_tier import write_aggregate_tier

from .attack import attack_breakdown, excused

PARENTS = {"mentee_gender_race": ("mentee_gender", "mentee_race")}
MENTEE_DIMENSIONS = ["all", "mentee_gender", "mentee_race", "mentee_gender_race"]


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["s3_calendar", "retained"])
def test_no_suppressed_demo_cell_is_pinned_or_forced(demo_run, metric: str) -> None:
    published = demo_run.frame("SELECT * FROM metrics.breakdowns").filter(
        (pl.col("metric") == metric) & pl.col("dimension").is_in(MENTEE_DIMENSIONS)
    )
    findings = attack_breakdown(
        published.select("program_id", "dimension", "group", "n", "value", "suppressed"), PARENTS
    )
    assert findings  # the demo has small groups: something is hidden and attacked
    for f in findings:
        assert f.n_high - f.n_low >= 2, f
        assert not f.all_no or excused(published, f.key, True, PARENTS), f
        assert not f.all_yes or excused(published, f.key, False, PARENTS), f


@pytest.mark.slow
def test_the_demo_aggregate_tier_is_the_suppressed_tables_alone(demo_run, tmp_path: Path) -> None:
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    try:
        tier = write_aggregate_tier(con, tmp_path / "hr.duckdb")
    finally:
        con.close()
    assert {"metrics.breakdowns", "metrics.step_funnel", "metrics.survival"} <= set(tier.tables)
    out = duckdb.connect(str(tier.path), read_only=True)
    schemas = {
        r[0]
        for r in out.execute(
            "SELECT DISTINCT table_schema FROM information_schema.tables"
        ).fetchall()
    }
    assert schemas == {"metrics", "meta"}
    leaked = out.execute(
        "SELECT count(*) FROM metrics.step_funnel WHERE suppressed AND matches IS NOT NULL"
    ).fetchone()[0]
    assert leaked == 0
