"""Breakdowns by gender, race, their intersection and dyad composition, with 95 % intervals."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from models.reporting import labels
from models.reporting.dots import Estimate, Panel, dot_panels, row_status
from models.reporting.frames import for_program
from models.reporting.markup import Chart, Table, fmt_interval, fmt_value, slug

# What HR asks about first; any other metric stays in metrics.breakdowns for researchers.
DASHBOARD_METRICS: tuple[str, ...] = (
    "s3_calendar",
    "s6_follow_up",
    "lasting",
    "retained",
    "promoted",
    "mfq_psychosocial_support_exit",
)
DIMENSION_ORDER: tuple[str, ...] = tuple(labels.DIMENSIONS)
# Groups that describe missing information go last so the named groups read first.
_LAST = ("self_described", "undisclosed", "unknown")


def _group_order(groups: Sequence[str | None]) -> list[str | None]:
    def key(g: str | None) -> tuple[int, str]:
        code = g or ""
        late = any(code == t or code.endswith(t) or code.startswith(t) for t in _LAST)
        return (2 if g is None else int(late), labels.group_label(g))

    return sorted(set(groups), key=key)


def _estimate(row: dict, label: str) -> Estimate:
    return Estimate(
        label=label,
        value=row.get("value"),
        ci_low=row.get("ci_low"),
        ci_high=row.get("ci_high"),
        n=row.get("n"),
        suppressed=bool(row.get("suppressed")),
        gap=row.get("gap"),
        gap_ci_low=row.get("gap_ci_low"),
        gap_ci_high=row.get("gap_ci_high"),
    )


def estimate_table(panels: Sequence[Panel], k: int, row_header: str) -> Table:
    rows = []
    for panel in panels:
        for est in panel.rows:
            status = row_status(est, k)
            rows.append(
                (
                    est.label,
                    panel.title,
                    "—" if est.suppressed or est.n is None else str(est.n),
                    status or fmt_value(est.value, panel.value_type),
                    "—" if status else fmt_interval(est.ci_low, est.ci_high, panel.value_type),
                )
            )
    return Table((row_header, "Measure", "n", "Value", "95 % interval"), tuple(rows))


def breakdown_chart(
    breakdowns: pl.DataFrame,
    dimension: str,
    program_id: str | None,
    k: int,
    metrics: Sequence[str] = DASHBOARD_METRICS,
    scope: str = "",
) -> Chart | None:
    """Dots with 95 % intervals per group of one dimension, one panel per metric.

    Suppressed groups keep their row and carry a 'suppressed (n<k)' label instead of a dot.
    Returns None when the dimension has no rows for this program.
    """
    rows = for_program(breakdowns, program_id).filter(
        (pl.col("dimension") == dimension) & pl.col("metric").is_in(list(metrics))
    )
    if rows.height == 0:
        return None
    # One pass over the rows into Python: a Polars filter per metric costs more in overhead
    # than these few dozen rows do, and a dashboard draws seven of these charts.
    by_metric: dict[str, dict[str | None, dict]] = {}
    for r in rows.to_dicts():
        by_metric.setdefault(r["metric"], {})[r["group"]] = r
    ordered_metrics = [m for m in metrics if m in by_metric]
    groups = _group_order(rows.get_column("group").to_list())
    group_labels = [labels.group_label(g) for g in groups]
    panels = []
    for metric in ordered_metrics:
        by_group = by_metric[metric]
        value_type = next(iter(by_group.values())).get("value_type") or "share"
        ests = []
        for group, label in zip(groups, group_labels, strict=True):
            if group in by_group:
                ests.append(_estimate(by_group[group], label))
        panels.append(Panel(labels.metric_label(metric), value_type, tuple(ests)))

    title = labels.dimension_label(dimension)
    fig = dot_panels(panels, group_labels, k, title)
    n_suppressed = sum(e.suppressed for p in panels for e in p.rows)
    caption = (
        f"Each dot is a group's rate (or mean score) {scope}; the line through it is the 95 % "
        "confidence interval, the range of values the data are compatible with. Where two "
        "groups' intervals overlap a lot, the data cannot tell them apart; a short interval "
        "means a large, precise group. "
        f"Groups of fewer than {k} people are labelled “suppressed” and not plotted (never as "
        "zero); when one group is suppressed the next smallest is too, so it cannot be worked "
        "out from the total."
    )
    summary = (
        f"{len(groups)} groups, {len(panels)} measures; {n_suppressed} group values suppressed."
    )
    return Chart(
        key=f"breakdown-{slug(dimension)}",
        title=title,
        caption=caption,
        figure=fig,
        table=estimate_table(panels, k, "Group"),
        summary=summary,
    )
