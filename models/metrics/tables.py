"""Each metrics table from the warehouse: what it reads, what computes it, how it is written.

One function per table, taking a connection and the run's settings. ``compute_*`` functions
return the table (the caller replaces it whole, one atomic statement); ``store_*`` functions
write it themselves, batch by batch, inside one transaction they own, and return its row
count. Every function reads only the columns its science uses: core tables carry lineage and
columns most metrics never need, and match_steps is 1M rows x 23 columns at consortium size.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from models.metrics.settings import MetricSettings, settings_record
from models.warehouse import read_table, table_exists, transaction

# What each metric reads of match_steps and of the people.
STALLED_COLUMNS = (
    "match_id",
    "program_id",
    "matched_on",
    "held_meetings",
    "last_interaction_on",
    "settings_hash",
)
PAIR_COLUMNS = ("match_id", "program_id", "mentor_id", "mentee_id")
PEOPLE_COLUMNS = ("participant_id", "program_id", "role", "gender", "race_ethnicity")
WISH_COLUMNS = ("wants_same_gender_mentor", "wants_same_race_mentor")
SURVIVAL_COLUMNS = ("match_id", "program_id", "duration_days", "ended")
COX_COLUMNS = ("match_id", "program_id", "mentor_id", "duration_days", "ended", "closure_type")


def read_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """`columns` of `table` (all when None), in table order."""
    if columns is None:
        return read_table(con, table)
    return con.sql(f"SELECT {', '.join(columns)} FROM {table}").pl()


def read_core(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    return read_columns(con, f"core.{table}", columns)


def compute_settings(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    return settings_record(s)


def store_construct_scores(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> int:
    """core.construct_scores, kept when the survey answers' build and the scoring code are
    those of its last computation (it reads neither the as-of date nor the settings)."""
    from models.instruments.codebook import load_codebook
    from models.metrics import derived_builds
    from models.metrics.in_warehouse import SCORES_TABLE, scores_sources, write_construct_scores

    build = derived_builds.fingerprint(con, SCORES_TABLE, ["survey_responses"], scores_sources())
    if derived_builds.still_current(con, build):
        return con.sql(f"SELECT count(*) FROM {SCORES_TABLE}").fetchall()[0][0]
    with transaction(con):
        rows = write_construct_scores(con, load_codebook())
        derived_builds.record(con, build)
        return rows


def store_outcomes_by_match(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> int:
    from models.metrics.in_warehouse import write_outcomes_by_match

    with transaction(con):
        return write_outcomes_by_match(con, s)


def store_match_steps(con: duckdb.DuckDBPyConnection, s: MetricSettings):
    """metrics.match_steps, recomputed for the programs whose inputs or settings changed;
    returns the scope plan (programs recomputed, kept, removed)."""
    from models.metrics.scope import update_match_steps

    with transaction(con):
        return update_match_steps(con, s)


def compute_step_funnel(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.funnel import FUNNEL_INPUTS, step_funnel

    steps = read_columns(con, "metrics.match_steps", FUNNEL_INPUTS)
    return step_funnel(steps, s.period, k=s.suppression_k)


RELIABILITY_TABLE = "metrics.construct_reliability"


def store_construct_reliability(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> int:
    """metrics.construct_reliability, kept when the survey answers' and participants' builds
    and its code are those of its last computation: it reads neither the as-of date nor any
    setting, so a new month changes only its settings_hash column (updated in place)."""
    from models.instruments.codebook import load_codebook
    from models.metrics import derived_builds
    from models.metrics.in_warehouse import reliability_by_program, reliability_sources
    from models.metrics.settings import settings_hash
    from models.warehouse import replace_table

    build = derived_builds.fingerprint(
        con, RELIABILITY_TABLE, ["survey_responses", "participants"], reliability_sources()
    )
    with transaction(con):
        if derived_builds.still_current(con, build):
            con.execute(f"UPDATE {RELIABILITY_TABLE} SET settings_hash = ?", [settings_hash(s)])
        else:
            replace_table(con, RELIABILITY_TABLE, reliability_by_program(con, load_codebook(), s))
            derived_builds.record(con, build)
        return con.sql(f"SELECT count(*) FROM {RELIABILITY_TABLE}").fetchall()[0][0]


def compute_stalled_matches(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.alerts import stalled_matches

    return stalled_matches(
        read_columns(con, "metrics.match_steps", STALLED_COLUMNS),
        read_core(con, "matches", ["match_id", "ended_on"]),
        s,
    )


def compute_alert_counts(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.alerts import alert_counts

    return alert_counts(
        read_table(con, "metrics.stalled_matches"),
        read_columns(con, "metrics.match_steps", ["program_id", "settings_hash"]),
        s,
    )


def compute_match_dyads(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.dyads import dyad_composition

    return dyad_composition(
        read_columns(con, "metrics.match_steps", PAIR_COLUMNS),
        read_core(con, "participants", PEOPLE_COLUMNS),
    )


def compute_breakdowns(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.freed_memory import return_freed_memory
    from models.metrics.funnel import period_label
    from models.metrics.patterns import load_patterns, save_patterns
    from models.stats.breakdowns import DYAD_COLUMNS, PERIOD, breakdown_cells, protect_breakdowns
    from models.stats.observations import OUTCOME_COLUMNS

    # The per-match tables are let go of before the audit: the step's peak is the audit's.
    # Each match's funnel period: the funnel's per-period matches are cells of the audit.
    steps = read_table(con, "metrics.match_steps").with_columns(
        period_label(pl.col("matched_on"), s.period).alias(PERIOD)
    )
    # Only the columns the cells read: the cells are the step's peak (3.3 GB at 600 programs).
    cells = breakdown_cells(
        steps,
        read_columns(con, "metrics.match_dyads", DYAD_COLUMNS),
        read_columns(con, "metrics.outcomes_by_match", OUTCOME_COLUMNS),
    )
    del steps
    return_freed_memory()  # what building the cells freed is most of the step's memory
    # A family whose table is the same as in the last run takes its pattern back (the
    # disclosure audit is most of this step at 300 programs: docs/disclosure.md, "Scale").
    memo = load_patterns(con)
    # The funnel owns a program's matches (the dyad groups' total): one pattern for both.
    funnel = (
        read_table(con, "metrics.step_funnel")
        if table_exists(con, "metrics", "step_funnel")
        else None
    )
    frame = protect_breakdowns(cells, k=s.suppression_k, memo=memo, funnel=funnel)
    save_patterns(con, memo)
    return frame


def compute_homophily(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.homophily import homophily

    return homophily(
        read_core(con, "matches", PAIR_COLUMNS),
        read_core(con, "participants", PEOPLE_COLUMNS),
        k=s.suppression_k,
    )


def compute_same_group_wish(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.wish import same_group_wish

    return same_group_wish(
        read_core(con, "matches", PAIR_COLUMNS),
        read_core(con, "participants", [*PEOPLE_COLUMNS, *WISH_COLUMNS]),
        read_table(con, "metrics.outcomes_by_match"),
        k=s.suppression_k,
    )


def compute_match_duration(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.duration import DURATION_INPUTS, match_duration

    return match_duration(read_core(con, "matches", DURATION_INPUTS), s)


def compute_mentee_status(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.status import mentee_status

    return mentee_status(
        read_core(con, "participants", PEOPLE_COLUMNS),
        read_core(con, "matches", ["mentee_id", "matched_on", "ended_on"]),
        s,
    )


def compute_mentee_status_counts(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.metrics.status import mentee_status_counts, printed_sums

    # Sums of statuses that breakdowns and survival print or hide (issue 15).
    sums = printed_sums(
        read_columns(
            con, "metrics.breakdowns", ["program_id", "dimension", "metric", "suppressed"]
        ),
        read_columns(con, "metrics.survival", ["program_id", "dimension", "suppressed"]),
    )
    return mentee_status_counts(read_table(con, "metrics.mentee_status"), s.suppression_k, sums)


def _survival_frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    from models.stats.survival import survival_frame

    return survival_frame(
        read_columns(con, "metrics.match_duration", SURVIVAL_COLUMNS),
        read_table(con, "metrics.match_dyads"),
    )


def compute_survival(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.breakdowns import DIMENSIONS
    from models.stats.survival import shared_counts, survival_table

    # One pattern for the counts survival shares with breakdowns and the funnel (issue 15).
    shared = shared_counts(
        read_columns(
            con, "metrics.breakdowns", ["program_id", "dimension", '"group"', "metric", "n",
                                        "suppressed"]
        ),
        read_columns(con, "metrics.step_funnel", ["program_id", "period", "matches", "suppressed"]),
    )  # fmt: skip
    table = survival_table(_survival_frame(con), list(DIMENSIONS), s.suppression_k, shared=shared)
    return table.with_columns(settings_hash=pl.lit(s.hash, dtype=pl.String))


def compute_survival_tests(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.survival import DYAD_TESTS, logrank_tests

    tests = logrank_tests(_survival_frame(con), DYAD_TESTS, s.suppression_k)
    return tests.with_columns(settings_hash=pl.lit(s.hash, dtype=pl.String))


def compute_model_estimates(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    """The group models (models/stats/regression.py) and the Cox models (cox.py), one table."""
    from models.stats.cox import fit_cox_models
    from models.stats.regression import MODEL_INPUT_COLUMNS, fit_models

    inputs = {
        table: read_columns(con, f"metrics.{table}", columns)
        for table, columns in MODEL_INPUT_COLUMNS.items()
    }
    frame = fit_models(inputs["match_steps"], inputs["match_dyads"], inputs["outcomes_by_match"])
    durations = read_columns(con, "metrics.match_duration", COX_COLUMNS)
    cox = fit_cox_models(durations, inputs["match_dyads"])
    hashes = frame["settings_hash"].unique().drop_nulls()
    return pl.concat(
        [frame, cox.with_columns(settings_hash=pl.lit(hashes.first(), dtype=pl.String))]
    )


def model_fit_counts(frame: pl.DataFrame) -> dict[str, int]:
    """Models that could not be fitted, and models that did not converge."""
    return {
        "models_not_fitted": frame.filter(frame["term"].is_null()).height,
        "models_not_converged": frame.filter(~frame["converged"].fill_null(False))
        .select("model", "outcome")
        .unique()
        .height,
    }
