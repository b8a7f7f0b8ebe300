"""Metrics stage: the six steps per match, the funnel, instruments, outcomes and alerts.

Each asset reads core tables from the warehouse, calls a pure function of
``models.metrics`` and writes one table; the definitions live in docs/metrics.md. Assets read
only the columns their function uses (core tables carry lineage and columns most metrics never
need); the per-match and per-response tables are computed in bounded batches
(``models.metrics.in_warehouse``), so memory does not grow with the consortium.
"""

from collections.abc import Callable, Sequence

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from models.instruments.codebook import load_codebook
from models.metrics.alerts import alert_counts, stalled_matches
from models.metrics.funnel import FUNNEL_INPUTS, step_funnel
from models.metrics.in_warehouse import (
    reliability_by_program,
    write_construct_scores,
    write_outcomes_by_match,
)
from models.metrics.settings import MetricSettings, load_settings, settings_record
from models.warehouse import read_table, replace_table
from pipelines.defs.core.assets import core_key
from pipelines.resources import ExportFolder


def metric_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", name])


CONSTRUCT_SCORES = dg.AssetKey(["core", "construct_scores"])


def _settings(export: ExportFolder) -> MetricSettings:
    return load_settings(as_of=export.as_of_date)


def markdown_preview(frame: pl.DataFrame, rows: int = 5) -> str:
    """The first rows as a Markdown table, for the asset's page in the UI."""
    if frame.height == 0:
        return "(empty)"
    head = frame.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * head.width]
    lines += [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |"
        for row in head.iter_rows()
    ]
    return "\n".join(lines)


def write_table_result(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame
) -> dg.MaterializeResult:
    replace_table(con, table, frame)
    preview = markdown_preview(frame)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": frame.height, "preview": dg.MetadataValue.md(preview)}
    )


def written_table_result(
    con: duckdb.DuckDBPyConnection, table: str, rows: int
) -> dg.MaterializeResult:
    """Metadata of a table written batch by batch: its rows and its first rows as preview."""
    preview = markdown_preview(con.sql(f"SELECT * FROM {table} LIMIT 5").pl())
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)}
    )


def metric_asset(
    name: str,
    deps: list[dg.AssetKey],
    description: str,
    compute: Callable[[duckdb.DuckDBPyConnection, MetricSettings], pl.DataFrame],
    schema: str = "metrics",
) -> dg.AssetsDefinition:
    key = dg.AssetKey([schema, name])

    @dg.asset(
        key=key,
        deps=deps,
        group_name="metrics",
        kinds={"duckdb", "polars"},
        pool="warehouse",
        description=description,
    )
    def _asset(warehouse: DuckDBResource, export: ExportFolder) -> dg.MaterializeResult:
        settings = _settings(export)
        with warehouse.get_connection() as con:
            frame = compute(con, settings)
            return write_table_result(con, f"{schema}.{name}", frame)

    return _asset


def _written_asset(
    name: str,
    deps: list[dg.AssetKey],
    description: str,
    write: Callable[[duckdb.DuckDBPyConnection, MetricSettings], int],
    schema: str = "metrics",
) -> dg.AssetsDefinition:
    """An asset whose function writes its table itself (in batches) and returns its rows."""
    key = dg.AssetKey([schema, name])

    @dg.asset(
        key=key,
        deps=deps,
        group_name="metrics",
        kinds={"duckdb", "polars"},
        pool="warehouse",
        description=description,
    )
    def _asset(warehouse: DuckDBResource, export: ExportFolder) -> dg.MaterializeResult:
        settings = _settings(export)
        with warehouse.get_connection() as con:
            con.execute("BEGIN TRANSACTION")  # readers never see a table half written
            rows = write(con, settings)
            con.execute("COMMIT")
            return written_table_result(con, f"{schema}.{name}", rows)

    return _asset


def read_core(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    return read_columns(con, f"core.{table}", columns)


def read_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """`columns` of `table` (all when None), in table order."""
    if columns is None:
        return read_table(con, table)
    return con.sql(f"SELECT {', '.join(columns)} FROM {table}").pl()


# What each metric reads of match_steps (1M rows x 23 columns at consortium size).
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


metric_settings = metric_asset(
    "settings",
    [],
    "The metric settings (models/settings.yaml) and as-of date of this run, with their hash; "
    "every metrics table carries the settings_hash that produced it.",
    lambda con, s: settings_record(s),
)

scores = _written_asset(
    "construct_scores",
    [core_key("survey_responses")],
    "One row per survey response and instrument construct: mean of the answered items "
    "(reverse-scored where the codebook says), null below the minimum answered share.",
    lambda con, s: write_construct_scores(con, load_codebook()),
    schema="core",
)


@dg.asset(
    key=metric_key("match_steps"),
    deps=[core_key(t) for t in ("matches", "meetings", "activities", "survey_responses")]
    + [metric_key("settings")],
    group_name="metrics",
    kinds={"duckdb", "polars"},
    pool="warehouse",
    description="One row per match: Blake-Beard's six steps (s1..s6), timing, shares, cycles, "
    "lasting. Scoped per program: only programs whose inputs or settings changed since the "
    "last run are recomputed (metrics.match_steps_scope).",
)
def steps(warehouse: DuckDBResource, export: ExportFolder) -> dg.MaterializeResult:
    from models.metrics.scope import update_match_steps

    settings = _settings(export)
    with warehouse.get_connection() as con:
        con.execute("BEGIN TRANSACTION")
        plan = update_match_steps(con, settings)
        con.execute("COMMIT")
        rows = con.sql("SELECT count(*) FROM metrics.match_steps").fetchall()[0][0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "programs_recomputed": dg.MetadataValue.json(plan.recompute),
            "programs_kept": dg.MetadataValue.json(plan.kept),
            "programs_removed": dg.MetadataValue.json(plan.removed),
        }
    )


