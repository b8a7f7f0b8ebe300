"""The dashboard's verdict: trends against the previous period and targets, judged by hand."""

from __future__ import annotations

import pytest

from models.reporting.headlines import Headline
from models.reporting.verdict import (
    judge,
    load_targets,
    targets_for,
    verdict_html,
    verdict_sentence,
)


def _values(**pairs: tuple[float | None, float | None]) -> list[Headline]:
    return [Headline(key, now, before) for key, (now, before) in pairs.items()]


def test_a_falling_match_rate_is_worse_and_fewer_days_are_better():
    values = _values(
        match_rate=(0.70, 0.80),
        median_days_to_first_meeting=(12.0, 20.0),
        enrolled=(10.0, 50.0),  # a volume: never judged
    )
    judgements = judge(values, {"match_rate": 0.75, "median_days_to_first_meeting": 30})
    assert [(j.key, j.trend, j.met) for j in judgements] == [
        ("match_rate", "worse", False),
        ("median_days_to_first_meeting", "better", True),
    ]
    sentence = verdict_sentence(judgements, "2026Q1", [])
    assert sentence == "Mixed against 2026Q1: 1 improved, 1 declined; 1 of 2 targets met."


def test_too_early_is_never_counted_as_a_missed_target():
    values = _values(match_rate=(0.9, 0.85), lasting_share=(None, 0.4))
    judgements = judge(values, {"match_rate": 0.8, "lasting_share": 0.5})
    assert {j.key: j.met for j in judgements} == {"match_rate": True, "lasting_share": None}
    sentence = verdict_sentence(judgements, "2026Q1", ["lasting_share"])
    assert sentence == (
        "Better than 2026Q1: 1 of 1 measures improved; 1 of 1 target met "
        "(lasting relationships: too early to tell)."
    )


def test_small_changes_are_about_the_same_and_no_earlier_period_is_said():
    same = judge(_values(match_rate=(0.801, 0.80)), {})
    assert verdict_sentence(same, "2026Q1", []) == "About the same as 2026Q1."
    first = judge(_values(match_rate=(0.8, None)), {})
    assert verdict_sentence(first, None, []) == "There is no earlier period to compare with."


def test_program_targets_override_the_defaults(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text(
        "default: {match_rate: 0.8, lasting_share: 0.5}\nprograms: {PRG9: {match_rate: 0.95}}\n"
    )
    targets = load_targets({"MENTORSCOPE_TARGETS": str(path)})
    assert targets_for(targets, "PRG9") == {"match_rate": 0.95, "lasting_share": 0.5}
    assert targets_for(targets, "PRG1") == {"match_rate": 0.8, "lasting_share": 0.5}
    path.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        load_targets({"MENTORSCOPE_TARGETS": str(path)})


def test_the_verdict_block_escapes_and_marks_a_decline():
    html = verdict_html(_values(match_rate=(0.5, 0.9)), "Q<1>", {"match_rate": 0.8})
    assert "verdict-mixed" in html and "Q&lt;1&gt;" in html and "Q<1>" not in html
