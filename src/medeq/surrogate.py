"""Gaussian-process surrogate, one per response, and batch posterior variance.

Model
-----
Inputs are points in the unit cube; outputs are standardised internally
(zero mean, unit standard deviation). The kernel is a constant times an
anisotropic (ARD) Matern-5/2 kernel, plus a fitted white-noise level::

    k(a, b) = s^2 Matern52(|a - b| / l) + noise * [a == b]

The hyperparameters ``s^2``, ``l`` (one length scale per parameter) and
``noise`` maximise the log marginal likelihood plus weak priors
(:func:`negative_log_posterior`; L-BFGS-B with random restarts). The kernel
is scikit-learn's, but the likelihood and its gradient are computed here:
the same optimum as ``GaussianProcessRegressor``, measured 5 times faster
per evaluation at 400 results.

Noise and variances
-------------------
``noise_variance`` (response units squared) is the fitted noise level: the
variance of a new measurement around the latent response. ``MED.variances``
reports it for every result whose variance the user did not give. A result
given with a known variance ``v`` (``evaluate``/``augment(...,
variances=)``) is treated as observed with noise ``v`` plus the fitted level
(the noise the given variances do not explain: about zero when they are
accurate). ``predict`` returns the standard deviation of the *latent*
response, without the measurement noise.

Bounded cost for large campaigns
--------------------------------
* Hyperparameters are fitted on at most :data:`FIT_SIZE` results (a random
  subset drawn with the seed when there are more); the number of optimiser
  restarts falls as the campaign grows (:func:`default_restarts`).
* The fitted model is then conditioned *exactly* on all finite results, up
  to :data:`MAX_EXACT` of them. Above that, it uses a subset-of-data
  approximation: it conditions on :data:`MAX_EXACT` results drawn at random
  with the seed. Refits therefore take bounded time and memory for any
  campaign size (a few seconds at most on a laptop).

Batch design support
--------------------
:class:`BatchPosterior` keeps the posterior covariance between a reference
set and a candidate set, and updates it exactly (rank one) as points are
added to a batch: a Gaussian process' variance does not depend on the
responses, so points still waiting in the queue, or chosen moments ago,
count as well as evaluated ones.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, cholesky, lapack, solve_triangular
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel
from threadpoolctl import ThreadpoolController

#: Hyperparameters are fitted on at most this many results (random subset above).
FIT_SIZE = 400
#: Exact conditioning on up to this many results; above, a random subset of this size.
MAX_EXACT = 3000
#: Diagonal jitter (standardised units) that keeps the Cholesky factorisation stable.
JITTER = 1e-8
#: Bounds of the hyperparameters (standardised outputs, unit-cube inputs).
SIGNAL_BOUNDS = (1e-2, 1e2)
LENGTH_BOUNDS = (1e-2, 1e2)
NOISE_BOUNDS = (1e-8, 1.0)
#: Log-normal prior on every length scale (unit cube): median and log-sd.
LENGTH_PRIOR = (1.0, 1.5)
#: Prior on the noise level (standardised units): flat below the first value,
#: half-log-normal above it with the second as log-sd.
NOISE_PRIOR = (1e-2, 2.0)
#: Rows predicted at once (keeps the ``(rows, n_train)`` cross-covariance small).
PREDICT_CHUNK = 2048


def matern52_radius(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``sqrt(5) |a_i - b_j| / l``: the scaled distance of the ARD Matern-5/2 kernel."""
    return np.sqrt(5.0) * cdist(a / lengths, b / lengths)


def matern52_slope(r: np.ndarray, decay: np.ndarray | None = None) -> np.ndarray:
    """``(5/3) (1 + r) exp(-r)``: minus the kernel's derivative with respect to
    ``|x - x'|^2 / l^2`` (unit signal), shared by the likelihood gradient and
    the posterior mean's gradient. ``decay`` is ``exp(-r)`` when known."""
    return (5.0 / 3.0) * (1.0 + r) * (np.exp(-r) if decay is None else decay)


