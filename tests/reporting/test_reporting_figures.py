"""Unit tests of the figure builders and the small pure helpers, on hand-made frames."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
import polars as pl
import pytest

from models.reporting import labels
from models.reporting.breakdowns import breakdown_chart
from models.reporting.dashboard import funnel_row as dashboard_funnel_row
from models.reporting.engagement import engagement_chart, monthly_engagement
from models.reporting.forest import forest_chart, term_label
from models.reporting.frames import period_bounds, previous_period
from models.reporting.funnel import funnel_chart
from models.reporting.headlines import format_change, headline_cards, headline_values
from models.reporting.homophily import homophily_chart
from models.reporting.outcomes import outcomes_chart
from models.reporting.steps_completed import steps_completed_chart, steps_completed_counts
from models.vocabulary import WINDOW_CLOSED

K = 10


def validated(fig: dict) -> go.Figure:
    """Builders skip Plotly's validation for speed; check their JSON against the schema here."""
    return go.Figure(fig)


def breakdown_rows(program_id: str | None = "p1") -> pl.DataFrame:
    def row(group, metric, n, value, suppressed, value_type="share"):
        return {
            "program_id": program_id,
            "dimension": "mentee_gender",
            "group": group,
            "metric": metric,
            "n": n,
            "value": value,
            "ci_low": None if value is None else value - 0.1,
            "ci_high": None if value is None else value + 0.05,
            "suppressed": suppressed,
            "value_type": value_type,
            "gap": None,
            "gap_ci_low": None,
            "gap_ci_high": None,
        }

    return pl.DataFrame(
        [
            row("woman", "s3_calendar", 40, 0.6, False),
            row("man", "s3_calendar", 30, 0.5, False),
            row("non_binary", "s3_calendar", 3, None, True),  # small group
            row("undisclosed", "s3_calendar", 12, None, True),  # protects the small one
            row("self_described", "s3_calendar", None, None, True),  # n blanked by producer
            row("woman", "mfq_career_support_exit", 35, 3.9, False, "mean"),
            row("man", "mfq_career_support_exit", 25, 3.5, False, "mean"),
            row("non_binary", "mfq_career_support_exit", 3, None, True, "mean"),
            row("undisclosed", "mfq_career_support_exit", 11, None, True, "mean"),
        ]
    )


def test_breakdown_suppressed_groups_are_labelled_not_plotted() -> None:
    chart = breakdown_chart(
        breakdown_rows(), "mentee_gender", "p1", K, metrics=("s3_calendar",), scope="x"
    )
    assert chart is not None
    fig = validated(chart.figure)
    trace = fig.data[0]
    by_group = dict(zip(trace.y, trace.x, strict=True))
    # Every group keeps its row ...
    assert set(by_group) == {"Woman", "Man", "Non-binary", "Undisclosed", "Self-described"}
    # ... the suppressed ones without a value (not zero) ...
    assert by_group["Non-binary"] is None and by_group["Undisclosed"] is None
    assert by_group["Self-described"] is None
    assert by_group["Woman"] == pytest.approx(0.6) and by_group["Man"] == pytest.approx(0.5)
    # ... and with a label saying why.
    notes = {a.y: a.text for a in fig.layout.annotations if "suppressed" in (a.text or "")}
    assert notes["Non-binary"] == f"<i>suppressed (n<{K})</i>"
    assert "protects a group of n<10" in notes["Undisclosed"]
    # Without n the label names the rule instead of claiming a size that may be false.
    assert notes["Self-described"] == f"<i>suppressed (n<{K} rule)</i>"
    # Error bars are the interval's distances from the estimate, and absent where suppressed.
    plus = dict(zip(trace.y, trace.error_x.array, strict=True))
    minus = dict(zip(trace.y, trace.error_x.arrayminus, strict=True))
    assert plus["Woman"] == pytest.approx(0.05) and minus["Woman"] == pytest.approx(0.1)
    assert plus["Non-binary"] is None and minus["Non-binary"] is None
    # The text alternative says the same, without the small group's n.
    rows = {r[0]: r for r in chart.table.rows}
    assert rows["Non-binary"][2] == "—" and rows["Non-binary"][3].startswith("suppressed")


