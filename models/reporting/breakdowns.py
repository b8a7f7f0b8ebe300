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


def _part_key(code: str) -> tuple[int, str]:
    return (int(code in _LAST), labels.group_label(code))


def _group_order(groups: Sequence[str | None]) -> list[str | None]:
    """Named groups first, missing information last; an intersection ('woman|black') by its
    first part, then its second, so each gender's rows stay together."""

    def key(g: str | None) -> tuple:
        if g is None:
            return ((2, ""),)
        return tuple(_part_key(part) for part in g.split("|"))

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
    # On an intersection (gender × race) most groups are small, and a group whose every value
    # is suppressed is a row of labels only: such groups are named under the chart instead of
    # drawn. A single dimension keeps every row (few, and each label says why).
    crossed = any(g is not None and "|" in g for g in groups)
    hidden_everywhere = [
        g
        for g in groups
        if crossed and all(by_metric[m].get(g, {}).get("suppressed", True) for m in ordered_metrics)
    ]
    if len(hidden_everywhere) < len(groups):
        groups = [g for g in groups if g not in hidden_everywhere]
    else:
        hidden_everywhere = []
    group_labels = [labels.group_label(g) for g in groups]
    panels = []
    for metric in ordered_metrics:
        by_group = by_metric[metric]
        value_type = next(iter(by_group.values())).get("value_type") or "share"
        ests = []
        for group, label in zip(groups, group_labels, strict=True):
            # A group without a row for this measure gets a 'no data' label, never a blank.
            ests.append(_estimate(by_group.get(group, {}), label))
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
    if hidden_everywhere:
        names = ", ".join(labels.group_label(g) for g in hidden_everywhere)
        caption += f" Not drawn, because every value of theirs is suppressed: {names}."
    summary = (
        f"{len(groups)} groups, {len(panels)} measures; {n_suppressed} group values suppressed"
        + (
            f"; {len(hidden_everywhere)} groups suppressed throughout."
            if hidden_everywhere
            else "."
        )
    )
    return Chart(
        key=f"breakdown-{slug(dimension)}",
        title=title,
        caption=caption,
        figure=fig,
        table=estimate_table(panels, k, "Group"),
        summary=summary,
    )
