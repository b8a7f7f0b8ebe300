"""Synthetic programs with known structure, for the statistics tests."""

from __future__ import annotations

import numpy as np
import polars as pl

STEPS = (
    "s1_self_reflection",
    "s2_network",
    "s3_calendar",
    "s4_inquiry",
    "s5_thanks",
    "s6_follow_up",
)


def participants_frame(rows: list[tuple]) -> pl.DataFrame:
    """rows: (participant_id, program_id, role, gender, race[, wants_gender, wants_race])."""
    padded = [r + (None,) * (7 - len(r)) for r in rows]
    return pl.DataFrame(
        padded,
        schema={
            "participant_id": pl.String,
            "program_id": pl.String,
            "role": pl.String,
            "gender": pl.String,
            "race_ethnicity": pl.String,
            "wants_same_gender_mentor": pl.Boolean,
            "wants_same_race_mentor": pl.Boolean,
        },
        orient="row",
    )


def simulate(
    n_matches: int,
    *,
    programs: tuple[str, ...] = ("P1", "P2"),
    mentees_per_mentor: int = 4,
    seed: int = 7,
    retained_coefs: dict[str, float] | None = None,
    score_coefs: dict[str, float] | None = None,
    mentor_sd: float = 0.0,
) -> dict[str, pl.DataFrame]:
    """Matches with one mentee each; mentors have several mentees. Steps are nested like the
    real definitions (s4, s5, s6 need a held meeting). `retained` follows a logistic model and
    `mfq_career_support_exit` a linear one with the planted coefficients on steps and on
    `cross_race` / `unknown_race`; a mentor random intercept with sd `mentor_sd` goes into
    the score."""
    rng = np.random.default_rng(seed)
    n = n_matches
    program = rng.choice(programs, size=n)
    mentor_index = np.arange(n) // mentees_per_mentor
    n_mentors = int(mentor_index.max()) + 1
    mentor_program = np.array([program[mentor_index == m][0] for m in range(n_mentors)])
    program = mentor_program[mentor_index]

    genders = np.array(["woman", "man", "non_binary", "undisclosed"])
    races = np.array(["white", "black", "asian", "hispanic_latino", "undisclosed"])
    g_p = [0.5, 0.42, 0.03, 0.05]
    r_p = [0.45, 0.2, 0.15, 0.15, 0.05]
    mentee_gender = rng.choice(genders, size=n, p=g_p)
    mentee_race = rng.choice(races, size=n, p=r_p)
    mentor_gender = rng.choice(genders, size=n_mentors, p=g_p)
    mentor_race = rng.choice(races, size=n_mentors, p=r_p)

    s3 = rng.random(n) < 0.8
    steps = {
        "s1_self_reflection": rng.random(n) < 0.6,
        "s2_network": rng.random(n) < 0.4,
        "s3_calendar": s3,
        "s4_inquiry": s3 & (rng.random(n) < 0.6),
        "s5_thanks": s3 & (rng.random(n) < 0.5),
        "s6_follow_up": s3 & (rng.random(n) < 0.5),
    }
    known_race = (mentee_race != "undisclosed") & (mentor_race[mentor_index] != "undisclosed")
    cross_race = known_race & (mentee_race != mentor_race[mentor_index])
    unknown_race = ~known_race

    def linear(coefs: dict[str, float]) -> np.ndarray:
        eta = np.full(n, coefs.get("Intercept", 0.0))
        for name, beta in coefs.items():
            if name in steps:
                eta += beta * steps[name]
        eta += coefs.get("cross_race", 0.0) * cross_race
        eta += coefs.get("unknown_race", 0.0) * unknown_race
        return eta

    retained_eta = linear(retained_coefs or {"Intercept": 0.0})
    retained = (rng.random(n) < 1 / (1 + np.exp(-retained_eta))).astype(float)
    mentor_effect = rng.normal(0, mentor_sd, n_mentors)[mentor_index] if mentor_sd else 0.0
    score = linear(score_coefs or {"Intercept": 3.5}) + mentor_effect + rng.normal(0, 0.5, n)
    lasting = s3 & (rng.random(n) < 0.4)
    days = np.where(s3, rng.integers(1, 60, n), -1)

    match_ids = [f"M{i}" for i in range(n)]
    mentee_ids = [f"E{i}" for i in range(n)]
    mentor_ids = [f"R{m}" for m in mentor_index]
    match_steps = pl.DataFrame(
        {
            "match_id": match_ids,
            "program_id": program,
            "mentor_id": mentor_ids,
            "mentee_id": mentee_ids,
            **{k: v for k, v in steps.items()},
            "days_to_first_meeting": pl.Series(days).replace(-1, None),
            "lasting": lasting,
            "settings_hash": ["h1"] * n,
        }
    )
    people = pl.DataFrame(
        {
            "participant_id": mentee_ids + [f"R{m}" for m in range(n_mentors)],
            "program_id": list(program) + list(mentor_program),
            "role": ["mentee"] * n + ["mentor"] * n_mentors,
            "gender": list(mentee_gender) + list(mentor_gender),
            "race_ethnicity": list(mentee_race) + list(mentor_race),
            "wants_same_gender_mentor": list(rng.random(n) < 0.3) + [None] * n_mentors,
            "wants_same_race_mentor": list(rng.random(n) < 0.2) + [None] * n_mentors,
        }
    )
    outcomes = pl.concat(
        [
            pl.DataFrame(
                {
                    "match_id": match_ids,
                    "program_id": program,
                    "mentee_id": mentee_ids,
                    "measure": "retained",
                    "value": retained,
                    "value_type": "share",
                    "settings_hash": "h1",
                }
            ),
            pl.DataFrame(
                {
                    "match_id": match_ids,
                    "program_id": program,
                    "mentee_id": mentee_ids,
                    "measure": "mfq_career_support_exit",
                    "value": score,
                    "value_type": "mean",
                    "settings_hash": "h1",
                }
            ),
        ]
    )
    return {"match_steps": match_steps, "participants": people, "outcomes": outcomes}
