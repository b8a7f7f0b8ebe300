"""The demo's generating parameters: the planted truth that later statistics are checked against.

Every number that shapes an effect lives here, so docs/demo-data.md and demo_manifest.json can
quote exactly what the generator used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models import vocabulary

# The contract's categories (models/vocabulary.py), under the names the generator uses. The
# generator draws them by position, so PLACED_* below follow the contract's order.
GENDERS = vocabulary.GENDERS
RACES = vocabulary.RACES
SETTINGS = vocabulary.PROGRAM_SETTINGS
MATCH_SOURCES = vocabulary.MATCH_SOURCES
STATUSES = vocabulary.MEETING_STATUSES
MODES = vocabulary.MEETING_MODES
INITIATORS = vocabulary.MEETING_INITIATORS
KINDS = vocabulary.ACTIVITY_KINDS
ROLES = vocabulary.ROLES
CHANNELS = ("email", "platform", "chat", "sms", "in person")
MFQ_CONSTRUCTS = {
    "career_support": ("mfq_1", "mfq_2", "mfq_3"),
    "psychosocial_support": ("mfq_4", "mfq_5", "mfq_6"),
    "role_modeling": ("mfq_7", "mfq_8", "mfq_9"),
}

# Gender codes that count as placed for dyads (woman, man, non_binary); race codes likewise.
PLACED_GENDERS = (0, 1, 2)
PLACED_RACES = tuple(range(8))


@dataclass(frozen=True)
class Population:
    matches_per_scale: int = 2000
    programs_per_scale: float = 3.0
    min_programs: int = 3
    # Spread of program sizes: sigma of the lognormal weights that share the matches out.
    # 0.5 keeps programs within a few times of each other; --skew raises it (1.5 among 300
    # programs gives one with about a tenth of all matches and several with a dozen).
    program_size_sigma: float = 0.5
    mentees_per_mentor: float = 1.8
    unmatched_mentee_share: float = 0.06
    min_unmatched_per_program: int = 4
    mentee_gender: tuple[float, ...] = (0.50, 0.40, 0.03, 0.01, 0.06)
    mentor_gender: tuple[float, ...] = (0.42, 0.50, 0.02, 0.005, 0.055)
    mentee_race: tuple[float, ...] = (0.12, 0.14, 0.15, 0.03, 0.01, 0.005, 0.45, 0.05, 0.015, 0.03)
    mentor_race: tuple[float, ...] = (
        0.13,
        0.10,
        0.10,
        0.03,
        0.005,
        0.005,
        0.55,
        0.035,
        0.01,
        0.035,
    )
    # share of woman/man mentees deliberately given a mentor of their own gender; the rest get a
    # mentor drawn uniformly from the program's mentors
    same_gender_deliberate: float = 0.60
    match_source: tuple[float, ...] = (0.55, 0.20, 0.15, 0.10)


@dataclass(frozen=True)
class Process:
    never_meet_logit: float = -2.2
    meetings_mu: float = 6.0  # negative-binomial mean of scheduled meetings after the first
    status: tuple[float, ...] = (0.84, 0.11, 0.05)
    # days from matched_on to the first scheduled meeting: 1 + Gamma(shape, scale), rounded down,
    # plus the planted extra delay for cross-race dyads
    first_delay_gamma: tuple[float, float] = (2.0, 6.0)
    cross_race_extra_delay_days: int = 10
    gap_min_days: int = 7
    gap_gamma: tuple[float, float] = (2.0, 11.0)
    inquirer_logit: float = 1.2
    agenda_prob: float = 0.45
    questions_prob: float = 0.40
    # a "thanker" mentee thanks after each held meeting with thank_prob, 0..7 days later
    thanker_prob: float = 0.70
    thanker_prob_cross_race: float = 0.55
    thank_prob: float = 0.55
    follower_logit: float = -0.45
    goal_set_logit: float = -0.15
    mentor_request_logged: float = 0.55
    requested_on_assigned: float = 0.35


@dataclass(frozen=True)
class Logit:
    intercept: float
    coefficients: dict[str, float]
    program_sd: float = 0.0


@dataclass(frozen=True)
class Planted:
    population: Population = field(default_factory=Population)
    process: Process = field(default_factory=Process)
    retained: Logit = field(
        default_factory=lambda: Logit(
            0.6,
            {"s3_calendar": 0.5, "s5_thanks": 0.3, "s6_follow_up": 1.0, "cross_race": -0.25},
            0.3,
        )
    )
    promoted: Logit = field(
        default_factory=lambda: Logit(-1.8, {"s4_inquiry": 0.6, "s6_follow_up": 0.3}, 0.2)
    )
    goal_attained: Logit = field(
        default_factory=lambda: Logit(-0.4, {"s4_inquiry": 0.4, "s6_follow_up": 0.8})
    )
    # MFQ construct score (mean of 3 items) on the exit survey: expected value
    mfq_exit_base: float = 3.0
    mfq_exit_effects: dict[str, float] = field(
        default_factory=lambda: {"s4_inquiry": 0.25, "s6_follow_up": 0.20}
    )
    mfq_woman_pair_psychosocial: float = 0.30
    mfq_intake_base: float = 2.7
    mfq_person_sd: float = 0.45
    mfq_construct_sd: float = 0.30
    mfq_item_sd: float = 0.35
    satisfaction_base: float = 3.2
    satisfaction_effects: dict[str, float] = field(
        default_factory=lambda: {"s5_thanks": 0.4, "s6_follow_up": 0.4}
    )
    satisfaction_sd: float = 0.7
    item_absent: float = 0.04
    item_blank: float = 0.01


def planted_effects(p: Planted, program_ids: list[str], retained_u, promoted_u) -> dict:
    """The manifest's description of every planted effect, with the exact values used."""
    pr, proc = p.population, p.process
    return {
        "retained": {
            "model": "logistic",
            "unit": "matched mentee (one match each), matched_on <= as_of - 90 days",
            "formula": "logit P(retained=1) = intercept + sum(coef * covariate) + program_effect",
            "intercept": p.retained.intercept,
            "coefficients": dict(p.retained.coefficients),
            "covariates": {
                "s3_calendar/s5_thanks/s6_follow_up": "reference step flags of the mentee's match",
                "cross_race": "dyad_race == 'cross' (1) vs same or unknown (0)",
            },
            "program_effect_sd": p.retained.program_sd,
            "program_effects": dict(zip(program_ids, map(float, retained_u), strict=True)),
        },
        "promoted": {
            "model": "logistic",
            "unit": "as retained",
            "intercept": p.promoted.intercept,
            "coefficients": dict(p.promoted.coefficients),
            "program_effect_sd": p.promoted.program_sd,
            "program_effects": dict(zip(program_ids, map(float, promoted_u), strict=True)),
        },
        "goal_attained": {
            "model": "logistic",
            "unit": "outcome-eligible mentees who have a goal_set activity of their own",
            "intercept": p.goal_attained.intercept,
            "coefficients": dict(p.goal_attained.coefficients),
        },
        "mfq_exit": {
            "model": "linear in expectation, per construct score (mean of 3 items)",
            "intercept": p.mfq_exit_base,
            "coefficients": dict(p.mfq_exit_effects),
            "woman_mentee_woman_mentor_psychosocial_support": p.mfq_woman_pair_psychosocial,
            "note": (
                "items are stochastic roundings of clip(latent, 1, 5), so E[item] equals the "
                "latent mean except where clipping at 1 or 5 bites (about 1% of draws); the "
                "woman-woman term applies to psychosocial_support only"
            ),
            "sd": {
                "person": p.mfq_person_sd,
                "construct": p.mfq_construct_sd,
                "item": p.mfq_item_sd,
            },
        },
        "satisfaction_exit": {
            "model": "linear in expectation (stochastic rounding of clip(latent, 1, 5))",
            "intercept": p.satisfaction_base,
            "coefficients": dict(p.satisfaction_effects),
            "sd": p.satisfaction_sd,
        },
        "first_meeting_delay": {
            "model": "days from matched_on to the first scheduled meeting",
            "formula": "1 + floor(Gamma(shape, scale)) + extra_days * cross_race",
            "gamma_shape_scale": list(proc.first_delay_gamma),
            "cross_race_extra_days": proc.cross_race_extra_delay_days,
            "note": "a first meeting that is cancelled or no_show pushes first_meeting_on later",
        },
        "thanks": {
            "model": (
                "P(mentee is a thanker); a thanker thanks 0..7 days after each held meeting "
                "with probability thank_prob_per_held_meeting"
            ),
            "thanker_prob_same_or_unknown_race": proc.thanker_prob,
            "thanker_prob_cross_race": proc.thanker_prob_cross_race,
            "absolute_gap": round(proc.thanker_prob - proc.thanker_prob_cross_race, 6),
            "thank_prob_per_held_meeting": proc.thank_prob,
        },
        "same_gender_matching": {
            "model": "woman/man mentees deliberately given a same-gender mentor, rest uniform",
            "deliberate_share": pr.same_gender_deliberate,
        },
    }
