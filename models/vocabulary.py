"""The names of Blake-Beard's six steps and of their censoring windows, in one place.

Pure constants, importing nothing: the metrics, the statistics and the reports all speak this
vocabulary, and a researcher reusing one of them gets the same names.
"""

from __future__ import annotations

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