def test_breakdown_one_panel_per_metric_with_own_scale() -> None:
    chart = breakdown_chart(
        breakdown_rows(),
        "mentee_gender",
        "p1",
        K,
        metrics=("s3_calendar", "mfq_career_support_exit"),
    )
    assert chart is not None
    fig = validated(chart.figure)
    assert len(fig.data) == 2
    assert fig.layout.xaxis.tickformat == ".0%"  # share panel in percent
    low, high = fig.layout.xaxis2.range  # mean panel spans its intervals, not 0..1
    assert low < 3.4 and high > 3.95 and low > 1
    assert fig.data[1].yaxis == "y2"


def test_breakdown_for_other_program_or_dimension_is_none() -> None:
    frame = breakdown_rows()
    assert breakdown_chart(frame, "mentee_gender", "other", K) is None
    assert breakdown_chart(frame, "dyad_race", "p1", K) is None
    # program_id None selects only the all-program rows, not every program's rows
    assert breakdown_chart(frame, "mentee_gender", None, K) is None


def funnel_row() -> dict:
    row = {"program_id": "p1", "period": "2025Q3", "matches": 50}
    counts = [45, 40, 30, 25, 20, 10, 8]
    for stage, n in zip(labels.FUNNEL_STAGES, counts, strict=True):
        row[f"{stage}_n"] = n
        row[f"{stage}_share"] = n / 50
    for i in range(1, 6):
        row[f"conv_s{i}_s{i + 1}"] = 0.5 + i / 20
    return row


def test_funnel_has_seven_stages_in_order() -> None:
    chart = funnel_chart(funnel_row(), "p1")
    fig = validated(chart.figure)
    bar = fig.data[0]
    assert len(bar.y) == 7
    assert list(bar.y) == [labels.metric_label(s) for s in labels.FUNNEL_STAGES]
    assert list(bar.x) == pytest.approx([45 / 50, 40 / 50, 30 / 50, 25 / 50, 20 / 50, 0.2, 0.16])
    assert bar.text[0] == "45 (90 %)"
    conv = [a for a in fig.layout.annotations if "previous step" in a.text]
    assert [a.y for a in conv] == list(bar.y[1:6])  # steps 2..6 only
    assert conv[0].text.startswith("→ 55 %")
    assert len(chart.table.rows) == 7


def test_open_windows_read_too_early_to_tell_never_zero() -> None:
    # A recent quarter: no lasting window closed yet, some follow-up windows did.
    row = funnel_row() | {
        "lasting_n": 0,
        "lasting_share": None,
        "lasting_judged": 0,
        "lasting_too_early": 50,
        "s6_follow_up_n": 6,
        "s6_follow_up_share": 6 / 20,
        "s6_follow_up_judged": 20,
        "s6_follow_up_too_early": 30,
    }
    chart = funnel_chart(row, "p1")
    bar = validated(chart.figure).data[0]
    assert bar.x[-1] is None  # no bar at all, not a bar of length 0
    assert bar.text[-1] == "too early to tell (50 matches)"
    # without a bar Plotly draws no text: the row carries it as a note instead
    notes = {a.y: a.text for a in validated(chart.figure).layout.annotations}
    assert notes[labels.metric_label("lasting")] == "too early to tell (50 matches)"
    assert bar.text[5] == "6 (30 %); 30 too early"
    lasting = chart.table.rows[-1]
    assert lasting[2] == "too early to tell" and lasting[3] == "50"
    assert "0 %" not in " ".join(bar.text[-1:]) and "0 %" not in lasting[2]
    assert "too early to tell" in chart.caption


def test_lasting_headline_reads_too_early_to_tell() -> None:
    frame = pl.DataFrame(
        {
            "program_id": ["a", "a"],
            "period": ["2025Q1", "2025Q2"],
            "enrolled": [100, 120],
            "matched": [40, 60],
            "match_rate": [0.4, 0.5],
            "median_days_to_match": [10.0, 7.0],
            "median_days_to_first_meeting": [12.0, 12.0],
            "active_matches": [30, 50],
            "lasting_share": [0.3, None],
            "lasting_too_early": [0, 60],
        }
    )
    values, prev = headline_values(frame, "a", "2025Q2")
    html = headline_cards(values, prev, "2025Q2", waiting=60)
    card = html[html.index("Lasting relationships") :]
    assert "too early to tell" in card and "60 matches too recent to judge" in card
    assert "0 %" not in card and "no change" not in card


