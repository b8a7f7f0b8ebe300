"""DuckDB's memory cap while validating follows the run's own limit, not a fixed figure.

Issue 20: a fixed 64 MB per DuckDB thread passed on one generated consortium and ran out of
memory in ``validate_matches`` on another seed. What the matches frame needs grows with the
participants (four hash tables over their ids are held while it streams), so the cap is
half the connection's limit (``batches.validation_limit``). Here the per-thread floor is
lowered so that, on 60,000 matches, the floor alone fails: the same validation must then
pass under the share of the connection's limit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from models.validation import batches, validate_warehouse_table

AS_OF = date(2026, 6, 30)
N_MATCHES = 60_000
CONNECTION_LIMIT = 256 * 1024**2
SMALL_FLOOR = 8 * 1024**2  # per thread: 16 MB on 2 threads, below what the joins hold


def _warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """Programs, participants (a mentee and a mentor per match) and matches, all valid."""
    con = duckdb.connect(str(path), config={"threads": 2})
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE core.programs AS SELECT 'P' || i::VARCHAR AS program_id, "
        "'Program ' || i::VARCHAR AS name, 'corporate' AS setting, "
        "DATE '2024-01-01' AS start_date, NULL::DATE AS end_date, NULL::VARCHAR AS timezone "
        "FROM range(30) AS r(i)"
    )
    con.execute(
        "CREATE TABLE core.participants AS SELECT "
        "CASE WHEN i % 2 = 0 THEN 'mentee-' ELSE 'mentor-' END || (i // 2)::VARCHAR "
        "AS participant_id, 'P' || ((i // 2) % 30)::VARCHAR AS program_id, "
        "CASE WHEN i % 2 = 0 THEN 'mentee' ELSE 'mentor' END AS role, "
        "DATE '2024-01-02' AS enrolled_on, "
        "(['woman', 'man', 'non_binary'])[i % 3 + 1] AS gender, "
        "(['asian', 'black', 'white'])[i % 3 + 1] AS race_ethnicity, "
        "NULL::VARCHAR AS age_band, NULL::VARCHAR AS career_level, "
        "NULL::VARCHAR AS department, i % 5 = 0 AS first_generation, "
        "NULL::BOOLEAN AS wants_same_gender_mentor, NULL::BOOLEAN AS wants_same_race_mentor "
        f"FROM range({2 * N_MATCHES}) AS r(i)"
    )
    con.execute(
        "CREATE TABLE core.matches AS SELECT 'match-' || i::VARCHAR AS match_id, "
        "'P' || (i % 30)::VARCHAR AS program_id, 'mentor-' || i::VARCHAR AS mentor_id, "
        "'mentee-' || i::VARCHAR AS mentee_id, DATE '2024-02-01' + (i % 90)::INTEGER "
        "AS matched_on, NULL::DATE AS requested_on, NULL::DATE AS ended_on, "
        "'assigned' AS match_source, NULL::VARCHAR AS closure_reason "
        f"FROM range({N_MATCHES}) AS r(i)"
    )
    con.execute(f"SET memory_limit = '{CONNECTION_LIMIT}B'")
    return con


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(batches, "DUCKDB_MEMORY_PER_THREAD", SMALL_FLOOR)
    con = _warehouse(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def test_the_per_thread_floor_alone_runs_out_of_memory(warehouse, monkeypatch):
    """The old rule (a figure per thread, whatever the run's limit) fails on this table."""
    monkeypatch.setattr(batches, "DUCKDB_MEMORY_SHARE", 0.0)
    with pytest.raises(duckdb.OutOfMemoryException):
        validate_warehouse_table(warehouse, "matches", "run", AS_OF)


def test_a_share_of_the_run_limit_validates_the_same_table(warehouse):
    validation = validate_warehouse_table(warehouse, "matches", "run", AS_OF)
    assert validation.row_count == N_MATCHES
    assert not validation.failures()
    limit = "SELECT current_setting('memory_limit')"
    with batches.memory_cap(warehouse):
        assert warehouse.sql(limit).fetchall() == [("128.0 MiB",)]  # half of 256 MiB
    assert warehouse.sql(limit).fetchall() == [("256.0 MiB",)]  # restored


@pytest.mark.parametrize(
    ("current", "threads", "asked", "expected"),
    [
        (2_000_000_000, 2, 0, 1_000_000_000),  # the run's default: half of it
        (40 * 1024**2, 2, 0, 20 * 1024**2),  # half: above the floor of 2 x 8 MiB
        (20 * 1024**2, 2, 0, 16 * 1024**2),  # the floor: above half of the limit
        (20 * 1024**2, 4, 0, 20 * 1024**2),  # a floor above the limit: the limit
        (2_000_000_000, 2, 1_500_000_000, 1_500_000_000),  # a caller asking for more
        (2_000_000_000, 2, 3_000_000_000, 2_000_000_000),  # but never above the limit
    ],
)
def test_the_validation_limit(monkeypatch, current, threads, asked, expected):
    monkeypatch.setattr(batches, "DUCKDB_MEMORY_PER_THREAD", SMALL_FLOOR)
    assert batches.validation_limit(current, threads, asked) == expected


def test_the_floor_per_thread_holds_under_a_small_limit():
    floor = batches.DUCKDB_MEMORY_PER_THREAD
    assert batches.validation_limit(4 * floor, 2, 0) == 2 * floor  # not half: the floor
    assert batches.validation_limit(4 * floor, 8, 0) == 4 * floor  # capped by the limit


def test_no_cap_without_a_temp_directory_to_spill_to():
    con = duckdb.connect(config={"temp_directory": ""})
    con.execute("SET memory_limit = '3GiB'")
    with batches.memory_cap(con):
        assert con.sql("SELECT current_setting('memory_limit')").fetchall() == [("3.0 GiB",)]
    con.close()