funnel = metric_asset(
    "step_funnel",
    [metric_key("match_steps")],
    "Per program and calendar quarter of matched_on (plus 'all'): matches reaching each step, "
    "conversion between steps and median days between dated steps.",
    lambda con, s: step_funnel(
        read_columns(con, "metrics.match_steps", FUNNEL_INPUTS), s.period, k=s.suppression_k
    ),
)

reliability = metric_asset(
    "construct_reliability",
    [CONSTRUCT_SCORES, core_key("participants")],
    "Cronbach's alpha with n (complete cases) per construct, program and survey wave.",
    lambda con, s: reliability_by_program(con, load_codebook(), s),
)

outcomes = _written_asset(
    "outcomes_by_match",
    [core_key("outcomes"), CONSTRUCT_SCORES, core_key("matches")],
    "Long table: per match and mentee, each outcome measure (retained, promoted, "
    "goal_attained, program measures), exit MFQ-9 scores, change from intake, satisfaction.",
    write_outcomes_by_match,
)

stalled = metric_asset(
    "stalled_matches",
    [metric_key("match_steps")],
    "Early alerts: matches with no first meeting after N days, or open with no interaction "
    "for N days (settings). Program staff act on these weekly.",
    lambda con, s: stalled_matches(
        read_columns(con, "metrics.match_steps", STALLED_COLUMNS),
        read_core(con, "matches", ["match_id", "ended_on"]),
        s,
    ),
)

alerts = metric_asset(
    "alert_counts",
    [metric_key("stalled_matches")],
    "Per program and alert kind: the number and share of matches flagged.",
    lambda con, s: alert_counts(
        read_table(con, "metrics.stalled_matches"),
        read_columns(con, "metrics.match_steps", ["program_id", "settings_hash"]),
        s,
    ),
)

metric_assets = [metric_settings, scores, steps, funnel, reliability, outcomes, stalled, alerts]


# Diversity: dyad composition, breakdowns with disclosure control, homophily.
# All published numbers go through models.stats' suppression (k from settings).


def _dyads(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.dyads import dyad_composition

    return dyad_composition(
        read_columns(con, "metrics.match_steps", PAIR_COLUMNS),
        read_core(con, "participants", PEOPLE_COLUMNS),
    )


def _breakdowns(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.breakdowns import breakdowns

    return breakdowns(
        read_table(con, "metrics.match_steps"),
        read_table(con, "metrics.match_dyads"),
        read_table(con, "metrics.outcomes_by_match"),
        k=s.suppression_k,
    )


def _homophily(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.homophily import homophily

    return homophily(
        read_core(con, "matches", PAIR_COLUMNS),
        read_core(con, "participants", PEOPLE_COLUMNS),
        k=s.suppression_k,
    )


def _wish(con: duckdb.DuckDBPyConnection, s: MetricSettings) -> pl.DataFrame:
    from models.stats.wish import same_group_wish

    wishes = ("wants_same_gender_mentor", "wants_same_race_mentor")
    return same_group_wish(
        read_core(con, "matches", PAIR_COLUMNS),
        read_core(con, "participants", [*PEOPLE_COLUMNS, *wishes]),
        read_table(con, "metrics.outcomes_by_match"),
        k=s.suppression_k,
    )


dyads = metric_asset(
    "match_dyads",
    [metric_key("match_steps"), core_key("participants")],
    "Per match: mentee and mentor gender and race, dyad_gender and dyad_race (same, cross, "
    "unknown when either side is undisclosed or self-described). Person-level: not published "
    "in reports.",
    _dyads,
)

breakdown_table = metric_asset(
    "breakdowns",
    [metric_key("match_steps"), metric_key("match_dyads"), metric_key("outcomes_by_match")],
    "Every step rate and outcome by mentee gender, mentee race, mentor gender and race, dyad "
    "composition and gender x race, per program and overall, with 95% intervals, the gap "
    "against the rest of the dimension, and small-group (and complementary) suppression.",
    _breakdowns,
)

homophily_table = metric_asset(
    "homophily",
    [core_key("matches"), core_key("participants")],
    "Observed share of same-gender and same-race matches against the share expected by chance "
    "from each program's pools, with a permutation p-value and the E-I index.",
    _homophily,
)

wish_table = metric_asset(
    "same_group_wish",
    [core_key("matches"), core_key("participants"), metric_key("outcomes_by_match")],
    "Among mentees who asked for a same-gender or same-race mentor: whether the wish was met, "
    "and outcomes met vs unmet (suppressed like breakdowns).",
    _wish,
)

metric_assets += [dyads, breakdown_table, homophily_table, wish_table]
