"""The noise floor of the data, and when an equation has reached it.

An equation with ``k`` fitted constants that is the law behind the data
leaves residuals that are the measurement noise: with ``n`` samples of noise
variance ``s2``, ``n * mse / s2`` follows a chi-square distribution with
``n - k`` degrees of freedom. When ``s2`` is itself estimated (by the
surrogate, or here) from about ``m`` degrees of freedom, the ratio
``(mse * n / (n - k)) / s2`` follows an F(``n - k``, ``m``) distribution.

:class:`NoiseFloor` turns this into the test every part of discovery uses:

- :meth:`NoiseFloor.reached` - an equation is *at the floor* (statistically
  indistinguishable from the noise) when that ratio is below the
  ``1 - LEVEL`` quantile of its distribution (chi-square for a known noise
  variance, F for an estimated one). A numerical floor of ``1e-10 var(y)``
  is added so that exact data (noise zero) still has a usable floor.
- :meth:`NoiseFloor.margin` - the likelihood-ratio margin for one
  simplification (one constant fixed or dropped): the loss may grow by
  ``chi2_1(1 - LEVEL_STEP) * s2 / n``, with ``s2`` the larger of the floor
  and the current loss (``chi2_k`` for ``k`` constants fixed at once).
- :meth:`NoiseFloor.consistent` - the floor is lowered to what an equation
  actually achieves (``mse * n / (n - k)``) when that is lower: data cannot
  be noisier than an equation that fits them.

Where the floor comes from (:func:`estimate_noise_variance`): ``MED.discover``
passes the measurement variances the user gave, or else the noise level its
Gaussian-process surrogate fitted; :func:`medeq.discovery.discover_arrays`
without ``noise_variance`` fits the same Gaussian process (Matern-5/2 with a
white-noise term, maximum a posteriori) to the data it is given. The GP is
preferred to nearest-neighbour differences, which mix the function's own
variation into the estimate as soon as there are more than one or two
inputs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from scipy import special
from scipy.spatial import cKDTree

from ..surrogate import NOISE_BOUNDS, GaussianProcessSurrogate
from .expressions import complexity

logger = logging.getLogger(__name__)

#: Significance level of the "at the floor" test (false rejections of the true law).
LEVEL = 0.01
#: Significance level of one simplification step (one constant fixed or dropped).
LEVEL_STEP = 0.01
#: A surrogate noise level within this factor of its lower bound means "no noise found".
AT_BOUND = 10.0
#: Losses below this fraction of var(y) are numerically exact.
NUMERICAL = 1e-10
#: Residuals are not white noise above this z-score, one-sided (p ~ 1e-3),
#: a level the whiteness tests share (:class:`Whiteness`).
WHITE_Z = 3.0
#: Neighbours of each point in that test.
NEIGHBOURS = 5
#: Degrees of freedom of an estimated noise variance, per sample: a Gaussian
#: process's noise level scatters by about +-40 % around the truth on 300
#: samples (measured on noisy Feynman laws), as an estimate from n/4 samples.
ESTIMATE_DOF = 0.25


@dataclass(frozen=True)
class NoiseFloor:
    """Noise variance ``variance`` of ``n`` samples, estimated from ``dof``
    degrees of freedom (``math.inf``: known exactly), and the numerical floor
    ``numerical`` (response units squared)."""

    variance: float
    n: int
    dof: float = math.inf
    numerical: float = 0.0
    #: ``mean(s_i**4) / mean(s_i**2)**2`` of per-sample variances ``s_i**2``
    #: (1: the same for all): the sum of squared residuals then scatters
    #: like a chi-square of ``n / spread`` degrees of freedom (Satterthwaite).
    spread: float = 1.0

    @classmethod
    def of(cls, y: np.ndarray, variance: float | None, dof: float = math.inf,
           spread: float = 1.0) -> "NoiseFloor":
        y = np.asarray(y, dtype=float)
        scatter = float(np.var(y)) if len(y) else 0.0
        scale = scatter if scatter > 0 else float(np.mean(y**2)) if len(y) else 0.0
        numerical = NUMERICAL * scale if scale > 0 else 1e-300
        value = 0.0 if variance is None or not math.isfinite(variance) else max(float(variance), 0.0)
        return cls(value, max(len(y), 1), dof, numerical, spread)

    @classmethod
    def per_sample(cls, y: np.ndarray, variances: np.ndarray, dof: float = math.inf) -> "NoiseFloor":
        """The floor of ``y`` whose samples have the noise ``variances``."""
        variances = np.asarray(variances, dtype=float)
        mean = float(np.mean(variances)) if len(variances) else 0.0
        spread = float(np.mean(variances**2)) / mean**2 if mean > 0 else 1.0
        return cls.of(y, mean, dof=dof, spread=max(spread, 1.0))

    @property
    def noisy(self) -> bool:
        """Whether the floor is above the numerical one (the data are noisy)."""
        return self.variance > self.numerical

    def threshold(self, k: int = 0) -> float:
        """Largest mean squared error at the floor for ``k`` fitted constants."""
        n = self.n
        free = max(n - int(k), 1)
        effective = free / self.spread
        if self.dof == math.inf:
            quantile = special.chdtri(effective, LEVEL) / effective
        else:
            quantile = special.fdtri(effective, max(self.dof, 1.0), 1 - LEVEL)
        return self.variance * quantile * free / n + self.numerical

    def reached(self, loss: float, k: int = 0) -> bool:
        """Whether an equation of ``k`` constants and this loss is at the floor."""
        return math.isfinite(loss) and loss <= self.threshold(k)

    def margin(self, loss: float, tests: int = 1, constants: int = 1) -> float:
        """Allowed loss increase for one simplification of an equation with
        ``loss`` that fixes ``constants`` of its constants at once (the best
        of ``tests`` tried: Bonferroni-corrected level)."""
        level = LEVEL_STEP / max(int(tests), 1)
        return special.chdtri(max(int(constants), 1), level) * max(loss, self.variance) / self.n \
            + self.numerical

    def reach(self, constants: int = 1) -> float:
        """At most how many standard errors from its fitted value a constant
        can be fixed by a simplification that fixes ``constants`` constants
        at once (:meth:`margin`): fixing that one alone, the others refitted,
        already costs its distance squared in chi-square (to first order)."""
        return math.sqrt(special.chdtri(max(int(constants), 1), LEVEL_STEP))

    def upper(self) -> "NoiseFloor":
        """This floor at the upper ``1 - LEVEL`` confidence bound of its
        variance (an estimate from ``dof`` degrees of freedom may be that
        much too low); unchanged when the variance is known exactly."""
        if self.dof == math.inf or not self.noisy:
            return self
        factor = self.dof / special.chdtri(self.dof, 1 - LEVEL)
        return replace(self, variance=self.variance * factor)

    def consistent(self, fits: list[tuple[float, int]]) -> "NoiseFloor":
        """This floor, lowered to the best unbiased noise estimate of ``fits``
        ((loss, constants) pairs, only those with ``constants < n / 2``)."""
        estimates = [
            loss * self.n / (self.n - k) for loss, k in fits
            if math.isfinite(loss) and 2 * k < self.n
        ]
        if not estimates or min(estimates) >= self.variance:
            return self
        return replace(self, variance=max(min(estimates), 0.0))


def data_surrogate(X: np.ndarray, y: np.ndarray, seed: int | None = None):
    """A :class:`~medeq.surrogate.GaussianProcessSurrogate` fitted to ``(X, y)``
    (inputs scaled to the unit cube), and its mean as a function of ``X``."""
    X = np.asarray(X, dtype=float)
    low, high = X.min(axis=0), X.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    model = GaussianProcessSurrogate(seed=seed).fit((X - low) / span, np.asarray(y, dtype=float))
    return model, lambda Z: model.predict((np.asarray(Z, dtype=float) - low) / span, return_std=False)


def estimate_noise_variance(X: np.ndarray, y: np.ndarray, seed: int | None = None) -> float:
    """Noise variance of ``y`` (response units squared) from a Gaussian process
    fitted to ``(X, y)`` (inputs scaled to the unit cube)."""
    return surrogate_noise(data_surrogate(X, y, seed)[0])


def surrogate_noise(model) -> float:
    """Noise variance a fitted :class:`~medeq.surrogate.GaussianProcessSurrogate`
    found (response units squared); 0 when its noise level sits at the lower
    bound, i.e. it found no noise (exact data)."""
    if model.noise_level <= AT_BOUND * NOISE_BOUNDS[0]:
        return 0.0
    return float(model.noise_variance)


def loo_error(model) -> float:
    """Mean squared leave-one-out error of a fitted
    :class:`~medeq.surrogate.GaussianProcessSurrogate` (response units
    squared): noise plus the surrogate's own error, so an upper bound of the
    noise variance when the surrogate found none."""
    return float(np.mean(model.loo_residuals() ** 2)) * model.scale_**2


def denoising_error(X: np.ndarray, y: np.ndarray, seed: int | None = None, folds: int = 5) -> float:
    """Held-out mean squared error of a Gaussian process's mean: ``folds``-fold
    cross-validation of :class:`~medeq.surrogate.GaussianProcessSurrogate`
    (inputs scaled to the unit cube) on ``(X, y)``.

    It estimates ``noise + E[(mean - truth)^2]``: replacing ``y`` by the
    surrogate's mean helps when the second term is below the noise, i.e.
    when this error is below twice the noise variance.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    low, high = X.min(axis=0), X.max(axis=0)
    unit = (X - low) / np.where(high > low, high - low, 1.0)
    order = np.random.default_rng(seed).permutation(len(y))
    errors = np.empty(len(y))
    for part in np.array_split(order, min(folds, len(y))):
        train = np.setdiff1d(order, part)
        if len(train) < 2:
            return math.inf
        model = GaussianProcessSurrogate(seed=seed).fit(unit[train], y[train])
        errors[part] = model.predict(unit[part], return_std=False) - y[part]
    return float(np.mean(errors**2))


