"""The project's shared names, in one place: the six steps, their censoring windows, and the
enumerations of the input contract (genders, races/ethnicities, roles, match sources, ...).

The steps are named here; every enumeration is read from the contract
(`models/contract/tables.yaml`, each column's `values`), so adding a category there reaches the
metrics, the statistics, the reports and the demo alike. Nothing else of the project is
imported but the contract, so a researcher reusing any module gets the same names.
"""

from __future__ import annotations

from models.contract import load_contract

# The six steps, in the model's order; each is a boolean column of metrics.match_steps.
STEP_FLAGS: tuple[str, ...] = (
    "s1_self_reflection",
    "s2_network",
    "s3_calendar",
    "s4_inquiry",
    "s5_thanks",
    "s6_follow_up",
)
# The six steps and the relationship's outcome, as the funnel and the breakdowns show them.
FUNNEL_STEPS: tuple[str, ...] = (*STEP_FLAGS, "lasting")

# Steps that need time: each is judged only once its window has closed on the as-of date
# (docs/metrics.md, "Windows that have not closed yet"). Step → the match_steps column that
# says whether its window closed; on the others a rate counts them as "too early to tell".
WINDOW_CLOSED: dict[str, str] = {
    "s5_thanks": "s5_window_closed",
    "s6_follow_up": "s6_window_closed",
    "lasting": "lasting_window_closed",
}


def contract_values(table: str, column: str) -> tuple[str, ...]:
    """The canonical values of an enum column of the input contract, in the contract's order."""
    values = load_contract()[table].column(column).values
    if not values:
        raise ValueError(f"{table}.{column} is not an enum column of the contract")
    return values


# Enumerations of the contract, in its order (the demo draws categories by position).
GENDERS: tuple[str, ...] = contract_values("participants", "gender")
RACES: tuple[str, ...] = contract_values("participants", "race_ethnicity")
ROLES: tuple[str, ...] = contract_values("participants", "role")
PROGRAM_SETTINGS: tuple[str, ...] = contract_values("programs", "setting")
MATCH_SOURCES: tuple[str, ...] = contract_values("matches", "match_source")
MEETING_MODES: tuple[str, ...] = contract_values("meetings", "mode")
MEETING_INITIATORS: tuple[str, ...] = contract_values("meetings", "initiated_by")
MEETING_STATUSES: tuple[str, ...] = contract_values("meetings", "status")
ACTIVITY_KINDS: tuple[str, ...] = contract_values("activities", "kind")

# Categories that do not tell which group a person belongs to: a dyad involving one of them
# is neither same nor cross, it is unknown (never a guess). Both enumerations carry them.
UNDISCLOSED = "undisclosed"  # also what a blank answer is normalised to
SELF_DESCRIBED = "self_described"  # an answer the lookups cannot place
UNKNOWN_CATEGORIES: tuple[str, ...] = (UNDISCLOSED, SELF_DESCRIBED)
if not set(UNKNOWN_CATEGORIES) <= set(GENDERS) & set(RACES):
    raise ValueError(f"the contract's genders and races must both include {UNKNOWN_CATEGORIES}")
KNOWN_GENDERS: tuple[str, ...] = tuple(g for g in GENDERS if g not in UNKNOWN_CATEGORIES)
KNOWN_RACES: tuple[str, ...] = tuple(r for r in RACES if r not in UNKNOWN_CATEGORIES)