def single_threaded(function):
    """Run ``function`` with one BLAS thread.

    The matrices here are small (at most a few thousand rows): measured on a
    loaded 2-core machine, multithreaded OpenBLAS made a 400 x 400 Cholesky
    20-50 times slower than one thread, and one thread is never much slower.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _blas_controller().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


@functools.lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    """One controller for the process (building one scans the loaded libraries: ~5 ms)."""
    return ThreadpoolController()


def default_restarts(n: int) -> int:
    """Optimiser restarts for ``n`` results: more when fits are cheap."""
    if n <= 60:
        return 3
    if n <= 200:
        return 2
    return 1


def _prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log prior and its gradient (see :func:`negative_log_posterior`)."""
    d = len(theta) - 2
    centre = np.r_[np.full(d, np.log(LENGTH_PRIOR[0])), np.log(NOISE_PRIOR[0])]
    spread = np.r_[np.full(d, LENGTH_PRIOR[1]), NOISE_PRIOR[1]]
    z = (theta[1:] - centre) / spread
    z[-1] = max(z[-1], 0.0)  # one-sided on the noise
    grad = np.zeros_like(theta)
    grad[1:] = z / spread
    return 0.5 * float(z @ z), grad


def negative_log_posterior(theta, x, z, alpha) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus weak priors, and its gradient.

    ``theta = [log s^2, log l_1..l_d, log noise]`` for the kernel
    ``s^2 Matern52(|a - b| / l) + (noise + alpha_i) [a == b]``, ``z`` the
    standardised responses. The priors - log-normal on each length scale
    (:data:`LENGTH_PRIOR`), one-sided against large noise
    (:data:`NOISE_PRIOR`) - matter with a handful of results, where maximum
    likelihood often puts length scales at their bounds (a parameter
    "ignored") or explains everything as noise; they are negligible once
    the data speak.

    Written for speed: the length-scale gradients use
    ``sum_ij W_ij (x_ik - x_jk)^2 = 2 (x_k^2 . W 1 - x_k . W x_k)`` instead of
    the ``(n, n, d)`` gradient tensor scikit-learn builds (measured 5-10
    times faster at n = 400, same optimum).
    """
    n = len(z)
    signal, lengths, noise = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    r = matern52_radius(x, x, lengths)
    decay = np.exp(-r)
    k_signal = signal * (1.0 + r + r**2 / 3.0) * decay
    k = k_signal.copy()
    k[np.diag_indices(n)] += noise + alpha
    try:
        chol = cholesky(k, lower=True, check_finite=False)
    except LinAlgError:
        return 1e25, np.zeros_like(theta)
    weights = cho_solve((chol, True), z, check_finite=False)
    value = 0.5 * z @ weights + np.log(np.diag(chol)).sum() + 0.5 * n * np.log(2 * np.pi)
    inverse, info = lapack.dpotri(chol, lower=1)
    if info:
        return 1e25, np.zeros_like(theta)
    inverse = np.tril(inverse) + np.tril(inverse, -1).T
    inner = np.outer(weights, weights) - inverse
    grad = np.empty_like(theta)
    grad[0] = -0.5 * np.sum(inner * k_signal)
    shaped = inner * signal * matern52_slope(r, decay)
    rows = shaped.sum(axis=1)
    for j in range(x.shape[1]):
        column = x[:, j]
        total = 2.0 * (column**2 @ rows - column @ shaped @ column)
        grad[1 + j] = -0.5 * total / lengths[j] ** 2
    grad[-1] = -0.5 * noise * np.trace(inner)
    penalty, penalty_grad = _prior(theta)
    return value + penalty, grad + penalty_grad


def fit_hyperparameters(x, z, alpha, restarts: int, rng: np.random.Generator) -> np.ndarray:
    """Maximum a posteriori ``theta`` (L-BFGS-B from the default start and
    ``restarts`` random ones, log-uniform within the bounds)."""
    d = x.shape[1]
    bounds = np.log([SIGNAL_BOUNDS, *[LENGTH_BOUNDS] * d, NOISE_BOUNDS])
    starts = [np.log(np.r_[1.0, np.full(d, 0.5), 1e-4])]
    starts += [rng.uniform(bounds[:, 0], bounds[:, 1]) for _ in range(restarts)]
    best = None
    for start in starts:
        result = minimize(negative_log_posterior, start, args=(x, z, alpha), jac=True,
                          method="L-BFGS-B", bounds=bounds)
        if best is None or result.fun < best.fun:
            best = result
    return best.x


def kernel_from_theta(theta: np.ndarray) -> Kernel:
    """The scikit-learn kernel ``s^2 * Matern52(l) + White(noise)`` for ``theta``."""
    signal, lengths, noise = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    return ConstantKernel(signal, SIGNAL_BOUNDS) * Matern(
        length_scale=lengths, length_scale_bounds=LENGTH_BOUNDS, nu=2.5
    ) + WhiteKernel(noise, NOISE_BOUNDS)


def stable_cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding growing diagonal jitter if needed."""
    jitter = 0.0
    scale = max(float(np.mean(np.diag(matrix))), 1e-12)
    for _ in range(8):
        try:
            return cholesky(matrix + jitter * np.eye(len(matrix)), lower=True, check_finite=False)
        except LinAlgError:
            jitter = scale * (1e-10 if jitter == 0.0 else jitter / scale * 100)
    raise LinAlgError(
        "the covariance matrix is not positive definite even with jitter "
        f"{jitter:.3g}; are there non-finite or duplicated inputs?"
    )