def test_funnel_missing_share_is_not_drawn_as_zero() -> None:
    row = funnel_row() | {"s4_inquiry_share": None, "s4_inquiry_n": None}
    bar = validated(funnel_chart(row, "p1").figure).data[0]
    assert bar.x[3] is None and bar.text[3] == "no data"


def test_suppressed_funnel_row_is_not_shown_never_zero() -> None:
    row = {"program_id": "p1", "period": "2025Q3", "suppressed": True, "matches": None} | {
        f"{s}_{c}": None for s in labels.FUNNEL_STAGES for c in ("n", "share")
    }
    chart = funnel_chart(row, "p1", K)
    bar = validated(chart.figure).data[0]
    assert all(x is None for x in bar.x)
    notes = [a.text for a in validated(chart.figure).layout.annotations]
    assert any(f"fewer than {K} matches" in t for t in notes)
    assert f"fewer than {K} matches" in chart.caption and f"fewer than {K}" in chart.summary
    cells = " ".join(c for r in chart.table.rows for c in r)
    assert "0 %" not in cells and " 0" not in cells and "suppressed" in cells
    assert "0 %" not in " ".join(bar.text)


def _program_funnel(suppressed: bool) -> pl.DataFrame:
    def row(program: str, matches: int | None) -> dict:
        out: dict = {"program_id": program, "period": "2025Q3", "matches": matches}
        for stage in labels.FUNNEL_STAGES:
            out[f"{stage}_n"] = None if matches is None else matches // 2
        for stage in WINDOW_CLOSED:
            out[f"{stage}_judged"] = matches
            out[f"{stage}_too_early"] = None if matches is None else 0
        out["suppressed"] = matches is None
        return out

    return pl.DataFrame([row("a", 40), row("b", None if suppressed else 30)])


def test_pooled_funnel_row_never_reads_a_suppressed_row_as_zero() -> None:
    pooled = dashboard_funnel_row(_program_funnel(suppressed=False), None, "2025Q3")
    assert pooled is not None and pooled["matches"] == 70 and pooled["s3_calendar_n"] == 35
    pooled = dashboard_funnel_row(_program_funnel(suppressed=True), None, "2025Q3")
    assert pooled is not None and pooled["suppressed"] is True
    assert pooled.get("matches") is None and pooled.get("s3_calendar_n") is None
    chart = funnel_chart(pooled, "all programs", K)
    assert all(x is None for x in validated(chart.figure).data[0].x)
    # a program's own suppressed row is passed through as it is
    own = dashboard_funnel_row(_program_funnel(suppressed=True), "b", "2025Q3")
    assert own is not None and own["suppressed"] is True and own["matches"] is None


def estimates(model: str, odds: bool) -> list[dict]:
    rows = []
    for term, est in (
        ("Intercept", -1.0),
        ("s3_calendar[T.True]", 0.7),
        ("dyad_gender[T.cross]", -0.4),
    ):
        se = 0.2
        rows.append(
            {
                "model": model,
                "outcome": "retained",
                "term": term,
                "estimate": est,
                "ci_low": est - 1.96 * se,
                "ci_high": est + 1.96 * se,
                "p_value": 0.001 if est > 0 else 0.2,
                "p_adjusted": 0.003 if est > 0 else 0.3,
                "n_obs": 200,
                "n_groups": None,
                "converged": True,
                "odds_ratio": math.exp(est) if odds else None,
                "or_ci_low": math.exp(est - 1.96 * se) if odds else None,
                "or_ci_high": math.exp(est + 1.96 * se) if odds else None,
                "note": None,
            }
        )
    return rows


