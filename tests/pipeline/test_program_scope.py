"""match_steps per program: a change in one program recomputes that program only, and the
table equals a full recomputation."""

import shutil

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from models.metrics.scope import update_match_steps
from models.metrics.settings import load_settings


def _steps(con) -> pl.DataFrame:
    return con.sql("SELECT * FROM metrics.match_steps ORDER BY match_id").pl()


def test_one_programs_change_recomputes_only_that_program(demo_run, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(demo_run.warehouse, db)
    settings = load_settings(as_of=demo_run.settings.as_of)
    con = duckdb.connect(str(db))
    try:
        con.execute("DROP TABLE IF EXISTS metrics.match_steps_scope")
        programs = sorted(r[0] for r in con.sql("SELECT program_id FROM core.programs").fetchall())
        first = update_match_steps(con, settings)
        assert first.recompute == programs and first.kept == []

        again = update_match_steps(con, settings)
        assert again.recompute == [] and again.kept == programs

        # Cancel one held meeting of the first program: its steps may change, others may not.
        (meeting,) = con.sql(
            "SELECT g.meeting_id FROM core.meetings g JOIN core.matches m USING (match_id) "
            f"WHERE m.program_id = '{programs[0]}' AND g.status = 'held' "
            "ORDER BY g.meeting_id LIMIT 1"
        ).fetchall()[0]
        con.execute("UPDATE core.meetings SET status = 'cancelled' WHERE meeting_id = ?", [meeting])
        scoped = update_match_steps(con, settings)
        assert scoped.recompute == [programs[0]] and scoped.kept == programs[1:]
        incremental = _steps(con)

        con.execute("DROP TABLE metrics.match_steps")
        con.execute("DROP TABLE metrics.match_steps_scope")
        update_match_steps(con, settings)
        assert_frame_equal(incremental, _steps(con))
        before = demo_run.frame("SELECT * FROM metrics.match_steps ORDER BY match_id")
        assert not incremental.equals(before)  # the cancelled meeting did change something
    finally:
        con.close()


def test_new_settings_recompute_every_program(demo_run, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(demo_run.warehouse, db)
    con = duckdb.connect(str(db))
    try:
        update_match_steps(con, load_settings(as_of=demo_run.settings.as_of))
        later = load_settings(as_of=demo_run.settings.as_of.replace(day=29))
        plan = update_match_steps(con, later)
        assert plan.kept == [] and len(plan.recompute) >= 3
        hashes = con.sql("SELECT DISTINCT settings_hash FROM metrics.match_steps").fetchall()
        assert hashes == [(later.hash,)]
    finally:
        con.close()
