"""A small, deterministic set of report input frames, shaped like the producers' outputs.

Person-level columns carry planted identifiers (a fake name, an e-mail, match and participant
ids) that no report may ever show.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

FAKE_NAME = "Zelphine Quackenbush-Orrery"
FAKE_EMAIL = "zelphine.q@example.invalid"
ID_PREFIX = "SECRETID"  # every match and participant id starts with this
PROGRAMS = ("P-ALPHA", "beta/2")  # the second needs sanitising for a file name
PERIODS = ("2025Q2", "2025Q3")
STEPS = (
    "s1_self_reflection",
    "s2_network",
    "s3_calendar",
    "s4_inquiry",
    "s5_thanks",
    "s6_follow_up",
)
K = 10
DIMENSIONS = {
    "mentee_gender": ["woman", "man", "non_binary", "undisclosed"],
    "mentee_race": ["asian", "black", "hispanic_latino", "white", "multiracial", "undisclosed"],
    "mentor_gender": ["woman", "man", "undisclosed"],
    "mentor_race": ["asian", "black", "white", "undisclosed"],
    "dyad_gender": ["same", "cross", "unknown"],
    "dyad_race": ["same", "cross", "unknown"],
    "mentee_gender_race": ["woman_black", "woman_white", "man_black", "man_white", "woman_asian"],
}
BREAKDOWN_METRICS = {
    "s3_calendar": "share",
    "s6_follow_up": "share",
    "lasting": "share",
    "retained": "share",
    "promoted": "share",
    "mfq_psychosocial_support_exit": "mean",
}
MODELS = {  # (model, outcome) -> reports odds ratios?
    ("logit_cluster_mentor", "retained"): True,
    ("logit_cluster_mentor", "lasting"): True,
    ("mixedlm_mentor", "retained"): True,
    ("ols_cluster_mentor", "mfq_psychosocial_support_exit"): False,
}
TERMS = ("Intercept", *(f"{s}[T.True]" for s in STEPS), "dyad_gender[T.cross]", "Group Var")


def match_steps(seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for p, program in enumerate(PROGRAMS):
        for i in range(60):
            matched = dt.date(2025, 4, 1) + dt.timedelta(days=rng.randrange(0, 180))
            flags = {s: rng.random() < 0.8 - 0.1 * j for j, s in enumerate(STEPS)}
            met = flags["s3_calendar"]
            first = matched + dt.timedelta(days=rng.randrange(3, 40)) if met else None
            rows.append(
                {
                    "match_id": f"{ID_PREFIX}-M-{p}-{i:04d}",
                    "program_id": program,
                    "mentor_id": f"{ID_PREFIX}-R-{p}-{i % 17:04d}",
                    "mentee_id": f"{ID_PREFIX}-E-{p}-{i:04d}",
                    "matched_on": matched,
                    "first_meeting_on": first,
                    **flags,
                    "days_to_first_meeting": (first - matched).days if first else None,
                    "held_meetings": rng.randrange(1, 9) if met else 0,
                    "lasting": met and rng.random() < 0.5,
                    "steps_completed": sum(flags.values()),
                    "settings_hash": "abc123",
                    # Must never reach a report: a column the report has no business reading.
                    "mentee_name": FAKE_NAME,
                    "mentee_email": FAKE_EMAIL,
                }
            )
    return pl.DataFrame(rows)


def _quarter(d: dt.date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def step_funnel(steps: pl.DataFrame) -> pl.DataFrame:
    """Counts and shares computed here from the person rows, the way the producer defines them."""
    rows = []
    for program in (*PROGRAMS, None):
        for period in (*PERIODS, "all"):
            sub = [
                r
                for r in steps.to_dicts()
                if (program is None or r["program_id"] == program)
                and (period == "all" or _quarter(r["matched_on"]) == period)
            ]
            row: dict = {"program_id": program, "period": period, "matches": len(sub)}
            for stage in (*STEPS, "lasting"):
                n = sum(r[stage] for r in sub)
                row[f"{stage}_n"] = n
                row[f"{stage}_share"] = n / len(sub) if sub else None
            for a, b in zip(STEPS, STEPS[1:], strict=False):
                reached = [r for r in sub if r[a]]
                row[f"conv_{a[:2]}_{b[:2]}"] = (
                    sum(r[b] for r in reached) / len(reached) if reached else None
                )
            days = sorted(r["days_to_first_meeting"] for r in sub if r["days_to_first_meeting"])
            row["median_days_to_first_meeting"] = float(days[len(days) // 2]) if days else None
            row["suppressed"] = False  # the producer's disclosure control: nothing small here
            rows.append(row)
    return pl.DataFrame(rows)


def breakdowns(seed: int = 3) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for program in (*PROGRAMS, None):
        for dimension, groups in DIMENSIONS.items():
            for metric, value_type in BREAKDOWN_METRICS.items():
                for g, group in enumerate(groups):
                    # The last group is small and the one before it is suppressed to protect it.
                    n = 4 if g == len(groups) - 1 else (12 if g == len(groups) - 2 else 20 + 7 * g)
                    suppressed = g >= len(groups) - 2
                    value = rng.uniform(0.3, 0.9) if value_type == "share" else rng.uniform(3, 4.5)
                    half = 0.12 if value_type == "share" else 0.3
                    rows.append(
                        {
                            "program_id": program,
                            "dimension": dimension,
                            "group": group,
                            "metric": metric,
                            # Like metrics.breakdowns: n is blanked with the value.
                            "n": None if suppressed else n,
                            "value": None if suppressed else value,
                            "ci_low": None if suppressed else value - half,
                            "ci_high": None if suppressed else value + half,
                            "suppressed": suppressed,
                            "value_type": value_type,
                            "gap": None if suppressed or g == 0 else 0.05,
                            "gap_ci_low": None if suppressed or g == 0 else -0.05,
                            "gap_ci_high": None if suppressed or g == 0 else 0.15,
                        }
                    )
        for metric in (
            "retained",
            "promoted",
            "mfq_psychosocial_support_exit",
            "mfq_career_support_exit",
        ):
            mean = metric.startswith("mfq")
            rows.append(
                {
                    "program_id": program,
                    "dimension": "all",
                    "group": "all",
                    "metric": metric,
                    "n": 60,
                    "value": 3.8 if mean else 0.7,
                    "ci_low": 3.6 if mean else 0.6,
                    "ci_high": 4.0 if mean else 0.8,
                    "suppressed": False,
                    "value_type": "mean" if mean else "share",
                    "gap": None,
                    "gap_ci_low": None,
                    "gap_ci_high": None,
                }
            )
    return pl.DataFrame(rows)


def model_estimates() -> pl.DataFrame:
    rows = []
    for (model, outcome), odds in MODELS.items():
        for t, term in enumerate(TERMS):
            est = 0.1 * (t - 3)
            se = 0.15
            p = 0.001 if t % 3 == 0 else 0.4
            exp = 2.718281828459045
            rows.append(
                {
                    "model": model,
                    "outcome": outcome,
                    "term": term,
                    "estimate": est,
                    "std_err": se,
                    "ci_low": est - 1.96 * se,
                    "ci_high": est + 1.96 * se,
                    "p_value": p,
                    "p_adjusted": min(1.0, p * 3),
                    "n_obs": 120,
                    "n_groups": 34 if model.startswith("mixed") else None,
                    "converged": not model.startswith("mixed"),
                    "odds_ratio": exp**est if odds else None,
                    "or_ci_low": exp ** (est - 1.96 * se) if odds else None,
                    "or_ci_high": exp ** (est + 1.96 * se) if odds else None,
                    "note": "did not converge" if model.startswith("mixed") else None,
                }
            )
    return pl.DataFrame(rows)


def frames() -> dict[str, pl.DataFrame]:
    steps = match_steps()
    months = [dt.date(2025, m, 1) for m in range(4, 10)]
    return {
        "match_steps": steps,
        "step_funnel": step_funnel(steps),
        "breakdowns": breakdowns(),
        "model_estimates": model_estimates(),
        "homophily": pl.DataFrame(
            {
                "program_id": [PROGRAMS[0], PROGRAMS[0], PROGRAMS[1], PROGRAMS[1]],
                "attribute": ["gender", "race", "gender", "race"],
                "observed_share": [0.62, 0.41, 0.55, 0.30],
                "expected_share": [0.50, 0.33, 0.52, 0.31],
                "p_value": [0.01, 0.04, 0.4, 0.8],
                "ei_index": [-0.24, 0.18, -0.1, 0.4],
                "n_matches": [60, 60, 60, 60],
            }
        ),
        "construct_reliability": pl.DataFrame(
            {
                "program_id": [PROGRAMS[0]] * 3 + [PROGRAMS[1]] * 3,
                "survey": ["exit"] * 6,
                "construct": ["career_support", "psychosocial_support", "role_modeling"] * 2,
                "alpha": [0.81, 0.77, 0.64, 0.85, 0.72, 0.69],
                "n": [48, 48, 47, 51, 50, 50],
            }
        ),
        "alert_counts": pl.DataFrame(
            {
                "program_id": [PROGRAMS[0], PROGRAMS[0], PROGRAMS[1]],
                "alert": ["no_first_meeting", "no_recent_interaction", "no_first_meeting"],
                "alerts": [5, 3, 7],
            }
        ),
        "meetings_monthly": pl.DataFrame(
            {
                "program_id": [p for p in PROGRAMS for _ in months],
                "month": months * 2,
                "held_meetings": [10, 14, 20, 18, 25, 22, 5, 8, 9, 12, 11, 15],
                "in_person_share": [0.5, 0.4, 0.45, 0.3, 0.35, 0.3, 0.2, 0.25, None, 0.3, 0.1, 0.2],
            }
        ),
        "headlines": pl.DataFrame(
            {
                "program_id": [p for p in PROGRAMS for _ in range(3)],
                "period": [*PERIODS, "all"] * 2,
                "enrolled": [80, 90, 170, 70, 75, 145],
                "matched": [30, 30, 60, 28, 32, 60],
                "match_rate": [30 / 80, 30 / 90, 60 / 170, 28 / 70, 32 / 75, 60 / 145],
                "median_days_to_match": [12.0, 9.0, 10.0, 15.0, 14.0, 14.5],
                "median_days_to_first_meeting": [11.0, 13.0, 12.0, 16.0, 12.0, 14.0],
                "active_matches": [28, 52, 52, 25, 50, 50],
                "lasting_share": [0.3, 0.2, 0.25, 0.4, 0.35, 0.37],
            }
        ),
        "data_quality": pl.DataFrame(
            {
                "table_name": ["participants", "matches", "meetings", "meetings"],
                "source_file": [
                    "participants.csv",
                    "matches.xlsx",
                    "meetings_2025Q2.csv",
                    "meetings_2025Q3.csv",
                ],
                "rows_read": [300, 121, 400, 380],
                "rows_kept": [295, 120, 390, 370],
                "rows_quarantined": [3, 1, 8, 6],
                "rows_duplicate": [2, 0, 2, 3],  # the last file is short by one row
                "reconciled": [True, True, True, False],
            }
        ),
        "rejected_rows": pl.DataFrame(
            {
                "table_name": ["participants", "meetings", "meetings", "matches"],
                "source_file": [
                    "participants.csv",
                    "meetings_2025Q2.csv",
                    "meetings_2025Q3.csv",
                    "matches.xlsx",
                ],
                "rule": ["missing_required", "bad_date", "bad_date", "orphan_reference"],
                "n": [3, 8, 6, 1],
                "example_reason": [
                    "enrolled_on is empty",
                    "started_at '31/31/2025' is not a date",
                    None,
                    "mentee_id not in participants",
                ],
                # The raw row stays in the quarantine schema; the report must ignore it.
                "row_json": [f'{{"name": "{FAKE_NAME}", "email": "{FAKE_EMAIL}"}}'] * 4,
            }
        ),
        "expectation_results": pl.DataFrame(
            {
                "table_name": ["matches", "meetings", "meetings", "participants"],
                "expectation": [
                    "expect_column_values_to_be_unique",
                    "expect_column_values_to_be_between",
                    "expect_column_values_to_not_be_null",
                    "expect_column_values_to_be_in_set",
                ],
                "column_name": ["match_id", "duration_min", "started_at", "gender"],
                "success": [True, False, True, False],
                "observed": ["0 duplicates", "max 900", "0 nulls", "2 unexpected values"],
                "unexpected_count": [0, 4, 0, 2],
                "severity": ["error", "warn", "error", "error"],
            }
        ),
    }


def run_info() -> dict:
    return {
        "as_of": "2025-10-01",
        "settings_hash": "9f2c1e7d5b3a",
        "pipeline_version": "0.1.0",
        "generated_at": "2025-10-01T12:00:00+00:00",
        "suppression_k": K,
        "input_file_hashes": {
            "participants.csv": "a1b2c3",
            "matches.xlsx": "d4e5f6",
        },
    }
