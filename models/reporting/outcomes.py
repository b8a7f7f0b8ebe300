"""Outcomes for the program as a whole: retention, promotion and MFQ-9 subscale scores."""

from __future__ import annotations

import polars as pl

from models.reporting import labels
from models.reporting.breakdowns import estimate_table
from models.reporting.dots import Estimate, Panel, dot_panels
from models.reporting.frames import for_program
from models.reporting.markup import Chart

# Rows of metrics.breakdowns that describe everyone in the program rather than one group.
OVERALL_DIMENSIONS: tuple[str, ...] = ("all", "overall")
OUTCOME_SHARES: tuple[str, ...] = ("retained", "promoted", "goal_attained")


def outcomes_chart(breakdowns: pl.DataFrame, program_id: str | None, k: int) -> Chart | None:
    """Overall outcome estimates with 95 % intervals; None when no overall rows were supplied."""
    rows = for_program(breakdowns, program_id).filter(
        pl.col("dimension").is_in(list(OVERALL_DIMENSIONS))
    )
    metric = pl.col("metric")
    rows = rows.filter(
        metric.is_in(list(OUTCOME_SHARES))
        | (metric.str.starts_with("mfq_") & metric.str.ends_with("_exit"))
        | (metric == "satisfaction")
    )
    if rows.height == 0:
        return None
    rows = rows.sort("metric")
    panels = []
    for value_type, title in (("share", "Share of mentees"), ("mean", "Mean score")):
        subset = rows.filter(pl.col("value_type") == value_type).to_dicts()
        if subset:
            ests = tuple(
                Estimate(
                    label=labels.metric_label(r["metric"]),
                    value=r.get("value"),
                    ci_low=r.get("ci_low"),
                    ci_high=r.get("ci_high"),
                    n=r.get("n"),
                    suppressed=bool(r.get("suppressed")),
                )
                for r in subset
            )
            panels.append(Panel(title, value_type, ests))
    categories = [e.label for p in panels for e in p.rows]
    title = "Outcomes"
    fig = dot_panels(panels, None, k, title, columns=2)
    caption = (
        "Each dot is the program-wide result: the share of mentees retained or promoted, and "
        "the mean MFQ-9 subscale score on the exit survey (1 = strongly disagree, 5 = strongly "
        "agree). The line through a dot is its 95 % confidence interval: the range of values the "
        "data are compatible with; wider lines mean fewer responses. "
        f"A result from fewer than {k} people is shown as “suppressed”, never as zero."
    )
    return Chart(
        key="outcomes",
        title=title,
        caption=caption,
        figure=fig,
        table=estimate_table(panels, k, "Outcome"),
        summary=f"{len(categories)} outcome measures.",
    )