def test_forest_plots_odds_ratios_on_log_axis() -> None:
    rows = estimates("logit", odds=True)
    chart = forest_chart(rows, "logit", "retained")
    fig = validated(chart.figure)
    assert fig.layout.xaxis.type == "log"
    xs = {y: x for tr in fig.data for y, x in zip(tr.y, tr.x, strict=True)}
    assert "Intercept" not in xs  # intercepts are not plotted
    assert xs["3 · On the calendar"] == pytest.approx(math.exp(0.7))  # the odds ratio, not 0.7
    assert xs["Dyad gender composition: Cross group"] == pytest.approx(math.exp(-0.4))
    sig = next(tr for tr in fig.data if tr.name == "adjusted p < 0.05")
    assert list(sig.y) == ["3 · On the calendar"]
    assert sig.error_x.array[0] == pytest.approx(math.exp(0.7 + 0.392) - math.exp(0.7))
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == 1.0  # no-effect reference for odds ratios
    assert any(r[0] == "Intercept" for r in chart.table.rows)  # but kept in the table


def test_forest_linear_model_uses_coefficients_and_zero_line() -> None:
    fig = validated(forest_chart(estimates("ols", odds=False), "ols", "retained").figure)
    assert fig.layout.xaxis.type == "linear"
    xs = {y: x for tr in fig.data for y, x in zip(tr.y, tr.x, strict=True)}
    assert xs["3 · On the calendar"] == pytest.approx(0.7)
    assert fig.layout.shapes[0].x0 == 0.0


def test_forest_unestimable_term_is_labelled() -> None:
    rows = estimates("logit", odds=True)
    rows[1] |= {"or_ci_high": math.inf}  # perfect separation
    fig = validated(forest_chart(rows, "logit", "retained").figure)
    plotted = {y for tr in fig.data for y in tr.y}
    assert "3 · On the calendar" not in plotted
    assert [a.y for a in fig.layout.annotations] == ["3 · On the calendar"]


@pytest.mark.parametrize(
    ("term", "label"),
    [
        ("s6_follow_up[T.True]", "6 · Follow-up"),
        ("C(dyad_race, Treatment('same'))[T.cross]", "Dyad race composition: Cross group"),
        ("program_id[T.P-2]", "Program id: P-2"),
        ("s1_self_reflection", "1 · Self-reflection"),
    ],
)
def test_term_labels(term: str, label: str) -> None:
    assert term_label(term) == label


def test_group_labels_for_intersections() -> None:
    assert labels.group_label("woman_black") == "Woman × Black"
    assert labels.group_label("non_binary|hispanic_latino") == "Non-binary × Hispanic/Latino"
    assert labels.group_label("undisclosed") == "Undisclosed"


def monthly() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "program_id": ["a", "b", "a", "b"],
            "month": [dt.date(2025, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1)] * 1
            + [dt.date(2025, 2, 1)],
            "held_meetings": [10, 30, 4, 0],
            "in_person_share": [0.5, 0.1, 0.25, None],
        }
    )


def test_engagement_pools_programs_weighting_by_meetings() -> None:
    pooled = monthly_engagement(monthly(), None)
    jan, feb = pooled.to_dicts()
    assert jan["held_meetings"] == 40
    assert jan["in_person_share"] == pytest.approx((10 * 0.5 + 30 * 0.1) / 40)  # 0.2, not 0.3
    assert feb["held_meetings"] == 4 and feb["in_person_share"] == pytest.approx(0.25)
    only_a = monthly_engagement(monthly(), "a", until=dt.date(2025, 2, 1))
    assert only_a.get_column("held_meetings").to_list() == [10]
    fig = validated(engagement_chart(pooled, "all").figure)
    assert fig.data[1].yaxis == "y2" and list(fig.data[0].y) == [40, 4]


def test_outcomes_chart_reads_overall_rows_only() -> None:
    base = breakdown_rows(None).to_dicts()[0]
    frame = pl.DataFrame(
        [
            base | {"dimension": "all", "group": "all", "metric": "retained", "value": 0.8},
            base
            | {
                "dimension": "all",
                "group": "all",
                "metric": "mfq_role_modeling_exit",
                "value": 4.1,
                "ci_low": 3.9,
                "ci_high": 4.3,
                "value_type": "mean",
            },
            base | {"metric": "retained", "value": 0.1},  # a group row: not an overall outcome
        ]
    )
    fig = validated(outcomes_chart(frame, None, K).figure)
    points = {y: x for tr in fig.data for y, x in zip(tr.y, tr.x, strict=True)}
    assert points == {"Retained": pytest.approx(0.8), "MFQ-9 role modeling (exit)": 4.1}
    assert outcomes_chart(frame, "p1", K) is None


