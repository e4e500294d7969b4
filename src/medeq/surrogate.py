"""Gaussian-process surrogate, one per response.

Inputs are points in the unit cube; outputs are standardised internally.
The kernel is an anisotropic (ARD) Matern-5/2 times a constant, plus a
fitted white-noise level.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel


class GaussianProcessSurrogate:
    """A Gaussian process over the unit cube for one response.

    Parameters
    ----------
    seed : int, optional
        Random state of the hyperparameter restarts.
    restarts : int, default 2
        Optimiser restarts of the kernel hyperparameters.
    """

    def __init__(self, seed: int | None = None, restarts: int = 2):
        self.seed = seed
        self.restarts = restarts
        self.model: GaussianProcessRegressor | None = None
        self.n_train = 0

    def fit(self, x: np.ndarray, y: np.ndarray, noise_variance: np.ndarray | None = None):
        """Fit to unit-cube inputs ``x`` (n, d) and responses ``y`` (n,); NaNs dropped.

        ``noise_variance`` (n,), in response units, adds known measurement
        noise per point (NaN entries: unknown, covered by the fitted noise).
        """
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        keep = np.isfinite(y)
        x, y = x[keep], y[keep]
        if len(y) < 2:
            raise ValueError(
                f"a surrogate needs at least 2 finite responses; got {len(y)}."
            )
        self.mean_, self.scale_ = float(y.mean()), float(y.std()) or 1.0
        alpha = 1e-10
        if noise_variance is not None:
            known = np.asarray(noise_variance, float)[keep]
            alpha = np.where(np.isfinite(known), known, 0.0) / self.scale_**2 + 1e-10
        d = x.shape[1]
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.full(d, 0.3), length_scale_bounds=(1e-2, 1e2), nu=2.5
        ) + WhiteKernel(1e-4, (1e-9, 1e0))
        self.model = GaussianProcessRegressor(
            kernel,
            alpha=alpha,
            normalize_y=False,
            n_restarts_optimizer=self.restarts,
            random_state=self.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(x, (y - self.mean_) / self.scale_)
        self.n_train = len(y)
        return self

    @property
    def noise_variance(self) -> float:
        """Fitted measurement-noise variance, in response units squared."""
        return float(self.model.kernel_.k2.noise_level) * self.scale_**2

    def predict(self, x: np.ndarray, return_std: bool = True):
        """Mean (and standard deviation) at unit-cube points ``x`` (n, d)."""
        if self.model is None:
            raise RuntimeError("the surrogate is not fitted yet.")
        if return_std:
            mean, std = self.model.predict(np.asarray(x, float), return_std=True)
            return mean * self.scale_ + self.mean_, std * self.scale_
        return self.model.predict(np.asarray(x, float)) * self.scale_ + self.mean_


def fit_surrogates(x_unit, responses, variances=None, seed=None):
    """One fitted surrogate per response column, or ``None`` below 2 results.

    A response with fewer than 2 finite values gets ``None`` in its place.
    """
    if responses is None:
        return None
    responses = np.asarray(responses, float)
    models = []
    for k in range(responses.shape[1]):
        column = responses[:, k]
        if np.isfinite(column).sum() < 2:
            models.append(None)
            continue
        noise = None if variances is None else variances[:, k]
        models.append(GaussianProcessSurrogate(seed=seed).fit(x_unit, column, noise))
    return models if any(m is not None for m in models) else None
