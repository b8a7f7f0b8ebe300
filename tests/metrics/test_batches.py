"""Metrics computed from the warehouse in small batches equal one computation on whole tables.

The batch size is set far below the data so that every table is split into several batches
(as a consortium is at the default size); the reference is the pure function on whole frames.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models.instruments.codebook import load_codebook
from models.metrics import (
    construct_reliability,
    construct_scores,
    match_steps,
    outcomes_by_match,
)
from models.metrics.batches import bucket_count, size_batches
from models.metrics.in_warehouse import (
    program_batches,
    reliability_by_program,
    write_construct_scores,
    write_outcomes_by_match,
)
from models.metrics.scope import program_inputs, update_match_steps
from models.metrics.settings import MetricSettings

from .synthetic import random_core

SETTINGS = MetricSettings(as_of=dt.date(2025, 6, 30))
MFQ = load_codebook()
SMALL = 4_000  # rows per batch: the world below is ~10 times that per table


@pytest.fixture(scope="module")
def world() -> dict[str, pl.DataFrame]:
    tables = random_core(2000, seed=31, as_of=SETTINGS.as_of, n_programs=9)
    # Items of a participant missing from participants: their program is unknown.
    first = tables["survey_items"]["response_id"].unique().sort().head(40).implode()
    orphan = (
        tables["survey_items"]
        .filter(pl.col("response_id").is_in(first))
        .with_columns(participant_id=pl.lit("NOBODY"), response_id="X" + pl.col("response_id"))
    )
    tables["survey_items"] = pl.concat([tables["survey_items"], orphan])
    return tables


@pytest.fixture()
def con(world) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    con.execute("CREATE SCHEMA metrics")
    for name, frame in world.items():
        con.register("__t", frame.to_arrow())
        con.execute(f"CREATE TABLE core.{name} AS SELECT * FROM __t")
        con.unregister("__t")
    yield con
    con.close()


def _table(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    """The table in its stored order (no ORDER BY): batches must restore one sorted write."""
    return con.sql(f"SELECT * FROM {table}").pl()


def test_batch_sizes() -> None:
    assert size_batches(["a", "b", "c", "d"], {"a": 3, "b": 3, "c": 9, "d": 1}, 6) == [
        ["a", "b"],
        ["c"],
        ["d"],
    ]
    assert size_batches([], {}, 6) == [[]]  # still one (empty) batch: a typed empty table
    assert bucket_count(0, 10) == 1 and bucket_count(10, 10) == 1 and bucket_count(11, 10) == 2


def test_match_steps_in_batches_equal_one_computation(con, world) -> None:
    sizes = program_inputs(con, SETTINGS)
    rows = dict(zip(sizes["program_id"], sizes["input_rows"], strict=True))
    batches = size_batches(sizes["program_id"].to_list(), rows, SMALL)
    assert len(batches) > 2
    update_match_steps(con, SETTINGS, max_rows=SMALL)
    whole = match_steps(
        world["matches"], world["meetings"], world["activities"], world["survey_items"], SETTINGS
    )
    assert_frame_equal(_table(con, "metrics.match_steps"), whole)
    # A second run keeps every program; the table is unchanged.
    again = update_match_steps(con, SETTINGS, max_rows=SMALL)
    assert again.recompute == [] and len(again.kept) == 9
    assert_frame_equal(_table(con, "metrics.match_steps").sort("match_id"), whole)


def test_construct_scores_in_buckets_equal_one_computation(con, world) -> None:
    assert bucket_count(world["survey_items"].height, SMALL) > 2
    rows = write_construct_scores(con, MFQ, max_rows=SMALL)
    whole = construct_scores(world["survey_items"], MFQ)
    assert rows == whole.height
    assert_frame_equal(_table(con, "core.construct_scores"), whole)


def test_reliability_by_program_equals_one_computation(con, world) -> None:
    assert len(program_batches(con, SMALL)) > 2
    ours = reliability_by_program(con, MFQ, SETTINGS, max_rows=SMALL)
    whole = construct_reliability(
        world["survey_items"], MFQ, world["participants"], settings=SETTINGS
    )
    assert ours["program_id"].null_count() > 0  # the orphan items' own groups
    # alpha's last bits depend on Polars' summation order, even between two whole runs
    assert_frame_equal(ours, whole, check_exact=False, rel_tol=1e-12, abs_tol=1e-12)


def test_outcomes_in_batches_equal_one_computation(con, world) -> None:
    write_construct_scores(con, MFQ)
    rows = write_outcomes_by_match(con, SETTINGS, max_rows=SMALL)
    whole = outcomes_by_match(
        world["matches"],
        world["outcomes"],
        construct_scores(world["survey_items"], MFQ),
        world["survey_items"],
        SETTINGS,
    )
    assert rows == whole.height > 0
    assert_frame_equal(_table(con, "metrics.outcomes_by_match"), whole)
