"""Dot-and-whisker panels: estimates with 95 % intervals, suppressed cells labelled, never zeroed.

Breakdowns (groups down the side, one panel per metric) and overall outcomes (metrics down the side,
one panel per kind of value) share this drawing code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.reporting.markup import fmt_interval, fmt_value, is_missing
from models.reporting.style import MUTED, OKABE_ITO, Figure, axis_key, axis_ref, base_layout, grid


@dataclass(frozen=True)
class Estimate:
    label: str  # the row label on the y axis
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    suppressed: bool
    gap: float | None = None
    gap_ci_low: float | None = None
    gap_ci_high: float | None = None


@dataclass(frozen=True)
class Panel:
    title: str
    value_type: str  # 'share' or 'mean'
    rows: tuple[Estimate, ...]


def suppressed_text(est: Estimate, k: int) -> str:
    """Why there is no dot.

    A group kept back only to protect a smaller one is not 'n<k', so the label says so when n is
    known; metrics.breakdowns blanks n of every suppressed cell, and then the label names the
    rule rather than claim a size that may be false.
    """
    if est.n is None:
        return f"suppressed (n<{k} rule)"
    if est.n >= k:
        return f"suppressed (protects a group of n<{k})"
    return f"suppressed (n<{k})"


def row_status(est: Estimate, k: int) -> str:
    if est.suppressed:
        return suppressed_text(est, k)
    if is_missing(est.value):
        return "no data"
    return ""


def hover_text(est: Estimate, value_type: str, k: int) -> str:
    status = row_status(est, k)
    if status:
        return f"{est.label}: {status}"
    text = (
        f"{est.label}: {fmt_value(est.value, value_type)}"
        f"<br>95 % CI {fmt_interval(est.ci_low, est.ci_high, value_type)}"
        f"<br>n = {est.n if est.n is not None else '—'}"
    )
    if not is_missing(est.gap):
        unit = " pts" if value_type == "share" else ""
        scale = 100 if value_type == "share" else 1
        text += f"<br>gap vs reference {est.gap * scale:+.1f}{unit}"
        if not (is_missing(est.gap_ci_low) or is_missing(est.gap_ci_high)):
            text += f" ({est.gap_ci_low * scale:+.1f} to {est.gap_ci_high * scale:+.1f})"
    return text


def dot_panels(
    panels: Sequence[Panel],
    categories: Sequence[str] | None,
    k: int,
    title: str,
    columns: int = 3,
) -> Figure:
    """One subplot per panel.

    With `categories` every panel shares those row labels (breakdowns: the same groups across
    metrics); with None each panel lists only its own rows (outcomes: different measures).
    """
    cols = max(1, min(columns, len(panels)))
    rows = -(-len(panels) // cols)
    shared = categories is not None
    # Size in pixels first, so that rows of labels never squeeze and the gap between subplot
    # rows always fits the tick labels above and the subplot title below.
    n_labels = len(categories) if shared else max(len(p.rows) for p in panels)
    panel_px, gap_px, margins_px = 40 + 28 * n_labels, 75, 120
    plot_px = rows * panel_px + (rows - 1) * gap_px
    layout = base_layout(title, height=margins_px + plot_px)
    numbers = grid(
        layout,
        [p.title for p in panels],
        cols,
        hspace=(0.03 if shared else 0.22) if cols > 1 else 0.0,
        vspace=gap_px / plot_px if rows > 1 else 0.0,
        share_y_in_row=shared,
    )
    data: list[dict[str, Any]] = []
    for panel, n in zip(panels, numbers, strict=True):
        data.append(_trace(panel, n, k))
        layout["annotations"] += _status_labels(panel, n, k)
        layout[axis_key("x", n)].update(_x_range(panel))
        layout[axis_key("y", n)].update(
            type="category",
            categoryorder="array",
            categoryarray=list(categories if shared else [e.label for e in panel.rows]),
            autorange="reversed",
        )
    return {"data": data, "layout": layout}


def _trace(panel: Panel, n: int, k: int) -> dict[str, Any]:
    # Suppressed and missing rows stay in the trace with x=None: the category keeps its place on
    # the axis but no mark is drawn, so nothing can be read as zero.
    x = [None if (e.suppressed or is_missing(e.value)) else e.value for e in panel.rows]
    plus = [
        None if xv is None or is_missing(e.ci_high) else max(e.ci_high - xv, 0.0)
        for e, xv in zip(panel.rows, x, strict=True)
    ]
    minus = [
        None if xv is None or is_missing(e.ci_low) else max(xv - e.ci_low, 0.0)
        for e, xv in zip(panel.rows, x, strict=True)
    ]
    return {
        "type": "scatter",
        "x": x,
        "y": [e.label for e in panel.rows],
        "xaxis": axis_ref("x", n),
        "yaxis": axis_ref("y", n),
        "mode": "markers",
        "marker": {"color": OKABE_ITO["blue"], "size": 9},
        "error_x": {
            "type": "data",
            "array": plus,
            "arrayminus": minus,
            "symmetric": False,
            "color": OKABE_ITO["blue"],
            "thickness": 1.6,
            "width": 4,
        },
        "hovertext": [hover_text(e, panel.value_type, k) for e in panel.rows],
        "hoverinfo": "text",
        "name": panel.title,
    }


def _status_labels(panel: Panel, n: int, k: int) -> list[dict[str, Any]]:
    """A text label where a dot would be: 'suppressed (n<k)' or 'no data'."""
    return [
        {
            "x": 0,
            "xref": f"{axis_ref('x', n)} domain",
            "xanchor": "left",
            "y": est.label,
            "yref": axis_ref("y", n),
            "text": f"<i>{status}</i>",
            "showarrow": False,
            "font": {"color": MUTED, "size": 12},
        }
        for est in panel.rows
        if (status := row_status(est, k))
    ]


def _x_range(panel: Panel) -> dict[str, Any]:
    if panel.value_type == "share":
        return {"range": [0, 1.02], "tickformat": ".0%"}
    shown = [e for e in panel.rows if not e.suppressed and not is_missing(e.value)]
    if not shown:
        return {}
    lows = [e.value if is_missing(e.ci_low) else e.ci_low for e in shown]
    highs = [e.value if is_missing(e.ci_high) else e.ci_high for e in shown]
    pad = max(0.1, (max(highs) - min(lows)) * 0.08)
    return {"range": [min(lows) - pad, max(highs) + pad]}