class Whiteness:
    """Whether residuals on the inputs ``X`` are white noise.

    The residuals of the law behind noisy data are the noise: uncorrelated
    from one point to the next. Those of an approximation are a smooth
    function of the inputs: a point's residual is close to its neighbours'.
    With ``r`` the centred residuals and ``W`` the symmetrised,
    row-normalised adjacency of each point's ``NEIGHBOURS`` nearest
    neighbours (inputs scaled to the unit cube), ``T = r'Wr / r'r`` has mean
    ``~0`` and variance ``~2 tr(W^2) / n^2`` for white noise. This needs no
    noise level: it is the test of "at the floor" when the Gaussian process
    found no noise (it cannot tell noise a thousand times smaller than the
    data's spread from the function's own variation).

    Neighbours in all inputs at once miss a missing term in one input when
    there are few samples for several inputs (``cos(1.1*r)`` left out of a
    law of three inputs on 40 samples: a point's nearest neighbours are far
    apart in ``r``). So the residuals are also ordered along each input in
    turn, and their serial correlation ``sum r_i r_(i+1) / r'r`` (mean
    ``-1/n`` and standard deviation ``~1/sqrt(n)`` for white noise) is
    tested too. Residuals are white when every statistic is below
    ``threshold`` standard deviations: the ``P + 1`` tests (non-constant
    inputs) share the false-alarm rate of one at ``WHITE_Z`` (Bonferroni).
    """

    def __init__(self, X: np.ndarray):
        X = np.asarray(X, dtype=float)
        low, high = X.min(axis=0), X.max(axis=0)
        unit = (X - low) / np.where(high > low, high - low, 1.0)
        self.n = len(X)
        k = min(NEIGHBOURS, self.n - 1)
        self.rows = self.columns = None
        self.orders = [np.argsort(X[:, j], kind="stable") for j in range(X.shape[1]) if high[j] > low[j]]
        # One test's false-alarm rate, shared by the P + 1 tests.
        self.threshold = -float(special.ndtri(special.ndtr(-WHITE_Z) / (len(self.orders) + 1)))
        if k < 1:
            return
        neighbours = cKDTree(unit).query(unit, k=k + 1)[1][:, 1:]
        rows = np.repeat(np.arange(self.n), k)
        columns = neighbours.ravel()
        # W = (A + A^T) / 2 with A[i, j] = 1/k for j a neighbour of i.
        weights: dict[tuple[int, int], float] = {}
        for i, j in zip(rows, columns):
            for pair in ((int(i), int(j)), (int(j), int(i))):
                weights[pair] = weights.get(pair, 0.0) + 0.5 / k
        pairs = np.array(list(weights))
        self.rows, self.columns = pairs[:, 0], pairs[:, 1]
        self.weights = np.array(list(weights.values()))
        self.sd = math.sqrt(2.0 * float(self.weights @ self.weights)) / self.n

    def z(self, residuals: np.ndarray) -> float:
        """The largest of the statistics (neighbours, then serial correlation
        along each input), each in standard deviations of its white-noise
        distribution."""
        if self.rows is None:
            return math.inf
        r = np.asarray(residuals, dtype=float)
        r = r - r.mean()
        total = float(r @ r)
        if not (math.isfinite(total) and total > 0):
            return math.inf
        neighbours = float(np.sum(self.weights * r[self.rows] * r[self.columns])) / total / self.sd
        serial = [(float(r[order[1:]] @ r[order[:-1]]) / total + 1 / self.n) * math.sqrt(self.n)
                  for order in self.orders]
        return max([neighbours, *serial])

    def white(self, residuals: np.ndarray) -> bool:
        return self.z(residuals) < self.threshold


