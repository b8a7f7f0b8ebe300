"""Models stage: fits of outcomes on the six steps and dyad composition (models/stats)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.metrics.assets import metric_key, write_table_result
from pipelines.resources import ExportFolder

MODEL_ESTIMATES = metric_key("model_estimates")


@dg.asset(
    key=MODEL_ESTIMATES,
    deps=[
        metric_key("match_steps"),
        metric_key("match_dyads"),
        metric_key("outcomes_by_match"),
        metric_key("match_duration"),
    ],
    group_name="models",
    kinds={"duckdb", "numpy"},
    pool="warehouse",
    description="Logistic models (retained, promoted, lasting, s6) and linear and mixed models "
    "(exit MFQ-9 scores) on the step indicators, dyad composition and program, with "
    "mentor-clustered errors, Benjamini-Hochberg p-values and odds ratios; Cox models of the "
    "hazard of an ending (any, unplanned) by dyad composition and mentee group, stratified by "
    "program. See docs/models.md.",
)
def model_estimates(warehouse: DuckDBResource, export: ExportFolder) -> dg.MaterializeResult:
    import polars as pl

    from models.stats.cox import fit_cox_models
    from models.stats.regression import MODEL_INPUT_COLUMNS, fit_models

    with warehouse.get_connection() as con:
        inputs = {
            table: con.sql(f"SELECT {', '.join(columns)} FROM metrics.{table}").pl()
            for table, columns in MODEL_INPUT_COLUMNS.items()
        }
        frame = fit_models(
            inputs["match_steps"], inputs["match_dyads"], inputs["outcomes_by_match"]
        )
        durations = con.sql(
            "SELECT match_id, program_id, mentor_id, duration_days, ended, closure_type "
            "FROM metrics.match_duration"
        ).pl()
        cox = fit_cox_models(durations, inputs["match_dyads"])
        hashes = frame["settings_hash"].unique().drop_nulls()
        frame = pl.concat(
            [frame, cox.with_columns(settings_hash=pl.lit(hashes.first(), dtype=pl.String))]
        )
        result = write_table_result(con, "metrics.model_estimates", frame)
    not_fitted = frame.filter(frame["term"].is_null()).height
    return dg.MaterializeResult(
        metadata={
            **result.metadata,
            "models_not_fitted": not_fitted,
            "models_not_converged": frame.filter(~frame["converged"].fill_null(False))
            .select("model", "outcome")
            .unique()
            .height,
        }
    )
