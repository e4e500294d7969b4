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

import functools
from abc import ABC, abstractmethod
import math
import warnings
from typing import Callable

import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import qmc

from .parameters import to_unit


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
        optimization = "random-cd" if self.d > 1 and n > 1 else None
        engine = qmc.LatinHypercube(self.d, optimization=optimization, seed=self.rng(med))
        return engine.random(n)


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

    The grid has ``k_1 * ... * k_d >= n`` nodes with the ``k_i`` as equal as
    possible; when it has more nodes than ``n``, ``n`` of them are taken
    evenly along the grid order.
    """

    def sample(self, n: int, med=None) -> np.ndarray:
        levels = lattice_levels(n, self.d)
        axes = [np.linspace(0, 1, k) if k > 1 else np.array([0.5]) for k in levels]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, self.d)
        pick = np.round(np.linspace(0, len(grid) - 1, n)).astype(int)
        return grid[pick]


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

    Without a surrogate, returns a space-filling batch that keeps away from
    the points already evaluated or queued (greedy maximin over a scrambled
    Sobol candidate pool).

    Parameters
    ----------
    d : int
        Number of dimensions.
    seed : int, optional
        Random seed.
    candidates : int, default 4096
        Size of the quasi-random candidate pool.
    """

    def __init__(self, d: int, seed: int | None = None, candidates: int = 4096):
        super().__init__(d, seed)
        if int(candidates) != candidates or candidates < 16:
            raise ValueError(f"candidates must be an integer >= 16; got {candidates!r}.")
        self.candidates = int(candidates)

    def settings(self) -> dict:
        return {"candidates": self.candidates}

    def sample(self, n: int, med=None) -> np.ndarray:
        existing = existing_unit_points(med, self.d)
        pool = candidate_pool(max(self.candidates, 8 * n), self.d, self.rng(med))
        return greedy_maximin(pool, existing, n)


def existing_unit_points(med, d: int) -> np.ndarray:
    """All samples of the campaign (evaluated and queued) in the unit cube."""
    if med is None or len(med.samples) == 0:
        return np.empty((0, d))
    return np.clip(to_unit(med.samples, med.parameters), 0, 1)


def candidate_pool(m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """A scrambled Sobol pool of about ``m`` candidates (a power of two)."""
    engine = qmc.Sobol(d, scramble=True, seed=rng)
    return engine.random_base2(max(4, math.ceil(math.log2(m))))


def greedy_maximin(pool: np.ndarray, existing: np.ndarray, n: int) -> np.ndarray:
    """Pick ``n`` pool points, each farthest from everything picked or existing."""
    if len(existing):
        nearest = cdist(pool, existing).min(axis=1)
    else:
        # No points yet: start from the candidate closest to the centre.
        nearest = np.full(len(pool), np.inf)
        nearest[np.argmin(((pool - 0.5) ** 2).sum(axis=1))] = np.finfo(float).max
    chosen = []
    for _ in range(n):
        best = int(np.argmax(nearest))
        chosen.append(best)
        nearest = np.minimum(nearest, np.sqrt(((pool - pool[best]) ** 2).sum(axis=1)))
    return pool[chosen]


class FunctionSampler:
    """A sampler wrapping a function ``f(n, med) -> (n, d)`` unit-cube array."""

    def __init__(self, function: Callable, d: int | None = None, seed: int | None = None):
        self.function = function
        self.d = d
        self.seed = seed
        functools.update_wrapper(self, function)

    def sample(self, n: int, med=None) -> np.ndarray:
        return self.function(n, med)

    def __repr__(self) -> str:
        return f"sampler({getattr(self.function, '__name__', repr(self.function))})"


def sampler(function: Callable) -> type:
    """Turn a function ``f(n, med)`` into a sampler class usable by ``MED``.

    The returned class is constructed as ``cls(d, seed=seed)`` like the
    built-in samplers; its ``sample(n, med)`` calls ``f(n, med)``, which must
    return ``n`` points in the unit cube.

    Examples
    --------
    >>> import numpy as np, medeq
    >>> @medeq.sampler
    ... def corners(n, med):
    ...     return np.random.default_rng(med.seed).integers(0, 2, (n, len(med.parameters)))
    >>> med = medeq.MED(medeq.create_parameters(["A"], [0.], [1.]), sampler=corners)
    """
    if not callable(function):
        raise TypeError(f"@sampler decorates a function f(n, med); got {function!r}.")

    class Wrapped(FunctionSampler):
        def __init__(self, d: int | None = None, seed: int | None = None):
            super().__init__(function, d, seed)

    Wrapped.__name__ = Wrapped.__qualname__ = getattr(function, "__name__", "FunctionSampler")
    Wrapped.__doc__ = function.__doc__
    return Wrapped


BUILTIN_SAMPLERS = {
    cls.__name__: cls
    for cls in (RandomSampler, LatinSampler, SobolSampler, LatticeSampler, DVASampler)
}
