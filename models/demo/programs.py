"""Programs of the demo export and how their matches are cut into generation blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from models.demo.params import SETTINGS, Planted

EPOCH = date(1970, 1, 1)
BLOCK_MATCHES = 100_000  # matches generated and written per block: bounds peak memory

TIMEZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "Europe/London",
    "Europe/Berlin",
)
PREFIXES = ("Pathways", "Bridge", "Catalyst", "Horizon", "Compass", "Ascend", "Elevate", "Launch")
SUFFIXES = {
    "corporate": "Leadership Mentoring",
    "education": "Student Mentoring",
    "nonprofit": "Community Mentoring",
    "government": "Public Service Mentoring",
    "other": "Peer Mentoring",
}


def day_number(d: date) -> int:
    return (d - EPOCH).days


@dataclass(frozen=True)
class Programs:
    """One entry per program, as parallel arrays (index = program index)."""

    program_id: list[str]
    name: list[str]
    setting: np.ndarray  # index into SETTINGS
    start_day: np.ndarray
    end_day: np.ndarray  # -1 while running
    horizon_day: np.ndarray  # last day anything can happen: end_day or as_of
    timezone: list[str]
    n_matches: np.ndarray
    bool_style: np.ndarray  # meetings' boolean spelling, index into spellings bool_styles
    blank_status: np.ndarray  # export leaves status blank for held meetings (contract default)
    retained_u: np.ndarray  # planted program effects on the logit scale
    promoted_u: np.ndarray

    def __len__(self) -> int:
        return len(self.program_id)


def plan_programs(
    rng: np.random.Generator,
    scale: float,
    as_of: date,
    p: Planted,
    n_programs: int | None = None,
) -> Programs:
    """Programs of the export; n_programs fixes their number instead of deriving it from scale.

    The draws are the same whichever way the number is set, so a default run's bytes do not
    depend on this option existing.
    """
    pop = p.population
    n = max(pop.min_programs, round(pop.programs_per_scale * scale))
    if n_programs is not None:
        if n_programs < pop.min_programs:
            raise ValueError(f"at least {pop.min_programs} programs are needed, not {n_programs}")
        n = n_programs
    setting = rng.choice(len(SETTINGS), size=n, p=[0.4, 0.3, 0.2, 0.07, 0.03])
    setting[:3] = [0, 1, 2]  # the first three cover corporate, education and nonprofit
    as_of_day = day_number(as_of)
    # programs started 2.1-2.5 years before as_of, so matches spread over ~2.4 years
    start = as_of_day - rng.integers(760, 906, size=n)
    ended = rng.random(n) < 0.2
    ended[0] = False
    end = np.where(ended, as_of_day - rng.integers(30, 200, size=n), -1)
    horizon = np.where(ended, end, as_of_day)
    # The same normal draws whatever the sigma: only the sizes change, not later draws.
    weights = rng.lognormal(0.0, pop.program_size_sigma, size=n)
    n_matches = apportion(round(pop.matches_per_scale * scale), weights)
    if n_programs is not None and n_matches.min() < 1:
        # a fixed number of programs must not leave any empty: an empty program would only be
        # a programs.csv row, not the consortium member the option asks for
        raise ValueError(f"{n_matches.sum():,} matches are too few for {n} programs")
    width = max(3, len(str(n)))
    ids = [f"PRG{i + 1:0{width}d}" for i in range(n)]
    prefix = rng.integers(0, len(PREFIXES), size=n)
    names = [
        f"{PREFIXES[prefix[i]]} {SUFFIXES[SETTINGS[setting[i]]]} {i + 1}" for i in range(n)
    ]  # one string per program, not per row
    tz = [TIMEZONES[i] for i in rng.integers(0, len(TIMEZONES), size=n)]
    return Programs(
        program_id=ids,
        name=names,
        setting=setting,
        start_day=start,
        end_day=end,
        horizon_day=horizon,
        timezone=tz,
        n_matches=n_matches,
        bool_style=rng.integers(0, 5, size=n),
        blank_status=rng.random(n) < 0.25,
        retained_u=np.round(rng.normal(0.0, p.retained.program_sd, size=n), 4),
        promoted_u=np.round(rng.normal(0.0, p.promoted.program_sd, size=n), 4),
    )


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split total into integer parts proportional to weights (largest remainder)."""
    share = weights / weights.sum() * total
    parts = np.floor(share).astype(np.int64)
    rest = total - parts.sum()
    order = np.argsort(-(share - parts), kind="stable")
    parts[order[:rest]] += 1
    return parts


def blocks(programs: Programs, block_matches: int = BLOCK_MATCHES) -> list[np.ndarray]:
    """Consecutive program indices whose matches together stay under block_matches."""
    out: list[list[int]] = [[]]
    size = 0
    for i, m in enumerate(programs.n_matches.tolist()):
        if out[-1] and size + m > block_matches:
            out.append([])
            size = 0
        out[-1].append(i)
        size += m
    return [np.asarray(b, dtype=np.int64) for b in out]
