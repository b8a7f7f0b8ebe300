"""Per-program scoping of match_steps: recompute only the programs whose inputs changed.

Every step of a match depends only on rows of its own program (tested in
tests/metrics/test_scoping.py), so a program's rows can be kept when its inputs and the
settings are unchanged, and the table is identical to a full recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from models.metrics.batches import BATCH_ROWS, append_rows, size_batches, write_batches
from models.metrics.settings import MetricSettings
from models.metrics.steps import MATCH_STEPS_COLUMNS, match_steps
from models.warehouse import replace_table, sql_file, table_exists

STEPS_TABLE = "metrics.match_steps"
SCOPE_TABLE = "metrics.match_steps_scope"


@dataclass(frozen=True)
class ScopePlan:
    recompute: list[str]  # programs whose rows are (re)computed
    kept: list[str]  # programs whose previous rows stay
    removed: list[str]  # programs no longer in the data


def program_inputs(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.DataFrame:
    """Per program: inputs_hash, settings_hash and input_rows (rows match_steps reads)."""
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


def _inputs(con: duckdb.DuckDBPyConnection, programs: list[str]) -> list[pl.DataFrame]:
    """The programs' matches, meetings, activities and intake responses (match_steps'
    arguments in order), only the columns match_steps reads: core tables also carry lineage
    and columns it never needs."""
    return [
        con.sql(sql_file(f"metrics/steps_{name}.sql"), params={"programs": programs}).pl()
        for name in ("matches", "meetings", "activities", "intake")
    ]


def update_match_steps(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings, max_rows: int = BATCH_ROWS
) -> ScopePlan:
    """Write metrics.match_steps, recomputing only the programs whose inputs changed.

    Programs are computed in batches of at most about max_rows input rows and appended, so
    memory is bounded by a batch, not by the consortium; a match's steps depend on its own
    program's rows only, so the rows equal one computation over all programs.
    """
    inputs = program_inputs(con, settings)
    sizes = dict(zip(inputs["program_id"], inputs["input_rows"], strict=True))
    current = inputs.select("program_id", "inputs_hash", "settings_hash")
    have_previous = (
        table_exists(con, "metrics", "match_steps")
        and table_exists(con, "metrics", "match_steps_scope")
        # rows of an earlier definition (other columns) are never kept beside new ones
        and con.sql(f"SELECT * FROM {STEPS_TABLE} LIMIT 0").columns == list(MATCH_STEPS_COLUMNS)
    )
    previous = con.sql(f"SELECT * FROM {SCOPE_TABLE}").pl() if have_previous else None
    plan = plan_scope(previous, current)
    batches = size_batches(plan.recompute, sizes, max_rows)
    computed = (match_steps(*_inputs(con, batch), settings) for batch in batches)
    if previous is None:
        write_batches(con, STEPS_TABLE, computed, order_by="match_id")
    else:
        gone = plan.recompute + plan.removed
        con.execute(
            f"DELETE FROM {STEPS_TABLE} WHERE program_id IN (SELECT unnest($p))", {"p": gone}
        )
        for fresh in computed:
            append_rows(con, STEPS_TABLE, fresh)
    replace_table(con, SCOPE_TABLE, current)
    return plan
