"""The six-step funnel: share of matches that reached each step, plus lasting, with conversions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.reporting import labels
from models.reporting.markup import Chart, Table, fmt_number, fmt_share, is_missing
from models.reporting.style import MUTED, OKABE_ITO, base_layout, row_notes, share_rows
from models.vocabulary import WINDOW_CLOSED

# step column -> the step_funnel column holding its conversion from the step before
CONVERSIONS: dict[str, str] = {
    step: f"conv_s{i}_s{i + 1}" for i, step in enumerate(labels.STEP_COLUMNS[1:], start=1)
}


TOO_EARLY = "too early to tell"


def _share_or_too_early(share: Any, too_early: Any, digits: int = 0) -> str:
    if is_missing(share) and not is_missing(too_early) and too_early > 0:
        return TOO_EARLY
    return fmt_share(share, digits)


def _bar_text(n: Any, share: Any, too_early: Any) -> str:
    waiting = (
        "" if is_missing(too_early) or too_early == 0 else f"; {fmt_number(too_early)} too early"
    )
    if is_missing(share):
        return f"{TOO_EARLY} ({fmt_number(too_early)} matches)" if waiting else "no data"
    return f"{fmt_number(n)} ({fmt_share(share)}){waiting}"


def suppressed_text(k: int | None) -> str:
    """Why a suppressed funnel row is not shown (k: the producer's suppression threshold)."""
    fewer = f"fewer than {k}" if k else "too few"
    return (
        f"Not shown: {fewer} matches in this period, or hidden with such a group so that it "
        "cannot be worked out by subtraction."
    )


def _suppressed_chart(scope: str, k: int | None) -> Chart:
    """A funnel row under disclosure control: no bar, no count, no share; never zeros."""
    stages = list(labels.FUNNEL_STAGES)
    names = [labels.metric_label(s) for s in stages]
    title = f"Six steps of the relationship, {scope}"
    layout = base_layout(title, height=400)
    share_rows(layout, names, 1.45)
    reason = suppressed_text(k)
    layout["annotations"] = [
        {
            "x": 0.5,
            "xref": "paper",
            "xanchor": "center",
            "y": 0.5,
            "yref": "paper",
            "text": reason,
            "showarrow": False,
            "font": {"color": MUTED, "size": 13},
        }
    ]
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": [None] * len(names),
        "y": names,
        "text": ["not shown"] * len(names),
        "hoverinfo": "skip",
        "name": "Share of matches",
    }
    table = Table(
        ("Stage", "Matches reaching it", "Share of the matches that can be judged"),
        tuple((name, "suppressed", "suppressed") for name in names),
    )
    return Chart(
        key="funnel",
        title=title,
        caption=reason
        + " Groups under the threshold are never published, to protect the people in them.",
        figure={"data": [bar], "layout": layout},
        table=table,
        summary=reason,
    )


def funnel_chart(row: Mapping[str, Any], scope: str, k: int | None = None) -> Chart:
    """Seven horizontal bars (steps 1–6 and lasting) from one metrics.step_funnel row.

    A suppressed row (disclosure control, see metrics.step_funnel) draws no bars and says why.
    """
    if row.get("suppressed"):
        return _suppressed_chart(scope, k)
    matches = row.get("matches")
    stages = list(labels.FUNNEL_STAGES)
    names = [labels.metric_label(s) for s in stages]
    counts = [row.get(f"{s}_n") for s in stages]
    shares = [row.get(f"{s}_share") for s in stages]
    conv = [row.get(CONVERSIONS[s]) if s in CONVERSIONS else None for s in stages]
    early = [row.get(f"{s}_too_early") if s in WINDOW_CLOSED else None for s in stages]
    text = [_bar_text(n, sh, e) for n, sh, e in zip(counts, shares, early, strict=True)]
    title = f"Six steps of the relationship, {scope}"
    layout = base_layout(title, height=400)
    share_rows(layout, names, 1.45)
    layout["annotations"] = row_notes(
        [
            (name, f"→ {fmt_share(c)} of previous step")
            for name, c in zip(names, conv, strict=True)
            if not is_missing(c)
        ]
    ) + [
        # A row with no share draws no bar, and Plotly draws no text without a bar: say why
        # at the start of the row, so an open window never reads as an empty (zero) bar.
        {
            "x": 0,
            "xref": "x",
            "xanchor": "left",
            "y": name,
            "yref": "y",
            "text": label,
            "showarrow": False,
            "font": {"color": MUTED, "size": 12},
        }
        for name, sh, label in zip(names, shares, text, strict=True)
        if is_missing(sh)
    ]
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
        (
            "Stage",
            "Matches reaching it",
            "Share of the matches that can be judged",
            "Too early to tell",
            "Conversion from previous step",
        ),
        tuple(
            (
                name,
                fmt_number(n),
                _share_or_too_early(sh, e, 1),
                "—" if e is None else fmt_number(e),
                fmt_share(c, 1),
            )
            for name, n, sh, e, c in zip(names, counts, shares, early, conv, strict=True)
        ),
    )
    caption = (
        f"Out of {fmt_number(matches)} matches, each bar shows how many reached the step (share in "
        "brackets); the green bar counts relationships that lasted. Giving thanks, follow-up and "
        "lasting need time (7, 120 and 180 days from the first meeting): a match still inside that "
        "window is “too early to tell”, left out of the share and counted beside it, never "
        "counted as a no. The grey “→” figure is the conversion: of the matches that reached the "
        "previous step, the share that reached this one too. Steps are recorded independently, so "
        "a match can reach a later step without an earlier one. These are complete counts for the "
        "program, not a sample, so no interval is drawn."
    )
    return Chart(
        key="funnel",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary="; ".join(f"{n}: {t}" for n, t in zip(names, text, strict=True)),
    )
