"""Program fixed effects absorbed by within-program demeaning, instead of one dummy per program.

With dummies the design grows by one column per program, so a fit costs O(rows x programs²)
per iteration and the design alone O(rows x programs) memory. The models only need the
*within-program* slopes, and for one fixed-effect dimension those are obtained exactly by
demeaning every column within program (Frisch-Waugh-Lovell): same slopes, same residuals, cost
O(rows x terms²) whatever the number of programs. The reported Intercept stays what it was with
dummies, the level of the reference program, and its cluster-robust standard error is derived
exactly from the same influence functions (see `clustered_covariance`). docs/models.md
describes the estimators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MAX_ITERATIONS = 100
TOLERANCE = 1e-10  # largest change of the linear predictor between IRLS iterations
MAX_HALVINGS = 30


@dataclass(frozen=True)
class ProgramIndex:
    """Program code per row (0 .. count - 1, codes in sorted label order) and the reference
    program: the one with most rows, ties alphabetical, as the dummy coding used.

    When the rows are sorted by program (the model frame is), per-program sums are sums over
    contiguous runs (np.add.reduceat), about three times faster than scattered bincounts."""

    codes: np.ndarray
    labels: tuple[str, ...]
    reference: int
    starts: np.ndarray | None = field(default=None, compare=False)  # set when contiguous

    @classmethod
    def from_codes(
        cls, codes: np.ndarray, labels: Sequence[str], reference: str | None = None
    ) -> ProgramIndex:
        """`reference` is kept when it has rows; otherwise the largest program is taken."""
        labels = tuple(labels)
        counts = np.bincount(codes, minlength=len(labels))
        starts = None
        if codes.size and counts.all() and np.all(codes[1:] >= codes[:-1]):
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        if reference is not None and reference in labels and counts[labels.index(reference)]:
            return cls(codes, labels, labels.index(reference), starts)
        # argmax takes the first maximum: the alphabetically first of the largest programs
        return cls(codes, labels, int(np.argmax(counts)) if labels else 0, starts)

    @property
    def count(self) -> int:
        return len(self.labels)

    @property
    def reference_label(self) -> str:
        return self.labels[self.reference]

    def subset(self, rows: np.ndarray) -> ProgramIndex:
        """The index of the rows kept (boolean mask), with programs left empty removed; the
        reference is kept when it still has rows."""
        codes = self.codes[rows]
        present = np.flatnonzero(np.bincount(codes, minlength=self.count))
        recode = np.full(self.count, -1, dtype=np.int64)
        recode[present] = np.arange(present.size)
        labels = [self.labels[i] for i in present]
        return ProgramIndex.from_codes(recode[codes], labels, self.reference_label)

    def _sum(self, column: np.ndarray) -> np.ndarray:
        if self.starts is not None:
            return np.add.reduceat(column, self.starts)
        return np.bincount(self.codes, weights=column, minlength=self.count)

    def sums(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Per-program sums of a vector (shape (count,)) or of each column of a matrix
        (shape (count, k)); `weights` multiplies each row first. Column by column, so a
        column-major matrix is read contiguously."""
        if values.ndim == 1:
            return self._sum(values if weights is None else values * weights)
        out = np.empty((self.count, values.shape[1]))
        for j in range(values.shape[1]):
            out[:, j] = self._sum(values[:, j] if weights is None else values[:, j] * weights)
        return out

    def means(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        total = (
            np.bincount(self.codes, minlength=self.count).astype(float)
            if weights is None
            else self._sum(weights)
        )
        sums = self.sums(values, weights)
        return sums / (total if values.ndim == 1 else total[:, None])

    def demean(
        self, values: np.ndarray, weights: np.ndarray | None = None, means: np.ndarray | None = None
    ) -> np.ndarray:
        """`values` minus the (weighted) mean of their program; a matrix comes back
        column-major."""
        means = self.means(values, weights) if means is None else means
        if values.ndim == 1:
            return values - means.take(self.codes)
        out = np.empty(values.shape, order="F")
        for j in range(values.shape[1]):
            # take from a contiguous copy of the column: 2-D fancy indexing is much slower
            out[:, j] = values[:, j] - np.ascontiguousarray(means[:, j]).take(self.codes)
        return out


@dataclass
class AbsorbedFit:
    """Estimates in the dummy model's parametrisation: params[0] is the reference program's
    level (the dummy model's Intercept), params[1:] the within-program slopes."""

    params: np.ndarray
    cov: np.ndarray  # cluster-robust (CR1), same order as params
    converged: bool
    perfect_prediction: bool  # every fitted probability equals the outcome (logit only)
    program_effects: np.ndarray  # level of every program, same scale as the Intercept
    iterations: int

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


def clustered_covariance(
    demeaned: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray,
    bread: np.ndarray,
    reference_mean: np.ndarray,
    programs: ProgramIndex,
    groups: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """The CR1 sandwich of the model *with* program dummies, restricted to (Intercept, slopes).

    The dummy model's Hessian is [X D]'W[X D] and cluster g's score [X_g D_g]' r_g. Inverting
    the Hessian blockwise, cluster g moves the slopes by psi_g = (X~'W X~)^-1 X~_g' r_g (X~ the
    weighted within-program demeaned X) and program p's level by
    r_gp / W_p - xbar_p' psi_g (r_gp: the scores of g's rows in p; W_p, xbar_p: p's weight and
    weighted mean of X). The covariance is the sum of outer products of these influences, times
    the dummy model's correction G/(G-1) (N-1)/(N-K), K counting every program effect. So the
    standard errors equal the dummy model's exactly, not just asymptotically.

    `scores` are the per-row score residuals r (y - mu for the logit, the residual for OLS),
    `weights` the IRLS weights (1 for OLS), `bread` X~'W X~, `reference_mean` xbar of the
    reference program."""
    per_cluster = np.empty((n_groups, demeaned.shape[1]))
    for j in range(demeaned.shape[1]):  # column by column: no second rows x terms array
        per_cluster[:, j] = np.bincount(groups, weights=demeaned[:, j] * scores, minlength=n_groups)
    psi = np.linalg.solve(bread, per_cluster.T).T
    in_reference = programs.codes == programs.reference
    reference_weight = float(weights[in_reference].sum())
    phi = (
        np.bincount(groups[in_reference], weights=scores[in_reference], minlength=n_groups)
        / reference_weight
        - psi @ reference_mean
    )
    influence = np.column_stack([phi, psi])
    n_obs = demeaned.shape[0]
    n_params = demeaned.shape[1] + programs.count
    correction = n_groups / (n_groups - 1) * (n_obs - 1) / (n_obs - n_params)
    return correction * (influence.T @ influence)


def fit_ols(
    y: np.ndarray, X: np.ndarray, programs: ProgramIndex, groups: np.ndarray, n_groups: int
) -> AbsorbedFit:
    """Least squares of y on the slopes `X` (no intercept column) and program fixed effects,
    with mentor-clustered CR1 errors."""
    x_means = programs.means(X)
    y_means = programs.means(y)
    demeaned = programs.demean(X, means=x_means)
    bread = demeaned.T @ demeaned
    beta = np.linalg.solve(bread, demeaned.T @ programs.demean(y, means=y_means))
    effects = y_means - x_means @ beta
    residual = y - X @ beta - effects[programs.codes]
    cov = clustered_covariance(
        demeaned,
        residual,
        np.ones(y.size),
        bread,
        x_means[programs.reference],
        programs,
        groups,
        n_groups,
    )
    params = np.concatenate([[effects[programs.reference]], beta])
    return AbsorbedFit(params, cov, True, False, effects, 1)


def _expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))  # overflow-free logistic function


