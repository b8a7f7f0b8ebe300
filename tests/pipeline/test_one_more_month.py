"""One more month on a loaded warehouse gives what a run from nothing gives (issue 20).

A run keeps what its inputs did not change (core tables, their validations, construct scores
and reliability, suppression patterns, labelled files). Three real runs of the whole job: a
program's export, then the same warehouse with one more month of meetings (the benchmark's
month: benchmarks.runner.add_month, as-of a month later), then a fresh warehouse on that
same folder. Every table of the warehouse and of the research snapshot must agree, apart from
what records the run itself (ids, times, build fingerprints) and floating-point sums taken
in another order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from benchmarks.runner import add_month
from models.demo.generator import generate
from pipelines.runner import run_pipeline
from pipelines.settings import RunSettings

from ..conftest import DEMO_AS_OF, DEMO_KEY

# Columns that say when and in which run a row was written, not what the data are.
RUN_COLUMNS = {
    "run_id",
    "loaded_at",
    "_loaded_at",
    "built_at",
    "checked_at",
    "snapshot_id",
}
# raw's bookkeeping of what was built from what: a kept build keeps its first run's record.
BOOKKEEPING = {
    ("raw", "core_builds"),
    ("raw", "derived_builds"),
    ("raw", "validation_builds"),
    ("raw", "file_ledger"),
    ("raw", "suppression_patterns"),
}
# Sums over rows in another order differ in the last bits (measured: 1e-13 relative at most).
RELATIVE = 1e-9


@dataclass(frozen=True)
class Place:
    warehouse: Path
    research: Path


def _run(data: Path, place: Place, as_of, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MENTORSCOPE_PSEUDONYM_KEY", DEMO_KEY)
    monkeypatch.setenv("MENTORSCOPE_RESEARCH_DIR", str(place.research))
    settings = RunSettings(
        data_dir=data,
        warehouse=place.warehouse,
        reports_dir=place.warehouse.parent / "reports",
        as_of=as_of,
    )
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_pipeline(settings, instance=instance)
    assert report.success, report.errors + report.failed_checks
    return report.run_id


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("month")
    export = root / "export"
    generate(export, seed=11, scale=0.1, as_of=DEMO_AS_OF, bad_rows=True)
    loaded = Place(root / "loaded" / "mentorscope.duckdb", root / "loaded" / "research")
    fresh = Place(root / "fresh" / "mentorscope.duckdb", root / "fresh" / "research")
    with pytest.MonkeyPatch.context() as mp:
        first = _run(export, loaded, DEMO_AS_OF, mp)
        folder, added, later = add_month(export, root / "with_month", DEMO_AS_OF)
        second = _run(folder, loaded, later, mp)
        _run(folder, fresh, later, mp)
    return {"loaded": loaded, "fresh": fresh, "added": added, "runs": (first, second)}


def _tables(path: Path) -> dict[tuple[str, str], pl.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        return {(s, t): con.sql(f'SELECT * FROM "{s}"."{t}"').pl() for s, t in names}
    finally:
        con.close()


def _differences(mine: pl.DataFrame, theirs: pl.DataFrame) -> str | None:
    """Why two tables differ as multisets of rows (floats to RELATIVE), or None."""
    if mine.columns != theirs.columns:
        return f"columns {mine.columns} / {theirs.columns}"
    if mine.height != theirs.height:
        return f"rows {mine.height} / {theirs.height}"
    columns = [c for c in mine.columns if c not in RUN_COLUMNS]
    floats = [c for c in columns if mine[c].dtype in (pl.Float32, pl.Float64)]
    exact = [c for c in columns if c not in floats]

    def ordered(frame: pl.DataFrame) -> pl.DataFrame:
        keys = frame.select(exact).with_columns(pl.all().cast(pl.String))
        rounded = frame.select(pl.col(c).round_sig_figs(6).alias(f"_{c}") for c in floats)
        return pl.concat([keys, rounded, frame.select(floats)], how="horizontal").sort(
            pl.all(), nulls_last=True
        )

    a, b = ordered(mine), ordered(theirs)
    for column in exact:
        if not a[column].equals(b[column]):
            return f"column {column}"
    for column in floats:
        for x, y in zip(a[column].to_list(), b[column].to_list(), strict=True):
            if x is None or y is None or math.isnan(x) or math.isnan(y):
                if not (x is None and y is None) and not (
                    x is not None and y is not None and math.isnan(x) and math.isnan(y)
                ):
                    return f"column {column}: {x} / {y}"
            elif not math.isclose(x, y, rel_tol=RELATIVE, abs_tol=1e-12):
                return f"column {column}: {x} / {y}"
    return None


def _compare(mine: Path, theirs: Path, latest_run: str) -> dict[str, str]:
    ours, fresh = _tables(mine), _tables(theirs)
    assert ours.keys() == fresh.keys()
    found = {}
    for key in sorted(ours.keys() - BOOKKEEPING):
        a, b = ours[key], fresh[key]
        if key[1] == "expectation_results":
            # A warehouse keeps every run's results: the month's are what a fresh run records.
            a = a.filter(pl.col("run_id") == latest_run)
        why = _differences(a, b)
        if why is not None:
            found[".".join(key)] = why
    return found


@pytest.mark.slow
def test_the_month_keeps_what_it_did_not_change(month) -> None:
    # What shows the month took the short way: core tables the new file does not reach kept
    # their first run's build; meetings (the new file) grew from the first run's build: only
    # the new rows and the rows refused before were checked.
    assert month["added"] > 0
    first, second = month["runs"]
    con = duckdb.connect(str(month["loaded"].warehouse), read_only=True)
    try:
        built = dict(con.sql("SELECT table_name, run_id FROM raw.core_builds").fetchall())
        grown = dict(con.sql("SELECT table_name, appended_from FROM raw.core_builds").fetchall())
    finally:
        con.close()
    assert built["programs"] == built["participants"] == built["survey_responses"] == first
    assert built["meetings"] == second
    assert grown["meetings"] == first


@pytest.mark.slow
def test_the_warehouse_after_a_month_equals_a_fresh_run(month) -> None:
    second = month["runs"][1]
    assert _compare(month["loaded"].warehouse, month["fresh"].warehouse, second) == {}


@pytest.mark.slow
def test_the_research_snapshot_after_a_month_equals_a_fresh_one(month) -> None:
    loaded = month["loaded"].research / "research.duckdb"
    fresh = month["fresh"].research / "research.duckdb"
    assert _compare(loaded, fresh, month["runs"][1]) == {}


def test_the_comparison_sees_a_changed_value_a_lost_row_and_a_float_beyond_rounding() -> None:
    table = pl.DataFrame({"group": ["a", "b"], "n": [3, 4], "share": [0.25, 0.5], "run_id": "x"})
    assert _differences(table, table.reverse().with_columns(pl.lit("y").alias("run_id"))) is None
    assert _differences(table, table.with_columns(pl.Series("n", [3, 5]))) == "column n"
    assert _differences(table, table.head(1)) == "rows 2 / 1"
    close = table.with_columns(pl.Series("share", [0.25 * (1 + 1e-13), 0.5]))
    assert _differences(table, close) is None
    far = table.with_columns(pl.Series("share", [0.2501, 0.5]))
    assert _differences(table, far) is not None
