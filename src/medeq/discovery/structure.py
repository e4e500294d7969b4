"""Additive structure: a law that is a sum of terms in separate inputs.

``y = f(x, y) + g(z)`` is much easier to discover as two problems, ``f`` in
two inputs and ``g`` in one, than as one in three: the search space of each
is far smaller, and a search that found ``f`` does not lose it while it
looks for ``g``. A surrogate of the data (a Gaussian process) shows that
structure without any search:

- :func:`additive_groups` - inputs ``i`` and ``j`` interact when the mixed
  difference ``f(a) - f(a with x_i from b) - f(a with x_j from b) + f(a with
  x_i, x_j from b)`` is not zero; for random pairs of points ``a, b`` in the
  data's box, its mean square relative to ``4 var(f)`` (the value for a
  product of independent terms) is compared with ``INTERACTION``. The groups
  are the connected components of the interaction graph.
- :func:`components` - the target of each group: ``y`` minus the other
  groups' terms, each term estimated by the surrogate's partial dependence
  (its mean over the data's other inputs, centred).

:func:`medeq.discovery.engine.discover_arrays` searches each group's target
for a share of the budget and adds the sums of the groups' equations, with
their constants refitted on ``y``, to its candidates: the noise floor and
the hall of fame decide, as for any candidate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Mean square mixed difference, relative to 4 var(f), above which two inputs interact.
INTERACTION = 1e-4
#: Random point pairs used to measure the interactions.
PAIRS = 256
#: Data rows the partial dependences average over (fewer for large data:
#: at most GRID_POINTS surrogate evaluations per group).
REFERENCE_ROWS = 64
GRID_POINTS = 20000


def additive_groups(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                    seed: int | None = None) -> list[list[int]]:
    """Groups of inputs (column indices, sorted) that ``predict`` (the
    surrogate's mean, inputs as ``X``) is additive over; one group when it
    is not additive at all."""
    X = np.asarray(X, dtype=float)
    P = X.shape[1]
    if P < 2:
        return [list(range(P))]
    rng = np.random.default_rng(seed)
    low, high = X.min(axis=0), X.max(axis=0)
    a = rng.uniform(low, high, (PAIRS, P))
    b = rng.uniform(low, high, (PAIRS, P))
    f_a = predict(a)
    spread = float(np.var(np.concatenate([f_a, predict(b)])))
    if not spread > 0:
        return [list(range(P))]

    def swapped(*columns):
        points = a.copy()
        points[:, list(columns)] = b[:, list(columns)]
        return predict(points)

    single = [swapped(i) for i in range(P)]
    parent = list(range(P))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(P):
        for j in range(i + 1, P):
            mixed = f_a - single[i] - single[j] + swapped(i, j)
            if float(np.mean(mixed**2)) > INTERACTION * 4 * spread:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(P):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def components(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
               groups: list[list[int]], seed: int | None = None) -> list[np.ndarray]:
    """For each group, ``y`` minus the other groups' terms at the data (each
    the surrogate's centred partial dependence on that group's inputs)."""
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(seed)
    size = min(REFERENCE_ROWS, len(X), max(4, GRID_POINTS // max(len(X), 1)))
    rows = X[rng.choice(len(X), size=size, replace=False)]
    terms = []
    for group in groups:
        grid = np.repeat(rows[None, :, :], len(X), axis=0)          # (n, r, P)
        grid[:, :, group] = X[:, None, group]
        values = predict(grid.reshape(-1, X.shape[1])).reshape(len(X), len(rows)).mean(axis=1)
        terms.append(values - values.mean())
    total = np.sum(terms, axis=0)
    return [np.asarray(y, dtype=float) - (total - term) for term in terms]