def noise_floor(X: np.ndarray, y: np.ndarray, noise_variance, estimate, dof: float | None = None) -> NoiseFloor:
    """The :class:`NoiseFloor` of ``y`` from the ``noise_variance`` and
    ``noise_dof`` (``dof``) of :func:`~medeq.discovery.discover_arrays`
    (``estimate()`` when it is ``None``)."""
    if dof is not None:
        value = np.asarray(dof)
        if isinstance(dof, (bool, np.bool_)) or value.ndim or value.dtype.kind not in "iuf" or not value >= 1:
            raise ValueError(f"noise_dof must be a number >= 1 (math.inf: known exactly), got {dof!r}.")
        dof = float(value)
    if noise_variance is None:
        return NoiseFloor.of(y, estimate(), dof=ESTIMATE_DOF * len(y) if dof is None else float(dof))
    if isinstance(noise_variance, bool):
        raise ValueError(f"noise_variance must be a number >= 0 or an array of them, got {noise_variance!r}.")
    values = np.asarray(noise_variance, dtype=float)
    if values.ndim == 0:
        if not (math.isfinite(float(values)) and values >= 0):
            raise ValueError(f"noise_variance must be a finite number >= 0, got {noise_variance!r}.")
        return NoiseFloor.of(y, float(values), dof=ESTIMATE_DOF * len(y) if dof is None else float(dof))
    if values.shape != y.shape or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(
            f"noise_variance must be a number or one finite variance >= 0 per sample "
            f"(shape {y.shape}); got shape {values.shape}."
        )
    known = math.inf if dof is None else float(dof)
    weights = precision_weights(values)
    if weights is None:  # some samples exact: unweighted, the variances' spread widens the test
        return NoiseFloor.per_sample(y, values, dof=known)
    # Weighted by precision, every sample's weighted noise has the harmonic
    # mean of the variances: the weighted loss of the law is a plain chi-square.
    return NoiseFloor.of(y, float(np.mean(values * weights)), dof=known)


