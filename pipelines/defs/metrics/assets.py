"""Metrics stage: the six steps per match, the funnel, instruments, outcomes, alerts and the
diversity tables.

Wiring only: each table's reads and computation are in models/metrics/tables.py (the
definitions in docs/metrics.md). All published numbers go through models.stats' suppression
(k from settings).
"""

from collections.abc import Callable, Mapping

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from models.metrics import tables
from models.metrics.settings import MetricSettings
from pipelines.defs.keys import CONSTRUCT_SCORES, core_key, metric_key, table_key
from pipelines.resources import RunConfig

Compute = Callable[[duckdb.DuckDBPyConnection, MetricSettings], pl.DataFrame]
Store = Callable[[duckdb.DuckDBPyConnection, MetricSettings], int]


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


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, rows: int) -> dict:
    """A written table's rows and its first rows as preview."""
    preview = markdown_preview(con.sql(f"SELECT * FROM {table} LIMIT 5").pl())
    return {"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)}


def metric_asset(
    name: str,
    deps: list[dg.AssetKey],
    description: str,
    compute: Compute | None = None,
    *,
    store: Store | None = None,
    schema: str = "metrics",
    group: str = "metrics",
    figures: Callable[[pl.DataFrame], Mapping[str, int]] | None = None,
) -> dg.AssetsDefinition:
    """The asset of table ``schema.name``: `compute` returns it (replaced whole, one atomic
    statement), or `store` writes it batch by batch in its own transaction and returns its
    rows. `figures` adds metadata computed from the table `compute` returned."""
    assert (compute is None) != (store is None), "give compute or store"
    table = f"{schema}.{name}"

    @dg.asset(
        key=table_key(schema, name),
        deps=deps,
        group_name=group,
        kinds={"duckdb", "polars"},
        pool="warehouse",
        description=description,
    )
    def _asset(warehouse: DuckDBResource, export: RunConfig) -> dg.MaterializeResult:
        from models.warehouse import replace_table

        settings = export.metric_settings()
        extra: Mapping[str, int] = {}
        with warehouse.get_connection() as con:
            if store is not None:
                rows = store(con, settings)
            else:
                frame = compute(con, settings)
                replace_table(con, table, frame)
                rows = frame.height
                extra = figures(frame) if figures else {}
            return dg.MaterializeResult(metadata={**table_metadata(con, table, rows), **extra})

    return _asset


metric_settings = metric_asset(
    "settings",
    [],
    "The metric settings (models/settings.yaml) and as-of date of this run, with their hash; "
    "every metrics table carries the settings_hash that produced it.",
    tables.compute_settings,
)

scores = metric_asset(
    "construct_scores",
    [core_key("survey_responses")],
    "One row per survey response and instrument construct: mean of the answered items "
    "(reverse-scored where the codebook says), null below the minimum answered share.",
    store=tables.store_construct_scores,
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
def steps(warehouse: DuckDBResource, export: RunConfig) -> dg.MaterializeResult:
    settings = export.metric_settings()
    with warehouse.get_connection() as con:
        plan = tables.store_match_steps(con, settings)
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
    tables.compute_step_funnel,
)

reliability = metric_asset(
    "construct_reliability",
    [CONSTRUCT_SCORES, core_key("participants")],
    "Cronbach's alpha with n (complete cases) per construct, program and survey wave. "
    "Kept when the survey answers, the participants and its code are unchanged.",
    store=tables.store_construct_reliability,
)

outcomes = metric_asset(
    "outcomes_by_match",
    [core_key("outcomes"), CONSTRUCT_SCORES, core_key("matches")],
    "Long table: per match and mentee, each outcome measure (retained, promoted, "
    "goal_attained, program measures), exit MFQ-9 scores, change from intake, satisfaction.",
    store=tables.store_outcomes_by_match,
)

stalled = metric_asset(
    "stalled_matches",
    [metric_key("match_steps")],
    "Early alerts: matches with no first meeting after N days, or open with no interaction "
    "for N days (settings). Program staff act on these weekly.",
    tables.compute_stalled_matches,
)

alerts = metric_asset(
    "alert_counts",
    [metric_key("stalled_matches")],
    "Per program and alert kind: the number and share of matches flagged.",
    tables.compute_alert_counts,
)

dyads = metric_asset(
    "match_dyads",
    [metric_key("match_steps"), core_key("participants")],
    "Per match: mentee and mentor gender and race, dyad_gender and dyad_race (same, cross, "
    "unknown when either side is undisclosed or self-described). Person-level: not published "
    "in reports.",
    tables.compute_match_dyads,
)

breakdown_table = metric_asset(
    "breakdowns",
    # The step funnel owns each program's matches, the dyad groups' total (docs/disclosure.md).
    [
        metric_key("match_steps"),
        metric_key("match_dyads"),
        metric_key("outcomes_by_match"),
        metric_key("step_funnel"),
    ],
    "Every step rate and outcome by mentee gender, mentee race, mentor gender and race, dyad "
    "composition and gender x race, per program and overall, with 95% intervals, the gap "
    "against the rest of the dimension, and small-group (and complementary) suppression.",
    tables.compute_breakdowns,
)

homophily_table = metric_asset(
    "homophily",
    [core_key("matches"), core_key("participants")],
    "Observed share of same-gender and same-race matches against the share expected by chance "
    "from each program's pools, with a permutation p-value and the E-I index.",
    tables.compute_homophily,
)

wish_table = metric_asset(
    "same_group_wish",
    [core_key("matches"), core_key("participants"), metric_key("outcomes_by_match")],
    "Among mentees who asked for a same-gender or same-race mentor: whether the wish was met, "
    "and outcomes met vs unmet (suppressed like breakdowns).",
    tables.compute_same_group_wish,
)

metric_assets = [
    metric_settings,
    scores,
    steps,
    funnel,
    reliability,
    outcomes,
    stalled,
    alerts,
    dyads,
    breakdown_table,
    homophily_table,
    wish_table,
]
