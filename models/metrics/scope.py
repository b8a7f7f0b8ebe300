"""Per-program scoping of match_steps: recompute only the programs whose inputs changed.

Every step of a match depends only on rows of its own program (tested in
tests/metrics/test_scoping.py), so a program's rows can be kept when its inputs and the
settings are unchanged, and the table is identical to a full recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from models.metrics.settings import MetricSettings
from models.metrics.steps import match_steps
from models.warehouse import replace_table, sql_file, table_exists

STEPS_TABLE = "metrics.match_steps"
SCOPE_TABLE = "metrics.match_steps_scope"


@dataclass(frozen=True)
class ScopePlan:
    recompute: list[str]  # programs whose rows are (re)computed
    kept: list[str]  # programs whose previous rows stay
    removed: list[str]  # programs no longer in the data


def program_inputs(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.DataFrame:
    inputs = con.sql(sql_file("metrics/program_inputs.sql")).pl()
    return inputs.with_columns(pl.lit(settings.hash).alias("settings_hash"))


def plan_scope(previous: pl.DataFrame | None, current: pl.DataFrame) -> ScopePlan:
    """Compare each program's (inputs_hash, settings_hash) with the last computation."""
    programs = current["program_id"].to_list()
    if previous is None:
        return ScopePlan(recompute=programs, kept=[], removed=[])
    same = current.join(previous, on=["program_id", "inputs_hash", "settings_hash"], how="semi")
    kept = same["program_id"].to_list()
    removed = sorted(set(previous["program_id"]) - set(programs))
    return ScopePlan([p for p in programs if p not in kept], kept, removed)


def _core(con: duckdb.DuckDBPyConnection, table: str, programs: list[str]) -> pl.DataFrame:
    if table == "matches":
        sql = "SELECT * FROM core.matches WHERE program_id IN (SELECT unnest($p))"
    elif table == "survey_items":
        sql = (
            "SELECT s.* FROM core.survey_items AS s JOIN core.participants AS p "
            "USING (participant_id) WHERE p.program_id IN (SELECT unnest($p))"
        )
    else:
        sql = (
            f"SELECT t.* FROM core.{table} AS t JOIN core.matches AS m USING (match_id) "
            "WHERE m.program_id IN (SELECT unnest($p))"
        )
    return con.sql(sql, params={"p": programs}).pl()


def update_match_steps(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> ScopePlan:
    """Write metrics.match_steps, recomputing only the programs whose inputs changed."""
    current = program_inputs(con, settings)
    have_previous = table_exists(con, "metrics", "match_steps") and table_exists(
        con, "metrics", "match_steps_scope"
    )
    previous = con.sql(f"SELECT * FROM {SCOPE_TABLE}").pl() if have_previous else None
    plan = plan_scope(previous, current)
    fresh = match_steps(
        *(
            _core(con, t, plan.recompute)
            for t in ("matches", "meetings", "activities", "survey_items")
        ),
        settings,
    )
    if previous is None:
        replace_table(con, STEPS_TABLE, fresh)
    else:
        gone = plan.recompute + plan.removed
        con.execute(
            f"DELETE FROM {STEPS_TABLE} WHERE program_id IN (SELECT unnest($p))", {"p": gone}
        )
        con.register("__fresh", fresh.to_arrow())
        try:
            con.execute(f"INSERT INTO {STEPS_TABLE} SELECT * FROM __fresh")
        finally:
            con.unregister("__fresh")
    replace_table(con, SCOPE_TABLE, current)
    return plan
