"""The six-step funnel: share of matches that reached each step, plus lasting, with conversions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.reporting import labels
from models.reporting.markup import Chart, Table, fmt_number, fmt_share, is_missing
from models.reporting.style import OKABE_ITO, base_layout, row_notes, share_rows

# step column -> the step_funnel column holding its conversion from the step before
CONVERSIONS: dict[str, str] = {
    step: f"conv_s{i}_s{i + 1}" for i, step in enumerate(labels.STEP_COLUMNS[1:], start=1)
}


def funnel_chart(row: Mapping[str, Any], scope: str) -> Chart:
    """Seven horizontal bars (steps 1–6 and lasting) from one metrics.step_funnel row."""
    matches = row.get("matches")
    stages = list(labels.FUNNEL_STAGES)
    names = [labels.metric_label(s) for s in stages]
    counts = [row.get(f"{s}_n") for s in stages]
    shares = [row.get(f"{s}_share") for s in stages]
    conv = [row.get(CONVERSIONS[s]) if s in CONVERSIONS else None for s in stages]
    text = [
        "no data" if is_missing(sh) else f"{fmt_number(n)} ({fmt_share(sh)})"
        for n, sh in zip(counts, shares, strict=True)
    ]
    title = f"Six steps of the relationship, {scope}"
    layout = base_layout(title, height=400)
    share_rows(layout, names, 1.45)
    layout["annotations"] = row_notes(
        [
            (name, f"→ {fmt_share(c)} of previous step")
            for name, c in zip(names, conv, strict=True)
            if not is_missing(c)
        ]
    )
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": [None if is_missing(s) else s for s in shares],
        "y": names,
        "marker": {"color": [OKABE_ITO["blue"]] * 6 + [OKABE_ITO["bluish_green"]]},
        "text": text,
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        "name": "Share of matches",
    }
    fig = {"data": [bar], "layout": layout}
    table = Table(
        ("Stage", "Matches reaching it", "Share of all matches", "Conversion from previous step"),
        tuple(
            (name, fmt_number(n), fmt_share(sh, 1), fmt_share(c, 1))
            for name, n, sh, c in zip(names, counts, shares, conv, strict=True)
        ),
    )
    caption = (
        f"Out of {fmt_number(matches)} matches, each bar shows how many reached the step (share in "
        "brackets); the green bar counts relationships that lasted. The grey “→” figure is the "
        "conversion: of the matches that reached the previous step, the share that reached this "
        "one too. Steps are recorded independently, so a match can reach a later step without an "
        "earlier one. These are complete counts for the program, not a sample, so no interval "
        "is drawn."
    )
    return Chart(
        key="funnel",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary="; ".join(f"{n}: {t}" for n, t in zip(names, text, strict=True)),
    )
