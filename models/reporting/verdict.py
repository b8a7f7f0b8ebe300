"""The first thing a dashboard says: one plain sentence on how the program is doing.

It compares the period's headline numbers with the previous period and with the program's own
targets (targets.yaml). Only measures with a direction are judged (a higher match rate is
better, fewer days to a first meeting are better); volumes such as enrolments are shown but
never called good or bad. A measure whose window has not closed is "too early to tell", never
counted as missed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from models.adapters.safe_yaml import load_plain_yaml
from models.reporting import labels
from models.reporting.headlines import DAYS, DIRECTION, SHARES, Headline, trend
from models.reporting.markup import esc, fmt_number, fmt_share, is_missing

TARGETS_PATH = Path(__file__).with_name("targets.yaml")
TARGETS_ENV = "MENTORSCOPE_TARGETS"


@dataclass(frozen=True)
class Judgement:
    key: str
    trend: str | None  # "better", "worse", "same" or None (nothing to compare with)
    target: float | None
    met: bool | None  # None: no target, or the value is unknown / too early


def load_targets(env: Mapping[str, str] | None = None) -> dict:
    env = os.environ if env is None else env
    path = Path(env[TARGETS_ENV]) if env.get(TARGETS_ENV) else TARGETS_PATH
    try:
        raw = load_plain_yaml(path) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the dashboard targets ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: the dashboard targets must be a mapping (default, programs)")
    return {"default": raw.get("default") or {}, "programs": raw.get("programs") or {}}


def targets_for(targets: Mapping, program_id: str | None) -> dict[str, float]:
    chosen = dict(targets.get("default") or {})
    if program_id is not None:
        chosen.update((targets.get("programs") or {}).get(program_id) or {})
    return {k: float(v) for k, v in chosen.items() if k in DIRECTION and v is not None}


def judge(values: Sequence[Headline], targets: Mapping[str, float]) -> list[Judgement]:
    out = []
    for h in values:
        if h.key not in DIRECTION:
            continue
        target = targets.get(h.key)
        met = None
        if target is not None and not is_missing(h.value):
            value = float(h.value)  # type: ignore[arg-type]
            met = value >= target if DIRECTION[h.key] > 0 else value <= target
        out.append(Judgement(h.key, trend(h), target, met))
    return out


def _amount(key: str, value: float) -> str:
    if key in SHARES:
        return fmt_share(value)
    if key in DAYS:
        return f"{fmt_number(value, 0)} days"
    return fmt_number(value)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def verdict_sentence(
    judgements: Sequence[Judgement], prev: str | None, too_early: Sequence[str]
) -> str:
    """One sentence: the trend against the previous period, then the targets."""
    trends = [j.trend for j in judgements if j.trend is not None]
    better, worse = trends.count("better"), trends.count("worse")
    if prev is None or not trends:
        against = "There is no earlier period to compare with"
    elif better and not worse:
        against = f"Better than {prev}: {better} of {len(trends)} measures improved"
    elif worse and not better:
        against = f"Worse than {prev}: {worse} of {len(trends)} measures declined"
    elif better and worse:
        against = f"Mixed against {prev}: {better} improved, {worse} declined"
    else:
        against = f"About the same as {prev}"
    judged = [j for j in judgements if j.met is not None]
    if judged:
        met = sum(1 for j in judged if j.met)
        against += f"; {met} of {_count(len(judged), 'target')} met"
    elif any(j.target is not None for j in judgements):
        against += "; no target can be judged yet"
    if too_early:
        names = " and ".join(labels.HEADLINES[k].lower() for k in too_early)
        against += f" ({names}: too early to tell)"
    return against + "."


def verdict_details(values: Sequence[Headline], judgements: Sequence[Judgement]) -> list[str]:
    """One line per judged measure: value, target, and the change in plain words."""
    by_key = {h.key: h for h in values}
    lines = []
    for j in judgements:
        h = by_key[j.key]
        if is_missing(h.value):
            continue
        parts = [f"{labels.HEADLINES[j.key]} {_amount(j.key, h.value)}"]  # type: ignore[arg-type]
        if j.target is not None:
            parts.append(f"target {_amount(j.key, j.target)}: {'met' if j.met else 'not met'}")
        if j.trend in ("better", "worse"):
            parts.append(j.trend + " than before")
        lines.append(", ".join(parts))
    return lines


def verdict_html(
    values: Sequence[Headline],
    prev: str | None,
    targets: Mapping[str, float],
    too_early: Sequence[str] = (),
) -> str:
    judgements = judge(values, targets)
    sentence = verdict_sentence(judgements, prev, too_early)
    details = verdict_details(values, judgements)
    items = "".join(f"<li>{esc(line)}</li>" for line in details)
    worse = any(j.trend == "worse" or j.met is False for j in judgements)
    kind = "verdict-mixed" if worse else "verdict-good"
    return (
        f'<div class="verdict {kind}" role="status"><p class="verdict-sentence">'
        f"{esc(sentence)}</p>"
        + (f'<ul class="verdict-details">{items}</ul>' if items else "")
        + "</div>"
    )
