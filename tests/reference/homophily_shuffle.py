"""The permutation null by brute force: shuffle the mentors over the matches, count same-group
pairs. The reference for models.stats.homophily.null_same_counts, which samples the same
distribution without shuffling."""

from __future__ import annotations

import numpy as np


def shuffled_same_counts(
    mentee_codes: np.ndarray, mentor_codes: np.ndarray, permutations: int, rng: np.random.Generator
) -> np.ndarray:
    rows = np.broadcast_to(mentor_codes, (permutations, mentor_codes.size))
    shuffled = rng.permuted(rows, axis=1)
    return (shuffled == mentee_codes).sum(axis=1)
