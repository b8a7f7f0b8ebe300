"""The process's meetings_mu that gives a requested mean of written meetings per match.

meetings_mu is the mean of *scheduled* meetings after the first; what a benchmark asks for is
meetings *written*, after the never-met matches and the meetings past as_of or the program's
end are gone. That cut depends on when matches start, so it has no closed form: solve it on a
pilot of the run's own programs with the generator's own meeting process.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from models.demo.block import dyad
from models.demo.interactions import simulate_meetings
from models.demo.params import PLACED_RACES, Planted
from models.demo.people import build_people
from models.demo.programs import Programs, apportion

# Pilot size: the mean of ~20,000 matches has a standard error near 0.05 meetings at 10 per
# match, and one evaluation stays well under a tenth of a second.
PILOT_MATCHES = 20_000
# The pilot's random streams: spawn keys of another length than the generator's (stream,), so
# they never coincide with a block's stream.
PILOT_PEOPLE = (0, 1)
PILOT_MEETINGS = (0, 2)
# Larger values schedule so many meetings that the horizon cuts almost all of them: the written
# mean stops rising, so a target it does not reach cannot be met at all.
MAX_MU = 128.0
TOLERANCE = 0.005  # meetings per match


def written_meetings_per_match(
    mu: float, seed: int, pilot: Programs, p: Planted, people_and_matches: tuple
) -> float:
    """Mean written meetings per pilot match when meetings_mu is mu (same draws for every mu)."""
    people, matches = people_and_matches
    r_dyad = dyad(people.race[matches.mentee], people.race[matches.mentor], PLACED_RACES)
    cross_race = (r_dyad == 1).astype(np.int64)
    rng = _rng(seed, PILOT_MEETINGS)
    engagement = rng.standard_normal(len(matches.number))
    planted = replace(p, process=replace(p.process, meetings_mu=mu))
    meetings, _ = simulate_meetings(rng, pilot, matches, cross_race, engagement, planted)
    return len(meetings.match) / len(matches.number)


def meetings_mu_for(target: float, programs: Programs, p: Planted, seed: int) -> float:
    """meetings_mu whose pilot gives `target` written meetings per match (bisection)."""
    pilot = replace(programs, n_matches=apportion(PILOT_MATCHES, programs.n_matches.astype(float)))
    everyone = np.arange(len(pilot), dtype=np.int64)
    people_and_matches = build_people(_rng(seed, PILOT_PEOPLE), pilot, everyone, p, 1, 1)

    def written(mu: float) -> float:
        return written_meetings_per_match(mu, seed, pilot, p, people_and_matches)

    if target < written(0.0) - TOLERANCE:
        raise ValueError(
            f"{target:g} meetings per match is below what one meeting per met match gives "
            f"({written(0.0):.2f})"
        )
    lo, hi = 0.0, p.process.meetings_mu
    while written(hi) < target:
        lo, hi = hi, hi * 2
        if hi > MAX_MU:
            raise ValueError(
                f"{target:g} meetings per match cannot be reached before as_of and the programs' "
                f"ends cut the meetings off (at most about {written(MAX_MU):.1f})"
            )
    for _ in range(60):
        mid = (lo + hi) / 2
        got = written(mid)
        if abs(got - target) <= TOLERANCE:
            return round(mid, 4)
        lo, hi = (mid, hi) if got < target else (lo, mid)
    return round((lo + hi) / 2, 4)


def _rng(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
