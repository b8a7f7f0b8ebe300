"""The research page's effect-size table, AME column and citation box, on hand-made rows."""

from __future__ import annotations

import math

import polars as pl

from models.reporting.effects import gap_rows, gap_table
from models.reporting.forest import forest_chart
from models.reporting.research import cite_box


def _row(program, group, metric, suppressed, effect, kind, gap=0.1):
    return {
        "program_id": program, "dimension": "mentee_gender", "group": group, "metric": metric,
        "n": None if suppressed else 40, "value": 0.5, "suppressed": suppressed,
        "value_type": "share" if kind == "odds_ratio" else "mean", "gap": gap,
        "gap_ci_low": gap - 0.05, "gap_ci_high": gap + 0.05, "effect_size": effect,
        "effect_size_ci_low": None, "effect_size_ci_high": None, "effect_size_type": kind,
    }  # fmt: skip


def test_gaps_are_all_programs_published_rows_largest_effect_first():
    frame = pl.DataFrame(
        [
            _row(None, "woman", "s3_calendar", False, 1.5, "odds_ratio"),
            _row(None, "man", "s3_calendar", False, 0.25, "odds_ratio"),  # |log 0.25| = 1.39
            _row(None, "man", "mfq_career_support_exit", False, -0.9, "hedges_g"),
            _row(None, "non_binary", "s3_calendar", True, None, None),  # suppressed: left out
            _row("p1", "woman", "s3_calendar", False, 9.0, "odds_ratio"),  # one program: out
        ]
    )
    rows = gap_rows(frame)
    assert [(r["group"], r["effect_size"]) for r in rows] == [
        ("man", 0.25),
        ("man", -0.9),
        ("woman", 1.5),
    ]
    assert math.log(4) > 0.9 > math.log(1.5)  # the order above is by these strengths
    table = gap_table(rows)
    assert table.rows[0][4] == "+10.0 pp (5.0 to 15.0)" and table.rows[0][5] == "odds ratio"
    assert table.rows[1][5] == "Hedges' g" and table.rows[1][4].startswith("+0.1 (")


def test_logit_terms_show_their_average_marginal_effect_in_points():
    rows = [
        {"model": "logit", "outcome": "retained", "term": "s3_calendar[T.True]",
         "estimate": 0.4, "ci_low": 0.1, "ci_high": 0.7, "odds_ratio": 1.49,
         "or_ci_low": 1.1, "or_ci_high": 2.0, "p_value": 0.01, "p_adjusted": 0.02,
         "ame": 0.062, "ame_ci_low": 0.021, "ame_ci_high": 0.103, "n_obs": 500},
    ]  # fmt: skip
    chart = forest_chart(rows, "logit", "retained")
    header = chart.table.columns.index("AME, percentage points (95 % CI)")
    assert chart.table.rows[0][header] == "+6.2 (+2.1 to +10.3)"
    assert "average marginal effect" in chart.figure["data"][0]["hovertemplate"]


def test_the_citation_box_names_the_commands_and_the_run():
    html = cite_box({"as_of": "2026-06-30", "pipeline_version": "0.1.0", "settings_hash": "ab12"})
    for text in ("snapshot list", "snapshot keep", "snapshot export", "CITATION.cff"):
        assert text in html
    assert "as of 2026-06-30, pipeline 0.1.0, settings ab12" in html
    assert "http" not in html  # offline pages link nowhere outside
