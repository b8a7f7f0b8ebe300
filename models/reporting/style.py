"""Look and feel shared by every chart: colour-blind-safe colours, system fonts, offline config.

Figures are built as plain Plotly JSON dicts ({"data": [...], "layout": {...}}): Plotly's Python
objects validate every assignment, which made a page of small-multiple charts take seconds. The
unit tests validate each builder's output against Plotly's schema instead (go.Figure(fig)).
"""

from __future__ import annotations

from typing import Any

Figure = dict[str, Any]

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
GRID = "#e6e6e6"

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
    "displayModeBar": "hover",
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}

AXIS: dict[str, Any] = {
    "automargin": True,
    "showline": True,
    "linecolor": "#444444",
    "ticks": "outside",
    "tickcolor": "#444444",
    "showgrid": True,
    "gridcolor": GRID,
    "zeroline": False,
}


def base_layout(title: str, height: int = 380) -> dict[str, Any]:
    """The house layout: title, system fonts, Okabe–Ito colours, white canvas."""
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 17}},
        "font": {"family": FONT_STACK, "size": 13, "color": "#1a1a1a"},
        "colorway": COLORWAY,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 70, "b": 50},
        "showlegend": False,
        "hoverlabel": {"font": {"family": FONT_STACK}},
        "xaxis": dict(AXIS),
        "yaxis": dict(AXIS),
    }


def share_rows(layout: dict[str, Any], names: list[str], x_max: float) -> None:
    """A share axis (0 to 100 %, room to x_max for notes) against one row per category."""
    layout["xaxis"].update(range=[0, x_max], tickformat=".0%", tickvals=[0, 0.25, 0.5, 0.75, 1.0])
    layout["yaxis"].update(
        type="category", categoryorder="array", categoryarray=names, autorange="reversed"
    )


def row_notes(notes: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Grey text at the right edge of the plot, one per (row name, text)."""
    return [
        {
            "x": 1.0,
            "xref": "paper",
            "xanchor": "right",
            "y": name,
            "yref": "y",
            "text": text,
            "showarrow": False,
            "font": {"color": MUTED, "size": 12},
        }
        for name, text in notes
    ]


def legend_on_top() -> dict[str, Any]:
    return {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "xanchor": "left"}


def axis_key(kind: str, n: int) -> str:
    """Layout key of the n-th (1-based) axis: 'xaxis', 'xaxis2', ..."""
    return f"{kind}axis" if n == 1 else f"{kind}axis{n}"


def axis_ref(kind: str, n: int) -> str:
    """Trace/annotation reference of the n-th axis: 'x', 'x2', ..."""
    return kind if n == 1 else f"{kind}{n}"


def grid(
    layout: dict[str, Any],
    titles: list[str],
    cols: int,
    hspace: float,
    vspace: float,
    share_y_in_row: bool,
) -> list[int]:
    """Lay out len(titles) subplots on a grid (row-major); returns their axis numbers.

    Writes axis domains, anchors and subplot-title annotations into `layout`.
    """
    count = len(titles)
    rows = -(-count // cols)
    width = (1 - hspace * (cols - 1)) / cols
    height = (1 - vspace * (rows - 1)) / rows
    numbers = []
    for i, title in enumerate(titles):
        row, col = divmod(i, cols)
        n = i + 1
        x0 = col * (width + hspace)
        top = 1 - row * (height + vspace)
        xaxis = dict(AXIS, domain=[x0, x0 + width], anchor=axis_ref("y", n))
        yaxis = dict(AXIS, domain=[top - height, top], anchor=axis_ref("x", n))
        if share_y_in_row and col > 0:
            yaxis.update(matches=axis_ref("y", n - col), showticklabels=False)
        layout[axis_key("x", n)] = xaxis
        layout[axis_key("y", n)] = yaxis
        layout.setdefault("annotations", []).append(
            {
                "text": f"<b>{title}</b>",
                "x": x0 + width / 2,
                "xref": "paper",
                "xanchor": "center",
                "y": top,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
        numbers.append(n)
    return numbers