def test_steps_completed_counts_every_value_within_the_period() -> None:
    steps = pl.DataFrame(
        {
            "program_id": ["a", "a", "a", "b", "a"],
            "matched_on": [
                dt.date(2025, 7, 1),
                dt.date(2025, 9, 30),
                dt.date(2025, 8, 2),
                dt.date(2025, 8, 2),
                dt.date(2025, 10, 1),  # next quarter
            ],
            "steps_completed": [6, 2, 2, 1, 0],
        }
    )
    counts = steps_completed_counts(steps, "a", period_bounds("2025Q3"))
    assert counts.get_column("steps_completed").to_list() == list(range(7))
    assert counts.get_column("matches").to_list() == [0, 0, 2, 0, 0, 0, 1]
    fig = validated(steps_completed_chart(counts, "a").figure)
    assert list(fig.data[0].y) == [0, 0, 2, 0, 0, 0, 1]


def test_headlines_change_against_previous_period() -> None:
    frame = pl.DataFrame(
        {
            "program_id": ["a", "a", "a", "b", "b"],
            "period": ["2025Q1", "2025Q2", "all", "2025Q1", "2025Q2"],
            "enrolled": [100, 120, 220, 50, 40],
            # b makes more matches than it enrols in 2025Q2 (rematches, earlier mentees)
            "matched": [40, 60, 100, 10, 45],
            "matched_mentees": [36, 54, 90, 9, 24],
            "match_rate": [0.36, 0.45, 90 / 220, 0.18, 0.6],
            "median_days_to_match": [10.0, 7.0, 8.0, 3.0, 4.0],
            "median_days_to_first_meeting": [None, 12.0, 12.0, 5.0, 6.0],
            "active_matches": [30, 50, 50, 8, 20],
            "lasting_share": [0.2, 0.25, 0.22, 0.1, 0.1],
        }
    )
    values, prev = headline_values(frame, "a", "2025Q2")
    by_key = {h.key: h for h in values}
    assert prev == "2025Q1"
    assert by_key["enrolled"].change == 20
    assert by_key["match_rate"].change == pytest.approx(0.45 - 0.36)
    assert by_key["median_days_to_first_meeting"].change is None  # no earlier value
    assert format_change(by_key["match_rate"], prev) == "▲ +9.0 percentage points vs 2025Q1"
    assert format_change(by_key["median_days_to_match"], prev) == "▼ -3 days vs 2025Q1"
    # All programs without producer rows: counts pooled, the match rate recomputed from the
    # pooled mentees (matched_mentees / enrolled, not matches / enrolled), medians unknown.
    pooled, _ = headline_values(frame, None, "2025Q2")
    pooled_by_key = {h.key: h for h in pooled}

    def pooled_sum(period: str, column: str) -> int:
        return frame.filter(pl.col("period") == period).get_column(column).sum()

    assert pooled_by_key["matched"].value == pooled_sum("2025Q2", "matched")
    rate = {
        p: pooled_sum(p, "matched_mentees") / pooled_sum(p, "enrolled")
        for p in ("2025Q1", "2025Q2")
    }
    assert pooled_by_key["match_rate"].value == pytest.approx(rate["2025Q2"])
    assert pooled_by_key["match_rate"].change == pytest.approx(rate["2025Q2"] - rate["2025Q1"])
    matches_per_mentee = pooled_sum("2025Q2", "matched") / pooled_sum("2025Q2", "enrolled")
    assert pooled_by_key["match_rate"].value != pytest.approx(matches_per_mentee)
    assert pooled_by_key["median_days_to_match"].value is None
    _, first_prev = headline_values(frame, "a", "2025Q1")
    assert first_prev is None
    # Without the numerator the pooled rate is unknown, never matches / enrolled.
    unknown, _ = headline_values(frame.drop("matched_mentees"), None, "2025Q2")
    assert {h.key: h for h in unknown}["match_rate"].value is None


