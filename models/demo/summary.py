"""Realised values of the generated rows (sample truth), accumulated block by block.

The planted parameters are population values; these are what the written rows actually
contain, computed with the demo's own reference, for exact checks of the pipeline's metrics.
"""

from __future__ import annotations

import numpy as np

from models.demo.block import DYADS
from models.demo.params import GENDERS, RACES
from models.demo.steps import STEP_FLAGS
from models.demo.surveys import EXIT, PSYCHOSOCIAL, construct_scores


class Tally:
    def __init__(self) -> None:
        self.matches = 0
        self.meetings = 0
        self.held = 0
        self.steps = dict.fromkeys((*STEP_FLAGS, "lasting"), 0)
        self.race_dyad = {d: np.zeros(4) for d in DYADS}  # n, s3, s5, days to first (s3)
        self.gender_table = np.zeros((5, 5), np.int64)  # mentee gender x mentor gender
        self.race_table = np.zeros((10, 10), np.int64)
        self.psych = np.zeros((2, 2))  # [other, woman pair] x [sum, n]
        self.retained = np.zeros((2, 2), np.int64)  # [s6 false, s6 true] x [n, retained]

    def add(self, block) -> None:
        people, matches, flags = block.people, block.matches, block.flags
        n = len(matches.number)
        self.matches += n
        self.meetings += len(block.meetings.match)
        self.held += int(np.sum(block.meetings.status == 0))
        for f in self.steps:
            self.steps[f] += int(flags[f].sum())
        days = block.steps["days_to_first_meeting"].fill_null(0).to_numpy()
        for i, d in enumerate(DYADS):
            sel = block.r_dyad == i
            s3 = flags["s3_calendar"][sel] == 1
            self.race_dyad[d] += [
                sel.sum(),
                s3.sum(),
                flags["s5_thanks"][sel].sum(),
                days[sel][s3].sum(),
            ]
        mg, mr = people.gender[matches.mentee], people.gender[matches.mentor]
        self.gender_table += np.bincount(mg * 5 + mr, minlength=25).reshape(5, 5)
        eg, er = people.race[matches.mentee], people.race[matches.mentor]
        self.race_table += np.bincount(eg * 10 + er, minlength=100).reshape(10, 10)

        exit_ = block.exit
        match_of = np.full(len(people.number), -1, np.int64)
        match_of[matches.mentee] = np.arange(n)
        m = match_of[exit_.person[exit_.survey == EXIT]]
        score = construct_scores(exit_.values[exit_.survey == EXIT])[:, PSYCHOSOCIAL]
        ok = ~np.isnan(score)
        for w in (0, 1):
            sel = ok & (block.woman_pair[m] == w)
            self.psych[w] += [score[sel].sum(), sel.sum()]
        observed = block.truth.retained >= 0
        for s in (0, 1):
            sel = observed & (flags["s6_follow_up"] == s)
            self.retained[s] += [sel.sum(), block.truth.retained[sel].sum()]

    def summary(self) -> dict:
        n = max(self.matches, 1)
        g = self.gender_table[:3, :3]  # placed genders on both sides
        chance = float((g.sum(1) / g.sum()) @ (g.sum(0) / g.sum())) if g.sum() else None
        race = {}
        for d, (k, s3, s5, days) in self.race_dyad.items():
            race[d] = {
                "matches": int(k),
                "s3_rate": s3 / k if k else None,
                "s5_rate": s5 / k if k else None,
                "mean_days_to_first_meeting": days / s3 if s3 else None,
            }
        psych = {
            key: {"mean": s / c if c else None, "n": int(c)}
            for key, (s, c) in zip(
                ("other_dyads", "woman_mentee_woman_mentor"), self.psych, strict=True
            )
        }
        return {
            "matches": self.matches,
            "meetings": self.meetings,
            "held_meetings": self.held,
            "meetings_per_match": self.meetings / n,
            "step_counts": self.steps,
            "step_rates": {k: v / n for k, v in self.steps.items()},
            "by_dyad_race": race,
            "same_gender_share_placed": float(np.trace(g) / g.sum()) if g.sum() else None,
            "same_gender_share_by_chance": chance,
            "gender_table": {
                "rows_mentee_cols_mentor": list(GENDERS),
                "counts": self.gender_table.tolist(),
            },
            "race_table": {
                "rows_mentee_cols_mentor": list(RACES),
                "counts": self.race_table.tolist(),
            },
            "exit_psychosocial_support": psych,
            "retained_by_s6": {
                "s6_false": {"n": int(self.retained[0, 0]), "retained": int(self.retained[0, 1])},
                "s6_true": {"n": int(self.retained[1, 0]), "retained": int(self.retained[1, 1])},
            },
        }