def precision_weights(noise_variance) -> np.ndarray | None:
    """Least-squares weights ``1 / s_i**2`` of samples with the noise
    variances ``noise_variance``, scaled to mean 1; ``None`` when they are
    one number (or ``None``), equal, or not all positive (unweighted)."""
    if noise_variance is None or np.ndim(noise_variance) == 0:
        return None
    values = np.asarray(noise_variance, dtype=float)
    if not (len(values) and np.all(np.isfinite(values)) and np.all(values > 0)) or np.all(values == values[0]):
        return None
    precision = 1.0 / values
    return precision / float(np.mean(precision))


def white_floor(candidates, floor: NoiseFloor, fitness, white) -> NoiseFloor:
    """``fitness`` is a :class:`~medeq.discovery.polish.Fitness` and ``white(expr,
    symbols, X)`` tells whether ``expr``'s residuals are white noise. When no
    candidate reaches the floor (no noise found, or an estimate
    too low): the floor the simplest candidate with white residuals
    (:class:`Whiteness`) shows, ``loss * n / (n - k)`` estimated from
    ``n - k`` degrees of freedom, if no candidate is significantly more
    accurate (:func:`best_fit`) and it is above ``floor``; else ``floor``
    unchanged."""
    fits = fitness.fits(candidates)
    best = best_fit(fits, floor)
    for expr, (loss, k) in sorted(zip(candidates, fits), key=lambda pair: complexity(pair[0])):
        if (math.isfinite(loss) and 2 * k < floor.n and best.reached(loss, k)
                and white(expr, fitness.symbols, fitness.X)):
            estimate = loss * floor.n / (floor.n - k)
            if estimate <= floor.variance:
                break
            logger.info("no candidate at the floor %.4g, but %s leaves white residuals: floor %.4g",
                        floor.variance, expr, estimate)
            return replace(floor, variance=estimate, dof=floor.n - k)
    return floor


def best_fit(fits: Sequence[tuple[float, int]], floor: NoiseFloor) -> NoiseFloor:
    """The floor the most accurate of ``fits`` ((loss, constants) pairs)
    shows, as an estimate from ``n - k`` degrees of freedom: an equation not
    at it is significantly less accurate than the best, so not at the floor."""
    n = floor.n
    estimates = [(loss * n / (n - k), k) for loss, k in fits if math.isfinite(loss) and 2 * k < n]
    if not estimates:
        return replace(floor, variance=0.0, dof=math.inf)
    variance, k = min(estimates)
    return replace(floor, variance=variance, dof=n - k)