class GaussianProcessSurrogate:
    """A Gaussian process over the unit cube for one response.

    Parameters
    ----------
    seed : int, optional
        Random state of the hyperparameter restarts and of the subsets used
        for large campaigns.
    restarts : int, optional
        Optimiser restarts; default :func:`default_restarts` of the size.
    fit_size : int, default FIT_SIZE
        Hyperparameters are fitted on at most this many results.
    max_exact : int, default MAX_EXACT
        Exact conditioning up to this many results; above, subset of data.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((20, 2))
    >>> gp = GaussianProcessSurrogate(seed=0).fit(x, x.sum(axis=1))
    >>> mean, std = gp.predict([[0.5, 0.5]])
    """

    def __init__(
        self,
        seed: int | None = None,
        restarts: int | None = None,
        fit_size: int = FIT_SIZE,
        max_exact: int = MAX_EXACT,
    ):
        if restarts is not None and (int(restarts) != restarts or restarts < 0):
            raise ValueError(f"restarts must be a non-negative integer or None; got {restarts!r}.")
        for label, value in (("fit_size", fit_size), ("max_exact", max_exact)):
            if int(value) != value or value < 2:
                raise ValueError(f"{label} must be an integer >= 2; got {value!r}.")
        self.seed = seed
        self.restarts = restarts
        self.fit_size = int(fit_size)
        self.max_exact = int(max_exact)
        self.kernel_: Kernel | None = None
        self.n_train = 0

    # ------------------------------------------------------------------ fit
    @single_threaded
    def fit(self, x, y, noise_variance=None) -> "GaussianProcessSurrogate":
        """Fit to unit-cube inputs ``x`` (n, d) and responses ``y`` (n,).

        Rows with a non-finite response are left out. ``noise_variance``
        (n,), in response units squared, is known measurement noise per
        result, added to the fitted noise level (NaN entries: none known).
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float).ravel()
        if x.ndim != 2 or len(x) != len(y):
            raise ValueError(
                f"x must be shaped (n, d) with one row per response; got x {x.shape}, y {y.shape}."
            )
        keep = np.isfinite(y) & np.isfinite(x).all(axis=1)
        x, y = x[keep], y[keep]
        if len(y) < 2:
            raise ValueError(f"a surrogate needs at least 2 finite responses; got {len(y)}.")
        self.mean_ = float(y.mean())
        self.scale_ = float(y.std()) or 1.0
        z = (y - self.mean_) / self.scale_
        alpha = np.full(len(y), JITTER)
        if noise_variance is not None:
            known = np.asarray(noise_variance, float).ravel()[keep]
            alpha = alpha + np.where(np.isfinite(known), known, 0.0) / self.scale_**2

        rng = np.random.default_rng(self.seed)
        fit_rows = _subset(len(y), self.fit_size, rng)
        restarts = default_restarts(len(y)) if self.restarts is None else int(self.restarts)
        theta = fit_hyperparameters(x[fit_rows], z[fit_rows], alpha[fit_rows], restarts, rng)
        self.kernel_ = kernel_from_theta(theta)
        self.theta_ = theta
        self._fit_set = (x[fit_rows], z[fit_rows], alpha[fit_rows])
        rows = _subset(len(y), self.max_exact, rng)
        self._condition(x[rows], z[rows], alpha[rows])
        self.n_train = len(y)
        return self

    def _condition(self, x: np.ndarray, z: np.ndarray, alpha: np.ndarray) -> None:
        """Exact posterior given ``x``, standardised ``z`` and extra diagonal ``alpha``."""
        covariance = self.signal_kernel(x)
        covariance[np.diag_indices_from(covariance)] += self.noise_level + alpha
        self.x_train_, self.z_train_, self.extra_noise_ = x, z, alpha
        self.L_ = stable_cholesky(covariance)
        self.alpha_ = cho_solve((self.L_, True), z, check_finite=False)

    @single_threaded
    def conditioned(self, x, y, noise_variance=None) -> "GaussianProcessSurrogate":
        """A copy also conditioned on new results, with the current hyperparameters.

        No refit: the kernel and the standardisation stay; the Cholesky
        factor grows by the new rows (exact, ``O(n^2)`` per result instead of
        a fit's many ``O(n^3)`` steps). Rows with a non-finite response are
        left out; ``noise_variance`` as in :meth:`fit`. Above ``max_exact``
        conditioning points the copy keeps a random subset (drawn with the
        seed), as :meth:`fit` does.
        """
        self._check_fitted()
        x = np.asarray(x, float).reshape(-1, self.x_train_.shape[1])
        y = np.asarray(y, float).ravel()
        if len(x) != len(y):
            raise ValueError(f"x and y must have one row per result; got {x.shape} and {y.shape}.")
        keep = np.isfinite(y) & np.isfinite(x).all(axis=1)
        new = copy.copy(self)
        if not keep.any():
            return new
        x, z = x[keep], (y[keep] - self.mean_) / self.scale_
        extra = np.full(len(z), JITTER)
        if noise_variance is not None:
            known = np.asarray(noise_variance, float).ravel()[keep]
            extra = extra + np.where(np.isfinite(known), known, 0.0) / self.scale_**2
        new.n_train = self.n_train + len(z)
        x_all = np.vstack([self.x_train_, x])
        z_all = np.r_[self.z_train_, z]
        extra_all = np.r_[self.extra_noise_, extra]
        if len(z_all) > self.max_exact:
            rows = _subset(len(z_all), self.max_exact, np.random.default_rng([self.seed or 0, new.n_train]))
            new._condition(x_all[rows], z_all[rows], extra_all[rows])
            return new
        cross = solve_triangular(self.L_, self.signal_kernel(self.x_train_, x), lower=True,
                                 check_finite=False)
        block = self.signal_kernel(x)
        block[np.diag_indices_from(block)] += self.noise_level + extra
        corner = stable_cholesky(block - cross.T @ cross)
        n, m = len(self.z_train_), len(z)
        factor = np.zeros((n + m, n + m))
        factor[:n, :n] = self.L_
        factor[n:, :n] = cross.T
        factor[n:, n:] = corner
        new.x_train_, new.z_train_, new.extra_noise_, new.L_ = x_all, z_all, extra_all, factor
        new.alpha_ = cho_solve((factor, True), z_all, check_finite=False)
        return new

    # ----------------------------------------------------------- hyperparams
    @property
    def signal_kernel(self) -> Kernel:
        """Fitted ``s^2 * Matern52`` part of the kernel (standardised units)."""
        self._check_fitted()
        return self.kernel_.k1

    @property
    def noise_level(self) -> float:
        """Fitted noise variance in standardised units."""
        self._check_fitted()
        return float(self.kernel_.k2.noise_level)

    @property
    def signal_variance(self) -> float:
        """Prior variance of the latent function (standardised units)."""
        return float(self.signal_kernel.k1.constant_value)

    @property
    def length_scales(self) -> np.ndarray:
        """Fitted ARD length scales, in unit-cube coordinates."""
        return np.atleast_1d(self.signal_kernel.k2.length_scale).astype(float)

    @property
    def noise_variance(self) -> float:
        """Fitted measurement-noise variance, in response units squared."""
        return self.noise_level * self.scale_**2

    # --------------------------------------------------------------- predict
    @single_threaded
    def predict(self, x, return_std: bool = True):
        """Mean (and standard deviation) at unit-cube points ``x`` (m, d).

        The standard deviation is the uncertainty of the latent response
        (measurement noise excluded; add :attr:`noise_variance` for the spread
        of a new measurement). Both are in response units.
        """
        self._check_fitted()
        x = np.asarray(x, float)
        d = self.x_train_.shape[1]
        if x.ndim == 1 and x.size == d:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != d:
            raise ValueError(f"x must be shaped (m, {d}) in the unit cube; got shape {x.shape}.")
        mean = np.empty(len(x))
        std = np.empty(len(x))
        for start in range(0, len(x), PREDICT_CHUNK):
            part = slice(start, start + PREDICT_CHUNK)
            cross = self.signal_kernel(x[part], self.x_train_)
            mean[part] = cross @ self.alpha_
            if return_std:
                v = solve_triangular(self.L_, cross.T, lower=True, check_finite=False)
                var = self.signal_variance - np.einsum("ij,ij->j", v, v)
                std[part] = np.sqrt(np.clip(var, 0.0, None))
        mean = mean * self.scale_ + self.mean_
        return (mean, std * self.scale_) if return_std else mean

    @single_threaded
    def gradient(self, x) -> np.ndarray:
        """Gradient of the standardised posterior mean at unit-cube points ``x`` (m, d)."""
        self._check_fitted()
        x = np.asarray(x, float)
        lengths = np.broadcast_to(self.length_scales, (x.shape[1],))
        out = np.zeros_like(x)
        for start in range(0, len(x), PREDICT_CHUNK):
            part = x[start : start + PREDICT_CHUNK]
            r5 = matern52_radius(part, self.x_train_, lengths)
            # d/dx of s2 (1 + r5 + r5^2/3) exp(-r5), r5 = sqrt(5) |x - x'|/l, is
            # -s2 (5/3) (1 + r5) exp(-r5) (x - x') / l^2: two matrix products, no (m, n, d) tensor
            weights = (-self.signal_variance * matern52_slope(r5)) * self.alpha_
            out[start : start + len(part)] = (
                part * weights.sum(axis=1)[:, None] - weights @ self.x_train_) / lengths**2
        return out

    @single_threaded
    def loo_residuals(self) -> np.ndarray:
        """Leave-one-out prediction errors of the conditioning results, in
        standardised units (closed form, ``alpha_i / [K^-1]_ii``, with the
        fitted hyperparameters; ``O(n^3)``)."""
        self._check_fitted()
        inverse_diag = np.einsum(
            "ij,ij->j", *[solve_triangular(self.L_, np.eye(len(self.L_)), lower=True,
                                           check_finite=False)] * 2
        )
        return self.alpha_ / inverse_diag

    @single_threaded
    def hyperparameter_covariance(self, step: float = 1e-4) -> np.ndarray:
        """Laplace approximation of the hyperparameters' posterior: the
        covariance of ``theta = [log s^2, log l_1..l_d, log noise]``.

        The inverse of the Hessian of :func:`negative_log_posterior` at the
        fitted ``theta``, by finite differences of its gradient on the
        results the hyperparameters were fitted on (``d + 2`` gradient
        evaluations). Large where the data leave a hyperparameter poorly
        determined - a few results in many dimensions - and shrinking as
        results accumulate; the weak priors keep it finite.
        """
        self._check_fitted()
        x, z, alpha = self._fit_set
        theta = self.theta_
        _, base = negative_log_posterior(theta, x, z, alpha)
        hessian = np.empty((len(theta), len(theta)))
        for i in range(len(theta)):
            shifted = theta.copy()
            shifted[i] += step
            hessian[i] = (negative_log_posterior(shifted, x, z, alpha)[1] - base) / step
        hessian = 0.5 * (hessian + hessian.T)
        # A saddle or flat direction (e.g. a parameter at a bound) falls back
        # on the prior's curvature (LENGTH_PRIOR) there.
        values, vectors = np.linalg.eigh(hessian)
        values = np.maximum(values, 1.0 / LENGTH_PRIOR[1] ** 2)
        return (vectors / values) @ vectors.T

    def _check_fitted(self) -> None:
        if self.kernel_ is None:
            raise RuntimeError("the surrogate is not fitted yet: call fit(x, y) first.")

    def __repr__(self) -> str:
        if self.kernel_ is None:
            return "GaussianProcessSurrogate(unfitted)"
        return f"GaussianProcessSurrogate(n_train={self.n_train}, kernel={self.kernel_})"


def _subset(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """All ``n`` row indices, or ``size`` of them drawn at random (sorted)."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size, replace=False))


def condition_surrogates(models: list, x_unit, responses, variances=None) -> list:
    """``models`` (from :func:`fit_surrogates`) also conditioned on new results
    (``x_unit``, ``responses``, ``variances``: the new rows only), with their
    current hyperparameters; a ``None`` model stays ``None`` (refit with
    :func:`fit_surrogates` to give it one).
    """
    responses = np.asarray(responses, float)
    responses = responses[:, None] if responses.ndim == 1 else responses
    return [
        None if model is None else model.conditioned(
            x_unit, responses[:, k], None if variances is None else np.asarray(variances, float)[:, k])
        for k, model in enumerate(models)
    ]


def fit_surrogates(x_unit, responses, variances=None, seed=None) -> list | None:
    """One fitted surrogate per response column, or ``None`` below 2 results.

    A response with fewer than 2 finite values gets ``None`` in its place;
    ``None`` is returned when no response has a surrogate.
    """
    if responses is None:
        return None
    responses = np.asarray(responses, float)
    if responses.ndim == 1:
        responses = responses[:, None]
    models = []
    for k in range(responses.shape[1]):
        column = responses[:, k]
        if np.isfinite(column).sum() < 2:
            models.append(None)
            continue
        noise = None if variances is None else np.asarray(variances, float)[:, k]
        models.append(GaussianProcessSurrogate(seed=seed).fit(x_unit, column, noise))
    return models if any(m is not None for m in models) else None


class BatchPosterior:
    """Posterior covariance between reference and candidate points, updated
    exactly as points are added to a batch.

    Given the conditioning points ``known`` (evaluated or queued: the
    variance does not depend on responses), keeps ``Cov(R, C)`` between the
    reference set ``R`` and the candidates ``C`` as its value before the
    batch minus a low-rank term, and the candidates' variances. Conditioning
    on one more candidate (:meth:`add`) is an exact rank-one update, and the
    integrated-variance score of every candidate is updated with one
    matrix-vector product: a greedy batch of ``n`` costs
    ``O(n |R| |C|)`` after the ``O(m^2 (|R| + |C|))`` set-up for ``m``
    known points.

    Parameters
    ----------
    kernel : sklearn Kernel
        Covariance of the latent function (no noise term).
    noise : float
        Observation noise variance of every conditioning point, same units.
    known : (m, d) array
        Points already planned or evaluated.
    reference : (r, d) array
        Where the variance is integrated (uniform over the domain).
    candidates : (c, d) array
        Points a batch may choose from.
    weights : (r,) array, optional
        Weight of each reference point in the integral (default uniform).
    """

    def __init__(self, kernel: Kernel, noise: float, known, reference, candidates, weights=None):
        self.kernel = kernel
        self.noise = float(noise) + JITTER
        self.candidates = np.asarray(candidates, float)
        reference = np.asarray(reference, float)
        self.weights = np.ones(len(reference)) if weights is None else np.asarray(weights, float)
        self._cross = kernel(reference, self.candidates)
        self.candidate_var = kernel.diag(self.candidates).copy()
        self.reference_var = kernel.diag(reference).copy()
        self.prior_variance = float(self.reference_var.mean())
        known = np.asarray(known, float)
        if len(known):
            chol = stable_cholesky(kernel(known) + self.noise * np.eye(len(known)))
            v_ref = solve_triangular(chol, kernel(known, reference), lower=True, check_finite=False)
            self._v_cand = solve_triangular(
                chol, kernel(known, self.candidates), lower=True, check_finite=False
            )
            self._cross -= v_ref.T @ self._v_cand
            self.candidate_var -= np.einsum("ij,ij->j", self._v_cand, self._v_cand)
            self.reference_var -= np.einsum("ij,ij->j", v_ref, v_ref)
        else:
            self._v_cand = np.empty((0, len(self.candidates)))
        np.clip(self.candidate_var, 0.0, None, out=self.candidate_var)
        np.clip(self.reference_var, 0.0, None, out=self.reference_var)
        self._score = self.weights @ self._cross**2
        self._u_ref: list[np.ndarray] = []
        self._u_cand: list[np.ndarray] = []

    @property
    def cross(self) -> np.ndarray:
        """Current posterior covariance between reference points and candidates."""
        if not self._u_ref:
            return self._cross.copy()
        return self._cross - np.array(self._u_ref).T @ np.array(self._u_cand)

    def reduction(self) -> np.ndarray:
        """Weighted mean variance reduction over the reference points, per
        candidate, relative to the prior variance (integrated variance)."""
        gain = np.clip(self._score, 0.0, None) / (self.candidate_var + self.noise)
        return gain / (len(self.weights) * self.prior_variance)

    def mean_variance(self) -> float:
        """Mean posterior variance over the reference points, relative to the prior."""
        return float(self.reference_var.mean() / self.prior_variance)

    def covariance_with(self, j: int) -> np.ndarray:
        """Current posterior covariance between candidate ``j`` and all candidates."""
        column = self.kernel(self.candidates, self.candidates[j : j + 1])[:, 0]
        column -= self._v_cand.T @ self._v_cand[:, j]
        for u in self._u_cand:
            column -= u * u[j]
        return column

    def add(self, j: int) -> None:
        """Condition on candidate ``j`` (observed with noise)."""
        scale = np.sqrt(self.candidate_var[j] + self.noise)
        u_cand = self.covariance_with(j) / scale
        u_ref = self._cross[:, j].copy()
        for ur, uc in zip(self._u_ref, self._u_cand):
            u_ref -= ur * uc[j]
        u_ref /= scale
        # score_c = sum_r w_r cross_rc^2, with cross <- cross - u_ref u_cand^T
        weighted = self.weights * u_ref
        projected = weighted @ self._cross
        for ur, uc in zip(self._u_ref, self._u_cand):
            projected -= (weighted @ ur) * uc
        self._score += u_cand**2 * (weighted @ u_ref) - 2.0 * u_cand * projected
        self.candidate_var -= u_cand**2
        self.reference_var -= u_ref**2
        np.clip(self.candidate_var, 0.0, None, out=self.candidate_var)
        np.clip(self.reference_var, 0.0, None, out=self.reference_var)
        self._u_ref.append(u_ref)
        self._u_cand.append(u_cand)
