"""Plain-language names for metric, dimension and group codes used in the reports."""

from __future__ import annotations

from models.vocabulary import FUNNEL_STEPS, GENDERS, RACES, STEP_FLAGS

STEP_COLUMNS: tuple[str, ...] = STEP_FLAGS
FUNNEL_STAGES: tuple[str, ...] = FUNNEL_STEPS

# Labels in the vocabulary's order: the keys are the vocabulary's, never typed again here.
_FUNNEL_LABELS = (
    "1 · Self-reflection",
    "2 · Network in action",
    "3 · On the calendar",
    "4 · Inquiry and listening",
    "5 · Giving thanks",
    "6 · Follow-up",
    "Lasting relationship",
)
_GENDER_LABELS = ("Woman", "Man", "Non-binary", "Self-described", "Undisclosed")
_RACE_LABELS = (
    "Asian",
    "Black",
    "Hispanic/Latino",
    "Middle Eastern/North African",
    "Native American/Alaska Native",
    "Native Hawaiian/Pacific Islander",
    "White",
    "Multiracial",
    "Self-described",
    "Undisclosed",
)

METRICS: dict[str, str] = {
    **dict(zip(FUNNEL_STEPS, _FUNNEL_LABELS, strict=True)),
    "retained": "Retained",
    "promoted": "Promoted",
    "goal_attained": "Goal attained",
    "satisfaction": "Satisfaction",
}

DIMENSIONS: dict[str, str] = {
    "mentee_gender": "Mentee gender",
    "mentee_race": "Mentee race/ethnicity",
    "mentor_gender": "Mentor gender",
    "mentor_race": "Mentor race/ethnicity",
    "dyad_gender": "Dyad gender composition",
    "dyad_race": "Dyad race composition",
    "mentee_gender_race": "Mentee gender × race/ethnicity",
}

GROUPS: dict[str, str] = {
    **dict(zip(GENDERS, _GENDER_LABELS, strict=True)),
    **dict(zip(RACES, _RACE_LABELS, strict=True)),
    "same": "Same group",
    "cross": "Cross group",
    "unknown": "Unknown",
}

ALERTS: dict[str, str] = {
    "no_first_meeting": "Matched, no meeting held yet",
    "no_meeting": "Matched, no meeting held yet",
    "no_interaction": "Open match gone quiet",
    "stalled": "Stalled match",
}

HEADLINES: dict[str, str] = {
    "enrolled": "Enrolled",
    "matched": "Matched",
    "match_rate": "Match rate",
    "median_days_to_match": "Median days to match",
    "median_days_to_first_meeting": "Median days to first meeting",
    "active_matches": "Active matches",
    "lasting_share": "Lasting relationships",
}

# Tooltips of the headline cards, where the label alone could be misread.
HEADLINE_HINTS: dict[str, str] = {
    "enrolled": "Mentees who enrolled in the period.",
    "matched": (
        "Matches made in the period: a mentee can have several, and many of them enrolled in an "
        "earlier period."
    ),
    "match_rate": (
        "Of the mentees who enrolled in the period, the share with at least one match made by "
        "the data date (in this period or later). Each mentee counts once, however many matches "
        "they have: never more than all of them."
    ),
}


def humanize(code: str) -> str:
    """Fallback label: 'career_support' -> 'Career support'."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def metric_label(code: str) -> str:
    """Label a metric; MFQ-9 columns look like mfq_<construct>_<survey>."""
    if code in METRICS:
        return METRICS[code]
    if code.startswith("mfq_"):
        body = code.removeprefix("mfq_")
        for survey in ("exit", "intake", "midpoint", "change"):
            if body.endswith("_" + survey):
                construct = body.removesuffix("_" + survey)
                return f"MFQ-9 {humanize(construct).lower()} ({survey})"
        return f"MFQ-9 {humanize(body).lower()}"
    return humanize(code)


def group_label(code: str | None) -> str:
    """Label a group; intersections arrive as 'woman:black', 'woman|black' or 'woman × black'."""
    if code is None:
        return "Not recorded"
    if code in GROUPS:
        return GROUPS[code]
    for sep in (" × ", "×", "|", ":", "/", "__"):
        if sep in code:
            return " × ".join(group_label(part.strip()) for part in code.split(sep))
    # 'woman_black': both halves contain underscores elsewhere, so try every split point.
    parts = code.split("_")
    for cut in range(1, len(parts)):
        left, right = "_".join(parts[:cut]), "_".join(parts[cut:])
        if left in GROUPS and right in GROUPS:
            return f"{GROUPS[left]} × {GROUPS[right]}"
    return humanize(code)


def dimension_label(code: str) -> str:
    return DIMENSIONS.get(code, humanize(code))


def alert_label(code: str) -> str:
    return ALERTS.get(code, humanize(code))