def _deviance(y: np.ndarray, eta: np.ndarray) -> float:
    # -2 log L of a logit = 2 sum log(1 + exp(-s eta)), s = +1 for events and -1 otherwise
    return float(2.0 * np.logaddexp(0.0, -(2.0 * y - 1.0) * eta).sum())


def fit_logit(
    y: np.ndarray, X: np.ndarray, programs: ProgramIndex, groups: np.ndarray, n_groups: int
) -> AbsorbedFit:
    """Fixed-effects logit by iteratively reweighted least squares.

    Each Newton step of the logit with program dummies is a weighted least-squares fit of the
    working response z on [X D]; with one fixed-effect dimension that WLS is solved exactly by
    weighted within-program demeaning, so the iterations, and the maximum, are those of the
    dummy model. The demeaned normal equations are formed without materialising the demeaned
    columns, from within = total - between: X~'W X~ = X'W X - sum_p W_p xbar_p xbar_p' and
    X~'W z~ = X'W z - sum_p W_p xbar_p zbar_p (xbar_p, zbar_p weighted program means, W_p
    the program's weight), which halves the passes over the rows. Programs whose outcome does
    not vary must be dropped by the caller (their effect is infinite). Step halving keeps the
    deviance from increasing."""
    codes = programs.codes
    eta = np.log((y + 0.5) / (1.5 - y))  # the usual GLM start, mu = (y + 1/2) / 2
    deviance = _deviance(y, eta)
    beta = np.zeros(X.shape[1])
    effects = np.zeros(programs.count)
    converged = False
    iterations = 0
    weighted = np.empty(X.shape, order="F")
    for iterations in range(1, MAX_ITERATIONS + 1):
        mu = _expit(eta)
        weights = np.maximum(mu * (1.0 - mu), 1e-12)
        weighted_z = weights * eta + (y - mu)  # w z without dividing by w
        for j in range(X.shape[1]):
            np.multiply(X[:, j], weights, out=weighted[:, j])
        program_weight = programs.sums(weights)
        x_sums = programs.sums(weighted)
        x_means = x_sums / program_weight[:, None]
        z_means = programs.sums(weighted_z) / program_weight
        hessian = weighted.T @ X - x_sums.T @ x_means
        gradient = X.T @ weighted_z - x_sums.T @ z_means
        new_beta = np.linalg.solve(hessian, gradient)
        new_effects = z_means - x_means @ new_beta
        new_eta = X @ new_beta + new_effects.take(codes)
        new_deviance = _deviance(y, new_eta)
        for _ in range(MAX_HALVINGS if iterations > 1 else 0):  # the start is not a fit
            if new_deviance <= deviance * (1 + 1e-12):
                break
            new_beta = (beta + new_beta) / 2
            new_effects = (effects + new_effects) / 2
            new_eta = X @ new_beta + new_effects.take(codes)
            new_deviance = _deviance(y, new_eta)
        change = float(np.max(np.abs(new_eta - eta)))
        beta, effects, eta, deviance = new_beta, new_effects, new_eta, new_deviance
        if change < TOLERANCE:
            converged = True
            break

    # The sandwich at the estimate, with that point's weights (as the dummy fit would); here
    # the demeaned rows are needed, for the per-row scores. The loop's buffer is reused.
    mu = _expit(eta)
    weights = mu * (1.0 - mu)
    x_means = programs.means(X, weights)
    demeaned = programs.demean(X, means=x_means)
    for j in range(X.shape[1]):
        np.multiply(demeaned[:, j], weights, out=weighted[:, j])
    bread = weighted.T @ demeaned
    del weighted
    cov = clustered_covariance(
        demeaned,
        y - mu,
        weights,
        bread,
        x_means[programs.reference],
        programs,
        groups,
        n_groups,
    )
    perfect = bool(np.allclose(mu - y, 0))  # statsmodels' test for perfect prediction
    params = np.concatenate([[effects[programs.reference]], beta])
    return AbsorbedFit(params, cov, converged, perfect, effects, iterations)
