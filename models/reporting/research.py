"""The research report: model estimates, homophily, reliability, data quality and provenance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from models.reporting.common import footer, nav
from models.reporting.dashboard import gap_note
from models.reporting.data_quality import quality_summary
from models.reporting.effects import SHOWN_ROWS, gap_rows, gap_table
from models.reporting.forest import forest_chart
from models.reporting.frames import get, suppression_k
from models.reporting.homophily import homophily_chart
from models.reporting.markup import (
    Chart,
    Table,
    esc,
    fmt_number,
    is_missing,
    note,
    render_charts,
    render_page,
    render_table,
    section,
    slug,
)
from models.reporting.survival import DURATION_TITLE, research_duration

ALPHA_ACCEPTABLE = 0.70


# Models refitted as a sensitivity analysis of another (models/stats/multiplicity.py labels
# them analysis = 'sensitivity'): drawn inside the primary model's chart, not as their own.
SENSITIVITY_MODELS = frozenset({"mixedlm"})


def _is_sensitivity(rows: list[dict]) -> bool:
    labelled = {r.get("analysis") for r in rows} - {None}
    if labelled:
        return labelled == {"sensitivity"}
    return bool(rows) and rows[0]["model"] in SENSITIVITY_MODELS


def forest_charts(estimates: pl.DataFrame) -> list[Chart]:
    """One forest plot per outcome, in a stable order: its primary model, with any
    sensitivity refit of the same outcome drawn beside it."""
    charts = []
    keys = estimates.select("model", "outcome").unique().sort(["outcome", "model"]).to_dicts()
    fits: dict[str, dict[str, list[dict]]] = {}
    for key in keys:
        rows = estimates.filter(
            (pl.col("model") == key["model"]) & (pl.col("outcome") == key["outcome"])
        ).to_dicts()
        fits.setdefault(key["outcome"], {})[key["model"]] = rows
    for outcome, models in fits.items():
        primary = {m: r for m, r in models.items() if not _is_sensitivity(r)}
        extra = {m: r for m, r in models.items() if _is_sensitivity(r)}
        if not primary:  # only a sensitivity fit: show it as it is
            primary, extra = extra, {}
        for model, rows in primary.items():
            again, again_model = next(iter(extra.items()), ("", []))[::-1]
            charts.append(forest_chart(rows, model, outcome, again, again_model))
    return charts


def contents(charts: list[Chart], sections: list[str]) -> str:
    """Links to every section and every model chart: the page is long."""
    items = [f'<li><a href="#sec-{slug(title)}">{esc(title)}</a></li>' for title in sections]
    models = "".join(f'<li><a href="#fig-{esc(c.key)}">{esc(c.title)}</a></li>' for c in charts)
    if models:
        items[0] = items[0].replace("</li>", f"<ul>{models}</ul></li>")
    return f'<nav class="contents" aria-label="Contents"><ul>{"".join(items)}</ul></nav>'


GAPS_TITLE = "Gaps between groups, as effect sizes"
CITE_TITLE = "How to cite this snapshot"
SECTION_TITLES = [
    "Model estimates",
    GAPS_TITLE,
    DURATION_TITLE,
    "Homophily: who is matched with whom",
    "Construct reliability",
    "Data quality",
    "Settings and data versions",
    CITE_TITLE,
]


def cite_box(run_info: Mapping[str, Any]) -> str:
    """How to cite the data behind this page: an archived version, never the live file."""
    facts = ", ".join(
        f"{label} {run_info[key]}"
        for key, label in (
            ("as_of", "as of"),
            ("pipeline_version", "pipeline"),
            ("settings_hash", "settings"),
        )
        if run_info.get(key)
    )
    return (
        '<div class="note"><p>Cite an archived <strong>version</strong> of the research '
        "snapshot, never the live file: it never changes, and it carries a CITATION.cff and a "
        "manifest with the SHA-256 of every file.</p><ol>"
        "<li><code>mentorscope snapshot list</code> shows the versions; the current one is "
        "also <code>meta.snapshot_info.version_id</code> in the snapshot.</li>"
        '<li><code>mentorscope snapshot keep VERSION --reason "paper"</code> so it is never '
        "pruned.</li>"
        "<li><code>mentorscope snapshot export VERSION DIR</code> writes the zip (data in "
        "DuckDB, Parquet, Stata and SPSS, codebook, manifest, CITATION.cff) to share with a "
        "preregistration or a replication package.</li></ol>"
        f"<p>For example: <em>Mentorscope research snapshot VERSION ({esc(facts)})</em>. "
        'The project\'s docs/researchers.md ("Citing a snapshot") has the details.</p>'
        "</div>"
    )


def reliability_table(reliability: pl.DataFrame) -> Table:
    rows = reliability.sort(["program_id", "survey", "construct"], nulls_last=True).to_dicts()

    def verdict(alpha: float | None) -> str:
        if is_missing(alpha):
            return "not computed"
        return "acceptable" if alpha >= ALPHA_ACCEPTABLE else "below 0.70: read scores with care"

    def interval(r: dict) -> str:
        low, high = r.get("alpha_ci_low"), r.get("alpha_ci_high")
        if is_missing(low) or is_missing(high):
            return "—"
        return f"{fmt_number(low, 2)} to {fmt_number(high, 2)}"

    return Table(
        (
            "Program",
            "Survey",
            "Construct",
            "Cronbach's alpha",
            "95 % interval (Feldt)",
            "McDonald's omega",
            "Respondents",
            "Reading",
        ),
        tuple(
            (
                r["program_id"] if r.get("program_id") is not None else "All programs",
                r["survey"],
                r["construct"].replace("_", " "),
                fmt_number(r.get("alpha"), 2),
                interval(r),
                fmt_number(r.get("omega"), 2),
                fmt_number(r.get("n")),
                verdict(r.get("alpha")),
            )
            for r in rows
        ),
    )


def run_info_table(run_info: Mapping[str, Any]) -> Table:
    """Every provenance field, nested mappings (file hashes, settings) one row per entry."""
    rows: list[tuple[str, str]] = []
    for key in sorted(run_info):
        value = run_info[key]
        if isinstance(value, Mapping):
            # A setting also given at the top (as_of, suppression_k) is listed once.
            rows += [
                (f"{key}: {sub}", str(value[sub]))
                for sub in sorted(value)
                if not (sub in run_info and str(run_info[sub]) == str(value[sub]))
            ]
        elif isinstance(value, list | tuple):
            rows.append((key, ", ".join(str(v) for v in value)))
        else:
            rows.append((key, str(value)))
    return Table(("Setting or version", "Value"), tuple(rows))


def render_research(
    frames: Mapping[str, pl.DataFrame],
    run_info: Mapping[str, Any],
    gap: int | None = None,
    withheld: bool = False,
) -> tuple[str, int]:
    """The page's HTML and how many charts it holds. gap, withheld: as render_dashboard's
    (the group gaps then carry the same note; withheld: the caller has left out the rows
    that do not hold alone)."""
    parts: list[str] = []
    count = 0
    model_charts: list[Chart] = []

    estimates = get(frames, "model_estimates")
    if estimates is not None:
        # The Cox models have their own section, with the survival curves.
        estimates = get({"e": estimates.filter(pl.col("model") != "coxph")}, "e")
    if estimates is not None:
        charts = model_charts = forest_charts(estimates)
        html = render_charts(charts)
        count += len(charts)
        parts.append(
            section(
                "Model estimates",
                html,
                "Regressions of each outcome on the six step indicators, dyad composition and "
                "program, with standard errors clustered by mentor; mixed models add a random "
                "intercept per mentor. Binary outcomes are shown as odds ratios. The intercept is "
                "left out of the plots and kept in the tables.",
            )
        )
    else:
        parts.append(section("Model estimates", note("No model estimates were provided.", "warn")))

    gaps = gap_rows(get(frames, "breakdowns"))
    if gaps:
        html = render_table(gap_table(gaps[:SHOWN_ROWS]))
        if len(gaps) > SHOWN_ROWS:
            html += (
                f"<details><summary>All {len(gaps)} group gaps</summary>"
                f"{render_table(gap_table(gaps[SHOWN_ROWS:]))}</details>"
            )
        intro = (
            "All programs together: each group against the rest of its dimension (women against "
            "everyone else, and so on), largest effects first. Shares: the gap in percentage "
            "points (the risk difference) with its Newcombe interval, and the odds ratio with a "
            "Woolf interval. Means: the gap with its Welch interval, and Hedges' g (the gap in "
            "pooled standard deviations). Intervals are per comparison; the adjusted p "
            "(Benjamini–Hochberg) is over every group of every dimension of the same metric, "
            f"the family to read for discoveries. Suppressed groups are left out. {len(gaps)} "
            "gaps."
        )
    else:
        html, intro = note("No group gaps with effect sizes were provided.", "warn"), ""
    html = gap_note(gap, withheld) + html
    parts.append(section(GAPS_TITLE, html, intro))

    html, n = research_duration(frames, suppression_k(run_info))
    count += n
    parts.append(
        section(
            DURATION_TITLE,
            html,
            "How long relationships last (from the day the match was made to its end), for all "
            "programs together: Kaplan-Meier curves by dyad composition with log-rank tests, Cox "
            "models of the hazard that a relationship ends, and where every mentee stands. A "
            "match still open on the data date is censored: it counts for as long as it has "
            "lasted so far, never as an ending.",
        )
    )

    homophily = get(frames, "homophily")
    if homophily is not None:
        html = render_charts([homophily_chart(homophily)])
        count += 1
        parts.append(section("Homophily: who is matched with whom", html))

    reliability = get(frames, "construct_reliability")
    parts.append(
        section(
            "Construct reliability",
            render_table(reliability_table(reliability))
            if reliability is not None
            else note("No reliability estimates were provided.", "warn"),
            "Cronbach's alpha for each survey construct: how consistently its items measure the "
            "same thing. 0.70 or more is the usual bar for comparing groups.",
        )
    )

    verdict, totals = quality_summary(
        get(frames, "data_quality"), get(frames, "expectation_results")
    )
    parts.append(
        section(
            "Data quality",
            render_table(totals)
            + '<p>Details per file and check: <a href="data_quality.html">data-quality report</a>.'
            "</p>",
            verdict,
        )
    )
    parts.append(
        section(
            "Settings and data versions",
            render_table(run_info_table(run_info)),
            "Everything needed to reproduce these numbers: the metric settings (and their hash), "
            "the pipeline version and a fingerprint of every input file.",
        )
    )
    parts.append(section(CITE_TITLE, cite_box(run_info)))
    html = render_page(
        "Research report",
        f"Models, matching patterns and measurement quality · data as of "
        f"{run_info.get('as_of', '—')}",
        contents(model_charts, SECTION_TITLES) + "".join(parts),
        footer(run_info),
        nav("research.html"),
        charts=count > 0,
    )
    return html, count
