"""Linear mixed model: random intercept per mentor, program fixed effects, REML.

The program effects are absorbed rather than estimated as dummy columns, so the cost does not
grow with the number of programs, and the REML likelihood is evaluated from per-mentor sums:

With V = s2 H, H = I + g Z Z' (Z the mentor incidence, g = mentor / residual variance),
H^-1/2 subtracts lambda_m times the mentor mean from every row of mentor m, lambda_m =
1 - (1 + g n_m)^-1/2. After that transformation the model is ordinary least squares, and when
every mentor has matches in one program only, a program's dummy becomes a column that is
constant within each mentor, so it is absorbed exactly by a weighted projection per program
(weights w_m = n_m / (1 + g n_m)). Everything the restricted likelihood needs (residual sum
of squares, log |X'V^-1 X| with the program block included, log |V|) is then a function of
the Gram matrix of [X y] and of per-mentor means, so one evaluation costs O(mentors x terms²)
and the profile over g is maximised by a bounded one-dimensional search. Fixed-effect
standard errors are the usual model-based (X'V^-1 X)^-1 (as lme4 and nlme report).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from models.stats.design import Design, program_effects_note, prune_columns

GRID = np.concatenate([[0.0], np.logspace(-6, 6, 49)])  # variance ratios tried first
BOUNDARY_RATIO = 1e-6  # mentor / residual variance below this: at the boundary (0)


@dataclass
class MixedFit:
    terms: list[str]
    params: np.ndarray
    bse: np.ndarray
    ci: np.ndarray  # shape (k, 2)
    pvalues: np.ndarray
    mentor_variance: float
    residual_variance: float
    converged: bool
    n_obs: int
    n_groups: int
    notes: list[str] = field(default_factory=list)


def sample_mentors(design: Design, max_mentors: int, seed: int) -> tuple[Design, str | None]:
    """Keep every match of a seeded random sample of `max_mentors` mentors when there are more.

    Bounds the model's cost whatever the size of the consortium; a random sample of whole
    mentors keeps the estimand. Mentor codes follow sorted mentor ids, so the sample is the
    one drawn from the sorted ids."""
    n_mentors = design.n_groups
    if n_mentors <= max_mentors:
        return design, None
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n_mentors, size=max_mentors, replace=False)
    rows = np.isin(design.groups, chosen)
    notes = list(design.notes)
    programs = design.programs.subset(rows)
    X, terms = prune_columns(design.X[rows], list(design.terms), notes, programs)
    _, groups = np.unique(design.groups[rows], return_inverse=True)
    sampled = Design(
        y=design.y[rows], X=X, terms=terms, groups=groups, programs=programs, notes=notes
    )
    return sampled, (
        f"fitted on a random sample of {max_mentors} of {n_mentors} mentors "
        f"({int(rows.sum())} of {design.n_obs} matches; seed {seed})"
    )


@dataclass(frozen=True)
class _Sums:
    """What the restricted likelihood needs, from one pass over the rows."""

    gram: np.ndarray  # [X y]'[X y] of the centred columns
    centre: np.ndarray  # the column means subtracted
    unit_means: np.ndarray  # per random-effect unit: mean of each centred column of [X y]
    unit_sizes: np.ndarray
    unit_program: np.ndarray  # program code of each unit
    n_programs: int
    n_obs: int


def _unit_sums(
    y: np.ndarray, X: np.ndarray, units: np.ndarray, unit_program: np.ndarray, n_programs: int
) -> _Sums:
    data = np.column_stack([X, y])
    # centring changes nothing (a constant lies in the span of the program effects) but keeps
    # the Gram's subtractions below well conditioned
    centre = data.mean(axis=0)
    data = data - centre
    n_units = unit_program.size
    sizes = np.bincount(units, minlength=n_units).astype(float)
    means = np.empty((n_units, data.shape[1]))
    for j in range(data.shape[1]):
        means[:, j] = np.bincount(units, weights=data[:, j], minlength=n_units) / sizes
    return _Sums(data.T @ data, centre, means, sizes, unit_program, n_programs, y.size)


@dataclass(frozen=True)
class _Profile:
    log_likelihood: float
    beta: np.ndarray
    xtvix: np.ndarray  # X'H^-1 X, H = V / s2, with the program effects absorbed
    scale: float  # residual variance s2
    program_weight: np.ndarray  # per program: sum of the unit weights w_m
    program_mean: np.ndarray  # per program: weighted mean of each centred column of [X y]


def _profile(ratio: float, sums: _Sums) -> _Profile:
    """Restricted log-likelihood (up to a constant) at variance ratio `ratio`, profiled over
    the residual variance and the fixed effects."""
    k = sums.gram.shape[0] - 1
    weight = sums.unit_sizes / (1.0 + ratio * sums.unit_sizes)  # w_m = n_m (1 - lambda_m)²
    # V^-1/2 [X y] Gram: remove (n_m - w_m) of each unit's between part
    between = sums.unit_means * (sums.unit_sizes - weight)[:, None]
    transformed = sums.gram - sums.unit_means.T @ between
    # absorb the (transformed) program columns: one weighted mean per program
    program_weight = np.bincount(sums.unit_program, weights=weight, minlength=sums.n_programs)
    program_sum = np.empty((sums.n_programs, k + 1))
    for j in range(k + 1):
        program_sum[:, j] = np.bincount(
            sums.unit_program, weights=weight * sums.unit_means[:, j], minlength=sums.n_programs
        )
    program_mean = program_sum / program_weight[:, None]
    within = transformed - program_sum.T @ program_mean
    xtvix, xty, yty = within[:k, :k], within[:k, k], within[k, k]
    beta = np.linalg.solve(xtvix, xty) if k else np.zeros(0)
    rss = float(yty - xty @ beta)
    dof = sums.n_obs - k - sums.n_programs
    scale = rss / dof
    _, logdet = np.linalg.slogdet(xtvix) if k else (1.0, 0.0)
    log_likelihood = -0.5 * (
        dof * np.log(scale)
        + np.log1p(ratio * sums.unit_sizes).sum()
        + np.log(program_weight).sum()
        + logdet
    )
    return _Profile(float(log_likelihood), beta, xtvix, scale, program_weight, program_mean)


def _maximise(sums: _Sums) -> tuple[float, bool]:
    """Variance ratio maximising the restricted likelihood: a grid, then Brent's method on
    log(ratio) between the grid neighbours of the best point. Returns (ratio, converged)."""
    values = [_profile(r, sums).log_likelihood for r in GRID]
    best = int(np.nanargmax(values))
    if best == 0:
        return 0.0, True
    if best == GRID.size - 1:
        # the likelihood still rises at a ratio of a million: mentor and residual variance
        # are not separable (e.g. one match per mentor)
        return float(GRID[best]), False
    low = np.log(GRID[best - 1]) if best > 1 else np.log(GRID[1]) - 10.0
    high = np.log(GRID[best + 1])
    result = optimize.minimize_scalar(
        lambda t: -_profile(float(np.exp(t)), sums).log_likelihood,
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-10},
    )
    ratio = float(np.exp(result.x))
    if best == 1 and _profile(0.0, sums).log_likelihood >= -result.fun:
        return 0.0, True
    return ratio, bool(result.success)


def fit_mixed(design: Design, *, max_mentors: int, seed: int) -> MixedFit | str:
    """REML fit; returns the reason as a string when the fit fails outright."""
    design, sampled = sample_mentors(design, max_mentors, seed)
    notes = [sampled] if sampled else []
    programs = design.programs
    # Random-effect unit: the mentor. The exact absorption needs each unit inside one
    # program; a mentor with matches in several programs gets one intercept per program.
    units = dense_codes_pairs(design.groups, programs.codes)
    n_units = int(units.max()) + 1 if units.size else 0
    if n_units > design.n_groups:
        notes.append(
            f"{n_units - design.n_groups} mentor-program pairs beyond one per mentor: mentors "
            "matched in several programs get one random intercept per program"
        )
    unit_program = np.zeros(n_units, dtype=np.int64)
    unit_program[units] = programs.codes
    slopes = design.X[:, 1:]
    k = slopes.shape[1]
    if design.n_obs - k - programs.count <= 0:
        return "MixedLM failed: no residual degrees of freedom" + (
            f"; {sampled}" if sampled else ""
        )
    sums = _unit_sums(design.y, slopes, units, unit_program, programs.count)
    try:
        ratio, converged = _maximise(sums)
        profile = _profile(ratio, sums)
        inverse = np.linalg.inv(profile.xtvix) if k else np.zeros((0, 0))
    except np.linalg.LinAlgError as error:
        return f"MixedLM failed: {error}" + (f"; {sampled}" if sampled else "")
    if not converged:
        notes.append("mentor and residual variance not separable (likelihood has no maximum)")
    elif ratio < BOUNDARY_RATIO:
        notes.append("mentor variance at the boundary (about 0): estimates equal OLS")

    # Intercept = the reference program's level; the centring is undone here.
    centre = sums.centre
    ref = programs.reference
    ref_mean = profile.program_mean[ref]  # weighted mean in the reference program, centred
    intercept = ref_mean[k] + centre[k] - (ref_mean[:k] + centre[:k]) @ profile.beta
    ref_x = ref_mean[:k] + centre[:k]
    # blockwise inverse of the full [D X]'V^-1[D X]: var(alpha_ref) and cov(alpha_ref, beta)
    cov = np.empty((k + 1, k + 1))
    cov[1:, 1:] = inverse
    cov[0, 1:] = cov[1:, 0] = -inverse @ ref_x
    cov[0, 0] = 1.0 / profile.program_weight[ref] + ref_x @ inverse @ ref_x
    cov *= profile.scale
    params = np.concatenate([[intercept], profile.beta])
    bse = np.sqrt(np.diag(cov))
    if not np.all(np.isfinite(bse)):
        converged = False
        notes.append("standard errors not finite")
    critical = stats.norm.ppf(0.975)  # normal reference, as statsmodels MixedLM
    program_note = program_effects_note(design)
    return MixedFit(
        terms=list(design.terms),
        params=params,
        bse=bse,
        ci=np.column_stack([params - critical * bse, params + critical * bse]),
        pvalues=2 * stats.norm.sf(np.abs(params / bse)),
        mentor_variance=ratio * profile.scale,
        residual_variance=profile.scale,
        converged=converged,
        n_obs=design.n_obs,
        n_groups=design.n_groups,
        notes=design.notes + notes + ([program_note] if program_note else []),
    )


def dense_codes_pairs(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """0-based code of each (first, second) pair, pairs in sorted order."""
    if first.size == 0:
        return np.zeros(0, dtype=np.int64)
    key = first.astype(np.int64) * (int(second.max()) + 1) + second
    _, codes = np.unique(key, return_inverse=True)
    return codes
