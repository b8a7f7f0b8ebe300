"""The survey-based metrics tables computed from the warehouse in bounded batches.

The functions of construct_scores, construct_reliability and outcomes_by_match take whole
frames; at consortium size (~8M survey items, 1M matches) those frames and their group-bys
would need several GB. These read only the columns and rows each function uses, one batch of
survey responses or programs at a time, and give the same rows as one call on whole tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl

from models.instruments.codebook import Codebook
from models.metrics.batches import BATCH_ROWS, bucket_count, size_batches, write_batches
from models.metrics.constructs import construct_scores
from models.metrics.outcomes import SATISFACTION_ITEM, outcomes_by_match
from models.metrics.reliability import construct_reliability
from models.metrics.settings import MetricSettings
from models.warehouse import sql_file

SCORES_TABLE = "core.construct_scores"
OUTCOMES_TABLE = "metrics.outcomes_by_match"


def _frame(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    return con.sql(sql_file(f"metrics/{name}.sql"), params=params).pl()


def _items(codebook: Codebook) -> list[str]:
    return codebook.item_frame()["item_id"].to_list()


def program_sizes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per program that the per-program metrics read (matches, survey items, outcomes)."""
    rows = con.sql(sql_file("metrics/program_rows.sql")).fetchall()
    return {program: int(n) for program, n in rows}


def program_batches(con: duckdb.DuckDBPyConnection, max_rows: int = BATCH_ROWS) -> list[list[str]]:
    sizes = program_sizes(con)
    return size_batches(sorted(sizes), sizes, max_rows)


def scores_sources() -> list[Path]:
    """What core.construct_scores is computed by, besides the survey answers."""
    models = Path(__file__).parents[1]
    sources = [*sorted((models / "instruments").glob("*")), models / "sql" / "metrics"
               / "survey_items_bucket.sql"]  # fmt: skip
    sources += [Path(__file__), models / "metrics" / "constructs.py",
                models / "metrics" / "frames.py", models / "metrics" / "batches.py"]  # fmt: skip
    return [p for p in sources if p.is_file()]


def reliability_sources() -> list[Path]:
    """What metrics.construct_reliability is computed by, besides the survey answers and the
    participants' programs (the scores' sources, its own code and SQL)."""
    models = Path(__file__).parents[1]
    sql = models / "sql" / "metrics"
    queries = ("items", "people", "orphan_items")
    own = [models / "metrics" / "reliability.py", *(sql / f"reliability_{q}.sql" for q in queries)]
    return [*scores_sources(), *(p for p in own if p.is_file())]


def write_construct_scores(
    con: duckdb.DuckDBPyConnection, codebook: Codebook, max_rows: int = BATCH_ROWS
) -> int:
    """core.construct_scores, by hash buckets of responses; the number of rows."""
    items = _items(codebook)
    total = con.sql("SELECT count(*) FROM core.survey_items").fetchall()[0][0]
    buckets = bucket_count(total, max_rows)

    def scored() -> Iterator[pl.DataFrame]:
        for bucket in range(buckets):
            frame = _frame(con, "survey_items_bucket", items=items, buckets=buckets, bucket=bucket)
            yield construct_scores(frame, codebook)

    return write_batches(con, SCORES_TABLE, scored(), order_by="response_id, construct")


def reliability_by_program(
    con: duckdb.DuckDBPyConnection,
    codebook: Codebook,
    settings: MetricSettings,
    max_rows: int = BATCH_ROWS,
) -> pl.DataFrame:
    """metrics.construct_reliability, computed per batch of programs (alpha is per program).

    The items of participants missing from core.participants form their own last batch, as
    they form the program_id-null rows of one computation over everything.
    """
    items = _items(codebook)
    parts = []
    for programs in program_batches(con, max_rows):
        people = _frame(con, "reliability_people", programs=programs)
        survey = _frame(con, "reliability_items", items=items, programs=programs)
        parts.append(construct_reliability(survey, codebook, people, settings=settings))
    orphans = _frame(con, "reliability_orphan_items", items=items)
    if orphans.height:
        nobody = _frame(con, "reliability_people", programs=[])
        parts.append(construct_reliability(orphans, codebook, nobody, settings=settings))
    return pl.concat(parts).sort(["program_id", "survey", "construct"], nulls_last=True)


def write_outcomes_by_match(
    con: duckdb.DuckDBPyConnection, settings: MetricSettings, max_rows: int = BATCH_ROWS
) -> int:
    """metrics.outcomes_by_match, per batch of programs (value_type is decided within a
    program); the number of rows."""

    def computed() -> Iterator[pl.DataFrame]:
        for programs in program_batches(con, max_rows):
            yield outcomes_by_match(
                _frame(con, "outcome_matches", programs=programs),
                _frame(con, "outcome_records", programs=programs),
                _frame(con, "outcome_scores", programs=programs),
                _frame(con, "outcome_satisfaction", programs=programs, item=SATISFACTION_ITEM),
                settings,
            )

    return write_batches(con, OUTCOMES_TABLE, computed(), order_by="match_id, measure")
