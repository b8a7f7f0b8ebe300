"""Look and feel shared by every chart: colour-blind-safe colours, system fonts, offline config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies. Yellow is left
# out of the cycle because it has too little contrast against white for thin marks.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "sky_blue": "#56B4E9",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
    "yellow": "#F0E442",
}
COLORWAY: list[str] = [
    OKABE_ITO[name]
    for name in ("blue", "orange", "bluish_green", "vermillion", "sky_blue", "reddish_purple")
]
MUTED = "#595959"  # labels and reference lines; 7:1 contrast on white

# No web font: a font download would break the offline promise and leak a request.
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", '
    '"Liberation Sans", Arial, sans-serif'
)

# showSendToCloud and displaylogo default to True in Plotly 7.1 (stack-notes); both would point
# readers at plotly.com from an offline report.
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "displayModeBar": "hover",
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}


def apply_style(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    """Give a figure the house layout: title, system fonts, Okabe–Ito colours, white canvas."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        font={"family": FONT_STACK, "size": 13, "color": "#1a1a1a"},
        colorway=COLORWAY,
        template="simple_white",
        height=height,
        margin={"l": 10, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"},
        hoverlabel={"font": {"family": FONT_STACK}},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig
