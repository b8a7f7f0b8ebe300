"""Models stage: fits of outcomes on the six steps and dyad composition (models/stats)."""

from models.metrics import tables
from pipelines.defs.keys import metric_key
from pipelines.defs.metrics.assets import metric_asset

model_estimates = metric_asset(
    "model_estimates",
    [
        metric_key("match_steps"),
        metric_key("match_dyads"),
        metric_key("outcomes_by_match"),
        metric_key("match_duration"),
    ],
    "Logistic models (retained, promoted, lasting, s6) and linear and mixed models "
    "(exit MFQ-9 scores) on the step indicators, dyad composition and program, with "
    "mentor-clustered errors, Benjamini-Hochberg p-values and odds ratios; Cox models of the "
    "hazard of an ending (any, unplanned) by dyad composition and mentee group, stratified by "
    "program. See docs/models.md.",
    tables.compute_model_estimates,
    group="models",
    figures=tables.model_fit_counts,
)
