"""Homophily: how often mentor and mentee share gender or race, against pairing by chance."""

from __future__ import annotations

import polars as pl

from models.reporting import labels
from models.reporting.markup import Chart, Table, fmt_number, fmt_share, is_missing
from models.reporting.style import (
    OKABE_ITO,
    base_layout,
    legend_on_top,
    row_notes,
    share_rows,
)


def _row_label(program_id: str | None, attribute: str) -> str:
    who = "All programs" if program_id is None else f"Program {program_id}"
    return f"{who} · {labels.humanize(attribute).lower()}"


def homophily_chart(homophily: pl.DataFrame) -> Chart:
    """Dumbbells: observed share of same-group matches (dot) vs the chance share (diamond)."""
    rows = homophily.sort(["program_id", "attribute"], nulls_last=True).to_dicts()
    names = [_row_label(r["program_id"], r["attribute"]) for r in rows]
    observed = [r.get("observed_share") for r in rows]
    expected = [r.get("expected_share") for r in rows]
    # One grey connector per row, drawn as a single trace broken by None.
    link_x: list[float | None] = []
    link_y: list[str | None] = []
    for name, obs, exp in zip(names, observed, expected, strict=True):
        if not (is_missing(obs) or is_missing(exp)):
            link_x += [exp, obs, None]
            link_y += [name, name, None]
    data = [
        {
            "type": "scatter",
            "x": link_x,
            "y": link_y,
            "mode": "lines",
            "line": {"color": "#bbbbbb", "width": 3},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "x": expected,
            "y": names,
            "mode": "markers",
            "name": "Expected by chance",
            "marker": {
                "symbol": "diamond-open",
                "size": 12,
                "color": OKABE_ITO["orange"],
                "line": {"width": 2.5, "color": OKABE_ITO["orange"]},
            },
            "hovertemplate": "%{y}<br>expected by chance %{x:.1%}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": observed,
            "y": names,
            "mode": "markers",
            "name": "Observed",
            "marker": {"symbol": "circle", "size": 11, "color": OKABE_ITO["blue"]},
            "hovertemplate": "%{y}<br>observed %{x:.1%}<extra></extra>",
        },
    ]
    title = "Same-group pairs: observed vs chance"
    layout = base_layout(title, height=max(240, 140 + 40 * len(rows)))
    layout.update(showlegend=True, legend=legend_on_top())
    share_rows(layout, names, 1.12)
    layout["annotations"] = row_notes(
        [
            (name, f"p = {r['p_value']:.3f}")
            for name, r in zip(names, rows, strict=True)
            if not is_missing(r.get("p_value"))
        ]
    )
    fig = {"data": data, "layout": layout}
    table = Table(
        ("Program · attribute", "Observed same", "Expected by chance", "EI index", "p", "Matches"),
        tuple(
            (
                name,
                fmt_share(r.get("observed_share"), 1),
                fmt_share(r.get("expected_share"), 1),
                fmt_number(r.get("ei_index"), 2),
                fmt_number(r.get("p_value"), 3),
                fmt_number(r.get("n_matches")),
            )
            for name, r in zip(names, rows, strict=True)
        ),
    )
    caption = (
        "The filled dot is the share of matches in which mentor and mentee have the same gender "
        "(or race/ethnicity); the open diamond is the share expected if the same people had been "
        "paired at random. A dot right of its diamond means more same-group pairs than chance. "
        "The p-value on the right is the chance of a gap at least this large under random "
        "pairing; small values (below 0.05) suggest the matching favours same-group pairs. The "
        "EI index in the table runs from −1 (all pairs same-group) to +1 (all cross-group). "
        "No interval is drawn: read the p-value."
    )
    return Chart(
        key="homophily",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary=f"{len(rows)} program and attribute combinations.",
    )
