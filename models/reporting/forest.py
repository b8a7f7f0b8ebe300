"""Forest plots of model estimates: odds ratios on a log axis, or coefficients for scores."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from models.reporting import labels
from models.reporting.markup import Chart, Table, fmt_number, is_missing, slug
from models.reporting.style import MUTED, OKABE_ITO, base_layout, legend_on_top

ALPHA = 0.05
INTERCEPTS = frozenset({"Intercept", "const", "(Intercept)"})
# Outcomes and factors of the Cox models (models/stats/cox.py), in plain words.
COX_OUTCOMES = {"match_end": "Any ending", "unplanned_end": "An unplanned ending"}
COX_FACTORS = {"mentee_group": "Mentee gender"}
HAZARD_AXIS = "hazard ratio (above 1: ends sooner)"
_FACTOR = re.compile(r"(?:C\()?(?P<var>[A-Za-z0-9_]+)(?:,[^\]]*)?\)?\[(?:T\.)?(?P<level>.+)\]")


def term_label(term: str | None) -> str:
    """Readable term: 's3_calendar[T.True]' -> '3 · On the calendar',
    'dyad_gender[T.cross]' -> 'Dyad gender composition: Cross group'."""
    if term is None:
        return "(model not fitted: see note)"
    if term in INTERCEPTS:
        return "Intercept"
    if m := _FACTOR.fullmatch(term):
        var, level = m["var"], m["level"]
        name = labels.DIMENSIONS.get(var) or COX_FACTORS.get(var) or labels.metric_label(var)
        if level in ("True", "1", "true"):
            return name
        return f"{name}: {labels.group_label(level)}"
    return labels.DIMENSIONS.get(term) or labels.metric_label(term)


def is_plotted_term(term: str | None) -> bool:
    """Intercepts, variance components and not-fitted rows (no term) are not plotted."""
    if term is None:
        return False
    variance = term.endswith((" Var", "_variance")) or term == "Group Var"
    return term not in INTERCEPTS and not variance


def _usable(*values: float | None, log: bool) -> bool:
    return all(not (is_missing(v) or math.isinf(v) or (log and v <= 0)) for v in values)


def adjusted_p(row: dict) -> float | None:
    """The Benjamini–Hochberg p across the term's whole family of tests when the producer gives
    it (p_adjusted_family), else within its model (p_adjusted)."""
    family = row.get("p_adjusted_family")
    return row.get("p_adjusted") if is_missing(family) else family


def forest_chart(
    rows: Sequence[dict],
    model: str,
    outcome: str,
    sensitivity: Sequence[dict] = (),
    sensitivity_model: str = "",
) -> Chart:
    """One (model, outcome): a dot and 95 % interval per term, reference line at no effect.

    Uses odds ratios (log axis, reference 1) when the model reports them, hazard ratios (log
    axis, reference 1) for Cox models, otherwise the raw coefficients (linear axis, reference
    0). Filled dots: Benjamini–Hochberg adjusted p < 0.05. `sensitivity` rows (the same outcome
    refitted another way, e.g. with a random intercept per mentor) are drawn beside each term
    as diamonds, so the two fits are read together instead of as two near-identical charts.
    """
    plotted = [r for r in rows if is_plotted_term(r["term"])]
    hazard = any(not is_missing(r.get("hazard_ratio")) for r in plotted)
    odds = not hazard and any(not is_missing(r.get("odds_ratio")) for r in plotted)
    ratio = "hazard ratio" if hazard else "odds ratio" if odds else ""
    if hazard:
        keys = ("hazard_ratio", "hr_ci_low", "hr_ci_high")
    elif odds:
        keys = ("odds_ratio", "or_ci_low", "or_ci_high")
    else:
        keys = ("estimate", "ci_low", "ci_high")
    log = bool(ratio)
    names = [term_label(r["term"]) for r in plotted]
    data = []
    for significant in (True, False):
        pick = [
            (name, r)
            for name, r in zip(names, plotted, strict=True)
            if _usable(*(r.get(k) for k in keys), log=log)
            and (not is_missing(adjusted_p(r)) and adjusted_p(r) < ALPHA) == significant
        ]
        if pick:
            data.append(_trace(pick, keys, significant, ratio))
    shown = set(names)
    again = [
        (term_label(r["term"]), r)
        for r in sensitivity
        if is_plotted_term(r["term"])
        and term_label(r["term"]) in shown
        and _usable(*(r.get(k) for k in keys), log=log)
    ]
    if again:
        data.append(_trace(again, keys, None, ratio, f"{sensitivity_model} (sensitivity)"))
    first = rows[0] if rows else {}
    if hazard:
        name = COX_OUTCOMES.get(outcome, labels.metric_label(outcome))
        title = f"{name}: Cox model ({model}), hazard ratios"
    else:
        title = f"{labels.metric_label(outcome)}: {model}"
        if again:
            title += f", with {sensitivity_model} beside it"
    layout = base_layout(title, height=max(260, 130 + (48 if again else 34) * len(plotted)))
    layout.update(showlegend=True, legend=legend_on_top())
    if again:  # each series a little above or below its term's line, never on top of another
        layout.update(scattermode="group", scattergap=0.5)
    layout["yaxis"].update(
        type="category", categoryorder="array", categoryarray=names, autorange="reversed"
    )
    layout["xaxis"].update(
        type="log" if log else "linear",
        title={
            "text": f"{HAZARD_AXIS} (log scale)"
            if hazard
            else "Odds ratio (log scale)"
            if odds
            else "Coefficient"
        },
    )
    reference = 1.0 if log else 0.0
    # Shapes take data values even on a log axis (unlike annotations, which take log10).
    layout["shapes"] = [
        {
            "type": "line",
            "x0": reference,
            "x1": reference,
            "xref": "x",
            "y0": 0,
            "y1": 1,
            "yref": "paper",
            "line": {"color": MUTED, "dash": "dash", "width": 1.5},
        }
    ]
    layout["annotations"] = [
        {
            "x": 0,
            "xref": "x domain",
            "xanchor": "left",
            "y": name,
            "yref": "y",
            "text": "<i>not estimable</i>",
            "showarrow": False,
            "font": {"color": MUTED},
        }
        for name, r in zip(names, plotted, strict=True)
        if not _usable(*(r.get(k) for k in keys), log=log)
    ]
    fig = {"data": data, "layout": layout}
    converged = first.get("converged")
    fit = (
        f"{fmt_number(first.get('n_obs'))} observations"
        + (
            f" in {fmt_number(first.get('n_groups'))} mentor groups"
            if first.get("n_groups")
            else ""
        )
        + ("" if converged is not False else "; the fit did NOT converge, treat with caution")
    )
    if hazard:
        how = (
            "Each dot is a hazard ratio: how much faster relationships of the group end than "
            "those of the reference group (same-gender or same-race pairs, women mentees), the "
            "other terms held fixed and each program compared only with itself. Right of the "
            "dashed line at 1 means they end sooner, left means they last longer. The axis is "
            "logarithmic, so 2 (twice as fast) and 0.5 (half as fast) sit the same distance "
            "from 1. "
        )
    elif odds:
        how = (
            "Each dot is an odds ratio: how the odds of the outcome change with the term, the "
            "others held fixed. Right of the dashed line at 1 means higher odds, left means lower. "
            "The axis is logarithmic, so 2 (double) and 0.5 (half) sit the same distance from 1. "
        )
    else:
        how = (
            "Each dot is a coefficient: the difference in the score with the term, the others "
            "held fixed; the dashed line at 0 means no difference. "
        )
    family = any(not is_missing(r.get("p_adjusted_family")) for r in plotted)
    adjustment = (
        "across every term of every model of the same family of outcomes"
        if family
        else "for testing many terms"
    )
    sample = "; ".join(sorted({r["note"] for r in rows if r.get("note")}))
    caption = (
        how + "The line through a dot is its 95 % confidence interval; one that crosses the "
        "dashed line means the data are also compatible with no association. Filled dots stay "
        f"below 0.05 after the Benjamini–Hochberg adjustment {adjustment}. These are "
        f"associations, not causal effects. Fitted on {fit}."
        + (f" Sample: {sample}." if sample else "")
        + (
            f" Diamonds: the same outcome fitted as a {sensitivity_model} model (a random "
            "intercept per mentor), a sensitivity analysis; where diamonds and dots agree, the "
            "result does not hinge on how mentors are modelled."
            if again
            else ""
        )
    )
    ratio_keys = (
        ("hazard_ratio", "hr_ci_low", "hr_ci_high")
        if hazard
        else (
            "odds_ratio",
            "or_ci_low",
            "or_ci_high",
        )
    )
    table = Table(
        (
            "Term" if not sensitivity else "Term (model)",
            "Estimate (log hazard ratio)" if hazard else "Estimate",
            "95 % interval",
            "Hazard ratio" if hazard else "Odds ratio",
            "HR 95 % interval" if hazard else "OR 95 % interval",
            "AME, percentage points (95 % CI)",
            "p",
            "adj. p",
            "Note",
        ),
        tuple(
            (
                term_label(r["term"]) + (f" ({r.get('model')})" if sensitivity else ""),
                fmt_number(r.get("estimate"), 3),
                f"{fmt_number(r.get('ci_low'), 3)} to {fmt_number(r.get('ci_high'), 3)}",
                fmt_number(r.get(ratio_keys[0]), 2),
                f"{fmt_number(r.get(ratio_keys[1]), 2)} to {fmt_number(r.get(ratio_keys[2]), 2)}",
                _ame(r),
                _p(r.get("p_value")),
                _p(adjusted_p(r)),
                r.get("note") or "",
            )
            for r in [*rows, *sensitivity]
        ),
    )
    return Chart(
        key=f"forest-{slug(model)}-{slug(outcome)}",
        title=title,
        caption=caption,
        figure=fig,
        table=table,
        summary=f"{len(plotted)} terms, {f'{ratio}s' if ratio else 'coefficients'}; {fit}.",
    )


def _trace(
    pick: list[tuple[str, dict]],
    keys: tuple[str, str, str],
    significant: bool | None,
    ratio: str,
    label: str = "",
) -> dict[str, Any]:
    """significant None: a sensitivity series (diamonds, in orange, its own offset group)."""
    if significant is None:
        color, symbol = OKABE_ITO["orange"], "diamond-open"
    else:
        color = OKABE_ITO["blue"] if significant else MUTED
        symbol = "circle" if significant else "circle-open"
    est = [r[keys[0]] for _, r in pick]
    return {
        "type": "scatter",
        "x": est,
        "y": [name for name, _ in pick],
        "mode": "markers",
        "offsetgroup": "sensitivity" if significant is None else "main",
        "orientation": "h",  # with scattermode 'group', the groups sit apart along y
        "name": label or ("adjusted p < 0.05" if significant else "adjusted p ≥ 0.05"),
        "marker": {
            "symbol": symbol,
            "size": 10,
            "color": color,
            "line": {"width": 2, "color": color},
        },
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [r[keys[2]] - e for (_, r), e in zip(pick, est, strict=True)],
            "arrayminus": [e - r[keys[1]] for (_, r), e in zip(pick, est, strict=True)],
            "color": color,
            "thickness": 1.6,
            "width": 4,
        },
        "customdata": [
            [r[keys[1]], r[keys[2]], r.get("p_value"), adjusted_p(r), _ame(r)] for _, r in pick
        ],
        "hovertemplate": (
            "%{y}<br>"
            + (ratio or "coefficient")
            + " %{x:.2f} (95 % CI %{customdata[0]:.2f} to %{customdata[1]:.2f})"
            "<br>p = %{customdata[2]:.3g}, adjusted p = %{customdata[3]:.3g}"
            + (
                "<br>average marginal effect %{customdata[4]} percentage points"
                if ratio == "odds ratio"
                else ""
            )
            + "<extra></extra>"
        ),
    }


def _ame(row: dict) -> str:
    """A logit term's average marginal effect: the change in the outcome's probability, in
    percentage points, averaged over the sample (delta-method interval)."""
    ame = row.get("ame")
    if is_missing(ame):
        return "—"
    low, high = row.get("ame_ci_low"), row.get("ame_ci_high")
    interval = (
        "" if is_missing(low) or is_missing(high) else f" ({low * 100:+.1f} to {high * 100:+.1f})"
    )
    return f"{ame * 100:+.1f}{interval}"


def _p(value: float | None) -> str:
    if is_missing(value):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
