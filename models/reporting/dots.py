"""Dot-and-whisker panels: estimates with 95 % intervals, suppressed cells labelled, never zeroed.

Breakdowns (groups down the side, one panel per metric) and overall outcomes (metrics down the side,
one panel per kind of value) share this drawing code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.reporting.markup import fmt_interval, fmt_value, is_missing
from models.reporting.style import MUTED, OKABE_ITO

if TYPE_CHECKING:
    import plotly.graph_objects as go


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
    """Why there is no dot. A group kept back only to protect a smaller one is not 'n<k'."""
    if est.n is not None and est.n >= k:
        return "suppressed (protects a group of n<%d)" % k
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
    panels: Sequence[Panel], categories: Sequence[str], k: int, columns: int = 3
) -> go.Figure:
    """One subplot per panel, same row labels in each; returns an unstyled figure."""
    from plotly.subplots import make_subplots

    cols = max(1, min(columns, len(panels)))
    nrows = math.ceil(len(panels) / cols)
    fig = make_subplots(
        rows=nrows,
        cols=cols,
        shared_yaxes=True,
        subplot_titles=[p.title for p in panels],
        horizontal_spacing=0.04 if cols > 1 else 0.0,
        vertical_spacing=min(0.12, 0.3 / nrows) if nrows > 1 else 0.0,
    )
    for i, panel in enumerate(panels):
        row, col = i // cols + 1, i % cols + 1
        _add_panel(fig, panel, row, col, i + 1, k)
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=list(categories),
        autorange="reversed",
        showgrid=True,
        gridcolor="#eeeeee",
    )
    fig.update_layout(showlegend=False)
    return fig


def _add_panel(fig: go.Figure, panel: Panel, row: int, col: int, axis_no: int, k: int) -> None:
    import plotly.graph_objects as go

    shown = [e for e in panel.rows if not e.suppressed and not is_missing(e.value)]
    y = [e.label for e in panel.rows]
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
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            marker={"color": OKABE_ITO["blue"], "size": 9},
            error_x={
                "type": "data",
                "array": plus,
                "arrayminus": minus,
                "symmetric": False,
                "color": OKABE_ITO["blue"],
                "thickness": 1.6,
                "width": 4,
            },
            hovertext=[hover_text(e, panel.value_type, k) for e in panel.rows],
            hoverinfo="text",
            name=panel.title,
        ),
        row=row,
        col=col,
    )
    suffix = "" if axis_no == 1 else str(axis_no)
    for est in panel.rows:
        status = row_status(est, k)
        if status:
            fig.add_annotation(
                x=0,
                xref=f"x{suffix} domain",
                xanchor="left",
                y=est.label,
                yref=f"y{suffix}",
                text=f"<i>{status}</i>",
                showarrow=False,
                font={"color": MUTED, "size": 12},
            )
    if panel.value_type == "share":
        fig.update_xaxes(range=[0, 1.02], tickformat=".0%", row=row, col=col)
    elif shown:
        lows = [e.ci_low if not is_missing(e.ci_low) else e.value for e in shown]
        highs = [e.ci_high if not is_missing(e.ci_high) else e.value for e in shown]
        pad = max(0.1, (max(highs) - min(lows)) * 0.08)
        fig.update_xaxes(range=[min(lows) - pad, max(highs) + pad], row=row, col=col)
    fig.update_xaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False, row=row, col=col)