def test_match_rate_card_shows_its_mentees_and_refuses_more_than_all() -> None:
    frame = pl.DataFrame(
        {
            "program_id": ["a", "a", "b"],
            "period": ["2025Q1", "2025Q2", "2025Q2"],
            "enrolled": [100, 68, 4],
            "matched": [90, 181, 9],
            "matched_mentees": [80, 61, 3],
            "match_rate": [0.8, 61 / 68, None],  # b: fewer than k enrolled, suppressed
        }
    )
    values, prev = headline_values(frame, "a", "2025Q2")
    html = headline_cards(values, prev, "2025Q2")
    card = html[html.index("Match rate") :]
    card = card[: card.index("</li>")]
    assert "61 of 68 mentees enrolled in 2025Q2 have a match" in card
    assert f'title="{labels.HEADLINE_HINTS["match_rate"]}"' in html
    # A suppressed rate does not give its counts away on the card.
    values, prev = headline_values(frame, "b", "2025Q2")
    html = headline_cards(values, prev, "2025Q2")
    card = html[html.index("Match rate") :]
    assert " of 4 mentees" not in card[: card.index("</li>")]
    # Matches made over mentees enrolled (issue 17's 266 %) is not a share: not shown.
    wrong = frame.with_columns(match_rate=pl.col("matched") / pl.col("enrolled"))
    with pytest.raises(ValueError, match="match_rate .* within \\[0, 1\\]"):
        headline_values(wrong, "a", "2025Q2")


def test_periods() -> None:
    assert period_bounds("2025Q4") == (dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert period_bounds("2025-02") == (dt.date(2025, 2, 1), dt.date(2025, 3, 1))
    assert period_bounds("2024") == (dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    assert period_bounds("all") is None
    with pytest.raises(ValueError):
        period_bounds("Q3-2025")
    assert previous_period(["2025Q3", "all", "2024Q4", "2025Q1"], "2025Q1") == "2024Q4"


def test_homophily_dumbbells() -> None:
    frame = pl.DataFrame(
        {
            "program_id": ["a", "a"],
            "attribute": ["gender", "race"],
            "observed_share": [0.7, None],
            "expected_share": [0.5, 0.3],
            "p_value": [0.01, None],
            "ei_index": [-0.4, None],
            "n_matches": [80, 80],
        }
    )
    fig = validated(homophily_chart(frame).figure)
    link, chance, observed = fig.data
    assert list(observed.x) == [0.7, None] and list(chance.x) == [0.5, 0.3]
    assert list(link.x) == [0.5, 0.7, None]  # only the complete row gets a connector
    assert [a.text for a in fig.layout.annotations] == ["p = 0.010"]


def test_intersection_rows_group_by_gender_and_fully_suppressed_groups_are_named_not_drawn():
    def row(group, metric, n, value, suppressed):
        return {
            "program_id": "p1", "dimension": "mentee_gender_race", "group": group,
            "metric": metric, "n": n, "value": value,
            "ci_low": None if value is None else value - 0.1,
            "ci_high": None if value is None else value + 0.1, "suppressed": suppressed,
            "value_type": "share", "gap": None, "gap_ci_low": None, "gap_ci_high": None,
        }  # fmt: skip

    frame = pl.DataFrame(
        [
            row("woman|white", "s3_calendar", 40, 0.6, False),
            row("woman|undisclosed", "s3_calendar", 12, 0.5, False),
            row("man|white", "s3_calendar", 30, 0.5, False),
            row("woman|black", "s3_calendar", 25, 0.7, False),
            row("non_binary|asian", "s3_calendar", 2, None, True),
            row("man|white", "lasting", 28, 0.3, False),  # the others have no lasting row
        ]
    )
    chart = breakdown_chart(
        frame, "mentee_gender_race", "p1", K, metrics=("s3_calendar", "lasting")
    )
    assert chart is not None
    fig = validated(chart.figure)
    order = list(fig.data[0].y)
    # Each gender's rows together, named races first and undisclosed last within the gender.
    assert order == [
        labels.group_label(g)
        for g in ("man|white", "woman|black", "woman|white", "woman|undisclosed")
    ]
    # The group suppressed throughout is named under the chart, not drawn as a row.
    assert labels.group_label("non_binary|asian") in chart.caption
    assert labels.group_label("non_binary|asian") not in order
    # A group with no row for a measure says "no data" there, never a blank line.
    lasting = {a.y: a.text for a in fig.layout.annotations if a.yref == "y2"}
    assert lasting[labels.group_label("woman|black")] == "<i>no data</i>"
