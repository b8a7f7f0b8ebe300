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
