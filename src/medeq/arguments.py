"""Validation of the arguments of :class:`medeq.MED` and its methods."""

from __future__ import annotations

import secrets

import numpy as np


def selection(select, n: int) -> np.ndarray:
    """Sorted row indices from a mask, indices or a slice over ``n`` rows."""
    if isinstance(select, slice):
        return np.arange(n)[select]
    arr = np.asarray(select)
    if arr.size == 0:
        return np.array([], dtype=int)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"a boolean mask must have one entry per evaluated sample ({n}); got shape {arr.shape}.")
        return np.nonzero(arr)[0]
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"select must be a boolean mask, integer indices or a slice; got {select!r}.")
    if arr.size and (arr.min() < -n or arr.max() >= n):
        raise ValueError(f"select has indices outside the {n} evaluated samples: {arr.tolist()}.")
    arr = arr % n if n else arr
    if len(np.unique(arr)) != len(arr):
        raise ValueError(f"select has repeated indices: {arr.tolist()}.")
    return np.sort(arr)


def check_seed(seed) -> int:
    """A non-negative integer seed; ``None`` draws one."""
    if seed is None:
        return secrets.randbelow(100_000)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}.")
    return int(seed)


def check_verbose(verbose) -> int:
    """Verbosity level 0-5 (``True``/``False`` mean 3/0)."""
    if isinstance(verbose, bool):
        return 3 if verbose else 0
    if not isinstance(verbose, (int, np.integer)) or not 0 <= verbose <= 5:
        raise ValueError(f"verbose must be an integer between 0 and 5; got {verbose!r}.")
    return int(verbose)


def build_sampler(sampler, d: int, seed: int):
    """A sampler object: classes are constructed as ``cls(d, seed=seed)``."""
    if isinstance(sampler, type):
        sampler = sampler(d, seed=seed)
    if not callable(getattr(sampler, "sample", None)):
        raise TypeError(
            f"sampler must be a class or an object with a .sample(n, med) method; got {sampler!r}. "
            "Wrap a function f(n, med) with @medeq.sampler."
        )
    return sampler


def check_scheduler(scheduler):
    """A scheduler object with ``.map`` or ``None``."""
    if scheduler is not None and not callable(getattr(scheduler, "map", None)):
        raise TypeError(
            f"scheduler must be a medeq.Scheduler (e.g. medeq.LocalScheduler()) or None; got {scheduler!r}."
        )
    return scheduler


def name_index(value, names: list[str], kind: str) -> int:
    """Index of ``value`` given by name or position in ``names``.

    ``kind`` ("response", "parameter") names the thing in errors.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        if -len(names) <= value < len(names):
            return int(value) % len(names)
        raise ValueError(f"{kind} index {value} is out of range for {kind}s {names}.")
    if value in names:
        return names.index(value)
    raise ValueError(f"unknown {kind} {value!r}; the {kind}s are {names}.")
