"""Samplers: choose the next points to evaluate, in the unit cube.

A sampler is any object with a ``sample(n, med)`` method returning an
``(n, d)`` array in ``[0, 1]^d``; ``MED`` scales it to the parameter bounds.
Built-in samplers are constructed as ``cls(d, seed=seed)`` and are
stateless beyond their settings: each call derives its random stream from
the seed and the number of samples the campaign already holds, so a
campaign saved, loaded and resumed draws exactly what it would have drawn.

A sampler reads the campaign (``med.samples``, ``med.evaluated``,
``med.gp``...) but never changes it.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
from scipy.stats import qmc
from sklearn.gaussian_process.kernels import Matern
from threadpoolctl import threadpool_limits

from .parameters import from_unit, to_unit
from .surrogate import BatchPosterior

#: DVASampler conditions on at most this many known points (a farthest-point
#: subset above), which bounds the cost of a batch for very large campaigns.
MAX_KNOWN = 1000
#: DVASampler hedges over length scales (``hedge`` draws) up to this many results.
HEDGE_RESULTS = 200


class Sampler(ABC):
    """Base class of the built-in samplers.

    Parameters
    ----------
    d : int
        Number of dimensions (free parameters).
    seed : int, optional
        Random seed; the same seed gives the same designs.
    """

    def __init__(self, d: int, seed: int | None = None):
        if int(d) != d or d < 1:
            raise ValueError(f"d must be a positive integer (number of parameters); got {d!r}.")
        self.d = int(d)
        self.seed = seed

    def settings(self) -> dict:
        """Constructor arguments beyond ``d`` and ``seed`` (saved with a campaign)."""
        return {}

    def rng(self, med=None) -> np.random.Generator:
        """Random generator for the next call, derived from seed and campaign size."""
        drawn = 0 if med is None else len(med.samples)
        return np.random.default_rng([self.seed if self.seed is not None else 0, drawn])

    @abstractmethod
    def sample(self, n: int, med=None) -> np.ndarray:
        """Return ``n`` points in the unit cube, shaped ``(n, d)``."""

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}(d={self.d}, seed={self.seed}{extra})"


class RandomSampler(Sampler):
    """Independent uniform random points."""

    def sample(self, n: int, med=None) -> np.ndarray:
        return self.rng(med).random((n, self.d))


class LatinSampler(Sampler):
    """Latin hypercube design (centred-discrepancy optimised for d > 1)."""

    def sample(self, n: int, med=None) -> np.ndarray:
        return latin_design(n, self.d, self.rng(med))


def latin_design(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """An ``(n, d)`` Latin hypercube, centred-discrepancy optimised when d, n > 1."""
    optimization = "random-cd" if d > 1 and n > 1 else None
    return qmc.LatinHypercube(d, optimization=optimization, seed=rng).random(n)


class SobolSampler(Sampler):
    """Scrambled Sobol sequence, continued across calls.

    The sequence is fast-forwarded past the samples the campaign already
    has, so successive batches together form one low-discrepancy sequence.
    """

    def sample(self, n: int, med=None) -> np.ndarray:
        engine = qmc.Sobol(self.d, scramble=True, seed=self.seed)
        drawn = 0 if med is None else len(med.samples)
        if drawn:
            engine.fast_forward(drawn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance needs 2^m points
            return engine.random(n)


class LatticeSampler(Sampler):
    """Full-factorial lattice (grid including the bounds), exactly ``n`` points.

    The grid has ``k_1 * ... * k_d >= n`` nodes (counting the campaign's
    existing samples) with the ``k_i`` as equal as possible; nodes already
    sampled are skipped, and ``n`` of the others are taken evenly along the
    grid order. Nodes that integer parameters round to the same point count
    once; the grid is refined while too few nodes are new.
    """

    def sample(self, n: int, med=None) -> np.ndarray:
        existing = existing_unit_points(med, self.d)
        total = n + len(existing)
        while True:
            grid = lattice_grid(lattice_levels(total, self.d))
            free = grid
            if med is not None:
                # Nodes as the campaign would store them (an integer parameter's
                # nodes become the middle of their bin), compared with its samples.
                nodes = np.clip(to_unit(from_unit(grid, med.parameters), med.parameters), 0, 1)
                _, first = np.unique(nodes, axis=0, return_index=True)
                distinct = np.zeros(len(grid), bool)
                distinct[first] = True
                taken = (np.abs(nodes[:, None, :] - existing[None, :, :]).max(axis=2) < 1e-9).any(axis=1)
                free = grid[distinct & ~taken]
            # Integer parameters merge nodes: refine the grid until n are new,
            # or take nodes again once (nearly) every combination is used.
            if len(free) >= n or total >= 8 * (n + len(existing)):
                break
            total *= 2
        if len(free) < n:
            free = grid
        pick = np.round(np.linspace(0, len(free) - 1, n)).astype(int)
        return free[pick]


def lattice_grid(levels: list[int]) -> np.ndarray:
    """Every node of a grid with ``levels[i]`` nodes along axis ``i`` (bounds included)."""
    axes = [np.linspace(0, 1, k) if k > 1 else np.array([0.5]) for k in levels]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(levels))


def lattice_levels(n: int, d: int) -> list[int]:
    """Levels per dimension of the smallest balanced grid holding ``n`` points."""
    base = max(1, math.floor(n ** (1 / d)))
    levels = [base] * d
    i = 0
    while math.prod(levels) < n:
        levels[i % d] += 1
        i += 1
    return levels


class DVASampler(Sampler):
    """Targets the most uncertain regions while maximising the area covered.

    * No sample yet: an optimised Latin hypercube (centred discrepancy).
    * Samples but no surrogate yet (fewer than 2 results, e.g. all queued):
      a space-filling batch that keeps away from every queued or evaluated
      point (the variance criterion below under an isotropic Matern-5/2
      prior whose length scale is the spacing of the final design).
    * With surrogates (``med.gp``): a batch chosen greedily from a scrambled
      Sobol candidate pool to reduce the surrogates' *integrated* posterior
      variance the most (IMSE: the weighted mean variance over a second,
      uniform Sobol reference set). After each pick the posterior covariance
      is updated exactly (rank one, :class:`medeq.surrogate.BatchPosterior`):
      a Gaussian process' variance does not depend on the responses, so the
      points already picked, the queue and the evaluated samples (failed
      ones included, so they are not retried) all count. Integrating the
      variance, rather than taking its maximum, keeps points off the
      boundaries and spreads the batch: it is what a low prediction error
      asks for.

    Every response with a surrogate counts: its fitted ARD kernel (length
    scales floored at ``floor`` times the final design's spacing, since a
    few early results often give spuriously short ones) and noise level; the
    relative variance reductions of all responses are summed. ``focus``
    weights the reference points by where each surrogate's mean changes
    fastest (``1 - focus + focus |grad|^2 / mean |grad|^2``), which is where
    a stationary model errs most. With ``refine > 0`` a second greedy pass
    re-chooses the batch among the first batch and ``refine`` random
    perturbations of each of its points.

    Hedging against overconfident hyperparameters (options, off by
    default): early in a campaign (up to :data:`HEDGE_RESULTS` results) ARD
    length scales rest on a handful of results, and a design made for one
    wrong fit can leave an input it believes unimportant unexplored.
    ``hedge > 0`` integrates the variance over that many further
    length-scale vectors drawn from the Laplace approximation of their
    posterior (antithetic pairs), which spread where the data say little
    and collapse onto the fit as results accumulate. ``explore > 0`` adds
    an isotropic, purely space-filling kernel whose share is ``explore``
    times the surrogate's leave-one-out error (relative mean square, at
    most 1): large while the model predicts its own results badly,
    vanishing as it earns trust. Measured on the tuning functions of
    ``benchmarks/sampling.py`` (seeds 0-4), neither beat the unhedged
    design (README, "Adaptive sampling"), so both default to off.

    Deterministic for a given seed and campaign. On this 2-core machine a
    ``sample(32)`` with 500 results in 6 dimensions takes well under a second
    (``benchmarks/sampling.py``).

    Parameters
    ----------
    d : int
        Number of dimensions.
    seed : int, optional
        Random seed.
    candidates : int, default 1024
        Size of the quasi-random candidate pool (rounded up to a power of
        two, and at least ``4 n``).
    reference : int, default 512
        Size of the quasi-random set the variance is integrated over.
    floor : float, default 1.0
        Smallest design length scale, as a fraction of ``N^(-1/d)`` for the
        ``N`` points the campaign will hold after this batch.
    focus : float, default 0.7
        Between 0 (pure integrated variance) and 1 (variance weighted by
        the squared slope of the surrogate's mean).
    refine : int, default 0
        Local perturbations per point for the second greedy pass (0: none).
    hedge : int, default 0
        Length-scale draws per response from the Laplace approximation of
        the hyperparameters (0: design for the fitted kernel only).
    explore : float, default 0.0
        Weight of the space-filling kernel per unit of the surrogate's
        relative leave-one-out mean squared error (0: none).
    """

    def __init__(
        self,
        d: int,
        seed: int | None = None,
        candidates: int = 1024,
        reference: int = 512,
        floor: float = 1.0,
        focus: float = 0.7,
        refine: int = 0,
        hedge: int = 0,
        explore: float = 0.0,
    ):
        super().__init__(d, seed)
        for label, value in (("candidates", candidates), ("reference", reference)):
            if isinstance(value, bool) or int(value) != value or value < 16:
                raise ValueError(f"{label} must be an integer >= 16; got {value!r}.")
        if not floor >= 0:
            raise ValueError(f"floor must be a non-negative number; got {floor!r}.")
        if not 0 <= focus <= 1:
            raise ValueError(f"focus must be between 0 and 1; got {focus!r}.")
        if isinstance(refine, bool) or int(refine) != refine or refine < 0:
            raise ValueError(f"refine must be a non-negative integer; got {refine!r}.")
        self.candidates = int(candidates)
        self.reference = int(reference)
        self.floor = float(floor)
        self.focus = float(focus)
        self.refine = int(refine)
        if isinstance(hedge, bool) or int(hedge) != hedge or hedge < 0:
            raise ValueError(f"hedge must be a non-negative integer; got {hedge!r}.")
        if not explore >= 0:
            raise ValueError(f"explore must be a non-negative number; got {explore!r}.")
        self.hedge = int(hedge)
        self.explore = float(explore)

    def settings(self) -> dict:
        return {
            "candidates": self.candidates,
            "reference": self.reference,
            "floor": self.floor,
            "focus": self.focus,
            "refine": self.refine,
            "hedge": self.hedge,
            "explore": self.explore,
        }

    def sample(self, n: int, med=None) -> np.ndarray:
        rng = self.rng(med)
        known = existing_unit_points(med, self.d)
        if len(known) == 0:
            # scipy's centred-discrepancy optimisation: about a second once
            # per campaign, and far more uniform than the best of many
            # random Latin hypercubes in 6-8 dimensions (measured).
            return latin_design(n, self.d, rng)
        pool = candidate_pool(max(self.candidates, 4 * n), self.d, rng)
        reference = candidate_pool(self.reference, self.d, rng)
        members = self.design_members(med, len(known) + n, reference, rng)
        known = farthest_subset(known, MAX_KNOWN)
        with threadpool_limits(limits=1, user_api="blas"):
            batch = self._greedy(members, known, reference, pool, n)
            if self.refine:
                # Second pass over small perturbations of the first batch.
                scale = 0.25 * (len(known) + n) ** (-1.0 / self.d)
                local = batch[:, None, :] + rng.normal(0, scale, (n, self.refine, self.d))
                local = np.vstack([batch, np.clip(local, 0, 1).reshape(-1, self.d)])
                batch = self._greedy(members, known, reference, local, n)
            return batch

    @staticmethod
    def _greedy(members, known, reference, pool, n) -> np.ndarray:
        posteriors = [
            BatchPosterior(kernel, noise, known, reference, pool, weights)
            for kernel, noise, weights, _ in members
        ]
        return greedy_variance_batch(posteriors, n, [share for *_, share in members])

    def design_members(self, med, total: int, reference: np.ndarray, rng) -> list:
        """``(kernel, noise, reference weights, share)`` of every model the
        batch's integrated variance is summed over.

        Per response: its fitted kernel (:meth:`design_kernels`) and, while
        the hyperparameters are poorly determined, ``hedge`` draws from their
        Laplace approximation (:meth:`hedge_lengths`), sharing the response's
        unit weight. ``explore`` adds an isotropic kernel at the design's
        spacing (pure space filling) with that share.
        """
        models = [m for m in (getattr(med, "gp", None) or []) if m is not None]
        spacing = total ** (-1.0 / self.d)
        if not models:
            return [(Matern(np.full(self.d, spacing), nu=2.5), 1e-6, None, 1.0)]
        members = []
        for model, (kernel, noise), weights in zip(
            models, self.design_kernels(med, total), self.reference_weights(med, reference)
        ):
            draws = self.hedge_lengths(model, total, rng)
            share = 1.0 / (1 + len(draws))
            members.append((kernel, noise, weights, share))
            members += [(Matern(lengths, nu=2.5), noise, weights, share) for lengths in draws]
        share = sum(self.explore_share(model) for model in models)
        if share > 0:
            members.append((Matern(np.full(self.d, spacing), nu=2.5), 1e-6, None, share))
        return members

    def explore_share(self, model) -> float:
        """Share of pure space filling for one response: ``explore`` times
        the surrogate's leave-one-out mean squared error relative to the
        responses' variance (0 for a model that predicts its own results
        well, about 1 for one that explains nothing), at most 1.

        Computed up to ``HEDGE_RESULTS`` results; above, the model has had
        its chance to earn trust and the share is 0.
        """
        if not self.explore or getattr(model, "n_train", HEDGE_RESULTS + 1) > HEDGE_RESULTS:
            return 0.0
        if not hasattr(model, "loo_residuals"):
            return 0.0
        return float(min(1.0, self.explore * np.mean(model.loo_residuals() ** 2)))

    def hedge_lengths(self, model, total: int, rng) -> list:
        """``hedge`` plausible alternatives to a surrogate's length scales.

        Antithetic pairs drawn from the Laplace approximation of the length
        scales' posterior (:meth:`GaussianProcessSurrogate.hyperparameter_covariance`),
        floored like the fitted ones. Early in a campaign, ARD length scales
        rest on a handful of results: designing for one overconfident fit
        can leave a wrongly "unimportant" direction unexplored for good;
        integrating the variance over these draws as well hedges against it.
        Empty when ``hedge`` is 0, when the surrogate has no fit set (not a
        :class:`GaussianProcessSurrogate`), or above ``HEDGE_RESULTS``
        results, where the draws cost more than they hedge.
        """
        if not self.hedge or getattr(model, "n_train", HEDGE_RESULTS + 1) > HEDGE_RESULTS:
            return []
        if not hasattr(model, "hyperparameter_covariance"):
            return []
        covariance = model.hyperparameter_covariance()[1:-1, 1:-1]
        root = np.linalg.cholesky(covariance + 1e-12 * np.eye(self.d))
        centre = np.log(np.broadcast_to(model.length_scales, (self.d,)))
        floor = self.floor * total ** (-1.0 / self.d)
        draws = []
        for k in range(self.hedge):
            if k % 2 == 0:
                step = root @ rng.standard_normal(self.d)
            lengths = np.exp(np.clip(centre + (step if k % 2 == 0 else -step), -5.0, 5.0))
            draws.append(np.maximum(lengths, floor))
        return draws

    def design_kernels(self, med, total: int) -> list:
        """``(kernel, noise)`` per response used to design the batch.

        Kernels have unit signal variance (variance reductions are relative)
        and the surrogate's length scales, floored at ``floor`` times the
        spacing of ``total`` points: no design can resolve finer scales, and
        a few early results often give spuriously short ones. Without
        surrogates, one isotropic kernel at that spacing (space filling).
        """
        spacing = total ** (-1.0 / self.d)
        models = [m for m in (getattr(med, "gp", None) or []) if m is not None]
        if not models:
            return [(Matern(np.full(self.d, spacing), nu=2.5), 1e-6)]
        kernels = []
        for model in models:
            lengths = np.maximum(np.broadcast_to(model.length_scales, (self.d,)), self.floor * spacing)
            kernels.append((Matern(lengths, nu=2.5), design_noise(model)))
        return kernels

    def reference_weights(self, med, reference: np.ndarray) -> list:
        """Weight of every reference point, per response (mean 1).

        ``1 - focus + focus * |grad mean|^2 / average``: regions where the
        surrogate's mean changes fast are where a stationary model errs
        most, so they get more points.
        """
        models = [m for m in (getattr(med, "gp", None) or []) if m is not None]
        if not models or self.focus == 0.0:
            return [None] * max(len(models), 1)
        weights = []
        for model in models:
            slope = (model.gradient(reference) ** 2).sum(axis=1)
            mean = slope.mean()
            relative = slope / mean if mean > 0 else np.ones_like(slope)
            weights.append(1.0 - self.focus + self.focus * relative)
        return weights


def design_noise(model) -> float:
    """A surrogate's noise level relative to its signal variance (the unit
    signal kernels of a design), at least ``1e-6``."""
    return max(model.noise_level / max(model.signal_variance, 1e-12), 1e-6)


def greedy_variance_batch(posteriors: list, n: int, shares=None) -> np.ndarray:
    """Greedy batch over the posteriors' common candidate pool (IMSE summed,
    weighted by ``shares``: default 1 each)."""
    pool = posteriors[0].candidates
    shares = [1.0] * len(posteriors) if shares is None else shares
    taken = np.zeros(len(pool), bool)
    chosen = []
    for _ in range(n):
        score = sum(share * p.reduction() for share, p in zip(shares, posteriors))
        score[taken] = -np.inf
        best = int(np.argmax(score))
        taken[best] = True
        chosen.append(best)
        for p in posteriors:
            p.add(best)
    return pool[chosen]


def farthest_subset(points: np.ndarray, m: int) -> np.ndarray:
    """``points`` if at most ``m``, else ``m`` of them chosen by farthest-point
    traversal (a space-filling subset that keeps the coverage)."""
    if len(points) <= m:
        return points
    squares = np.einsum("ij,ij->i", points, points)
    nearest = ((points - points.mean(axis=0)) ** 2).sum(axis=1)
    chosen = [int(np.argmin(nearest))]
    nearest = squares - 2.0 * points @ points[chosen[0]] + squares[chosen[0]]
    for _ in range(m - 1):
        best = int(np.argmax(nearest))
        chosen.append(best)
        # |a - b|^2 = |a|^2 - 2 a.b + |b|^2: one matrix-vector product per step
        np.minimum(nearest, squares - 2.0 * points @ points[best] + squares[best], out=nearest)
    return points[np.sort(chosen)]


def existing_unit_points(med, d: int) -> np.ndarray:
    """All samples of the campaign (evaluated, failed and queued) in the unit cube."""
    if med is None or len(med.samples) == 0:
        return np.empty((0, d))
    return np.clip(to_unit(med.samples, med.parameters), 0, 1)


def candidate_pool(m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """A scrambled Sobol pool of about ``m`` candidates (a power of two)."""
    engine = qmc.Sobol(d, scramble=True, seed=rng)
    return engine.random_base2(max(4, math.ceil(math.log2(m))))


def sampler(function: Callable) -> Callable:
    """Make a function a sampler: attach a ``.sample`` that forwards to it.

    A sampler is any object with a ``.sample(n, med)`` method returning ``n``
    points in the unit cube; ``MED`` calls ``sampler.sample(n, med)``. This
    decorator returns ``function`` itself - still callable exactly as before
    - with ``function.sample`` forwarding its arguments unchanged, so write
    the function as ``f(n, med)``. To save a campaign using it, pass
    ``pickle_sampler=True`` to ``MED.save`` (like any custom sampler).

    Examples
    --------
    >>> import numpy as np, medeq
    >>> @medeq.sampler
    ... def corners(n, med=None):
    ...     return np.random.default_rng(0).integers(0, 2, (n, 2)).astype(float)
    >>> corners.sample(3).shape == corners(3).shape == (3, 2)
    True
    >>> med = medeq.MED(medeq.create_parameters(["A", "B"], [0., 0.], [1., 1.]), sampler=corners)
    """
    if not callable(function):
        raise TypeError(f"@sampler decorates a function f(n, med); got {function!r}.")
    try:
        function.sample = function
    except (AttributeError, TypeError):
        raise TypeError(
            f"@sampler cannot attach .sample to {function!r}; wrap it in a def, or use an "
            "object with a .sample(n, med) method."
        ) from None
    return function


BUILTIN_SAMPLERS = {
    cls.__name__: cls
    for cls in (RandomSampler, LatinSampler, SobolSampler, LatticeSampler, DVASampler)
}
