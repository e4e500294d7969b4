"""Deterministic candidate equations from linear algebra, added to the search.

Genetic programming is good at shapes and poor at exact algebra; linear
algebra is the reverse. Before the backend runs, two cheap generators
propose equations that join its candidates (the hall of fame decides):

- :func:`power_laws` - ``y = C * prod(x_i ** a_i)``: least squares of
  ``ln|y|`` on ``ln x_i`` (positive inputs), exponents rounded to halves;
- :func:`rational_functions` - ``t(y) = P(x) / Q(x)`` with polynomials
  ``P``, ``Q`` of increasing degrees and ``t`` the identity or the square
  (then ``y = sqrt(P/Q)``): the smallest singular vector of the linearised
  system ``t(y) Q(x) - P(x) = 0``; the first (lowest-degree) exact solution
  is kept, and nothing if none is exact.

A generator only proposes equations the chosen operators can write (e.g. a
square root needs ``sqrt`` or ``^``; rational functions need ``+ * /``).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import sympy as sp

from .expressions import canonical_operator, normalise_ratio

logger = logging.getLogger(__name__)

#: Degree pairs (numerator, denominator) tried, simplest first.
DEGREES = (
    (1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (1, 2), (2, 1), (2, 2), (3, 0), (3, 1),
    (3, 2), (2, 3), (4, 0), (3, 3), (4, 2), (4, 4),
)
#: Relative residual below which a linear solution counts as exact.
EXACT_RESIDUAL = 1e-9
#: Rows per unknown needed before a system is attempted.
ROWS_PER_UNKNOWN = 1.5


def candidates(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], operators: Sequence[str],
    time_limit: float = 5.0,
) -> list[sp.Expr]:
    """All generated candidates for ``y = f(X)`` expressible with ``operators``."""
    ops = {canonical_operator(o) for o in operators}
    found = power_laws(X, y, symbols, ops)
    found += rational_functions(X, y, symbols, ops, time_limit=time_limit)
    return found


def power_laws(X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], ops: set[str]) -> list[sp.Expr]:
    """``C * prod(x_i ** a_i)`` fitted in log space, exponents rounded to halves."""
    positive = [i for i in range(X.shape[1]) if np.all(X[:, i] > 0)]
    if not positive or not "*" in ops or not (np.all(y > 0) or np.all(y < 0)):
        return []
    sign = 1.0 if y[0] > 0 else -1.0
    A = np.column_stack([np.ones(len(y)), np.log(X[:, positive])])
    coefficients, *_ = np.linalg.lstsq(A, np.log(np.abs(y)), rcond=None)
    halves = np.round(2 * coefficients[1:]) / 2
    if np.all(halves == 0):
        return []
    if np.any(halves < 0) and "/" not in ops:
        return []
    if np.any(halves % 1 != 0) and not ({"sqrt", "^"} & ops):
        return []
    log_c = float(np.mean(np.log(np.abs(y)) - np.log(X[:, positive]) @ halves))
    expr = sp.Float(sign * math.exp(log_c))
    for i, a in zip(positive, halves):
        if a:
            expr *= symbols[i] ** sp.Rational(int(2 * a), 2)
    return [expr]


def rational_functions(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], ops: set[str],
    time_limit: float = 5.0,
) -> list[sp.Expr]:
    """The lowest-degree exact ``t(y) = P(x)/Q(x)`` for ``t`` in (identity, square)."""
    if not {"+", "*"} <= ops:
        return []
    transforms = [("identity", y)]
    if ({"sqrt", "^"} & ops) and (np.all(y >= 0) or np.all(y <= 0)):
        transforms.append(("square", y**2))
    start = time.monotonic()
    for numerator, denominator in DEGREES:  # both transforms, simplest degrees first
        if denominator and "/" not in ops:
            continue
        for name, target in transforms:
            if time.monotonic() - start > time_limit:
                return []
            expr = _solve(X, target, symbols, numerator, denominator)
            if expr is None:
                continue
            if name == "square":
                expr = sp.sqrt(expr) if np.all(y >= 0) else -sp.sqrt(expr)
            logger.info("rational %s fit of degrees (%d, %d): %s", name, numerator, denominator, expr)
            return [expr]  # exact: higher degrees or other transforms add nothing
    return []


def _monomials(P: int, degree: int) -> list[tuple[int, ...]]:
    """Exponent tuples of all monomials of total degree <= ``degree``."""
    out = []
    for total in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(P), total):
            exponents = [0] * P
            for i in combo:
                exponents[i] += 1
            out.append(tuple(exponents))
    return out


def _solve(X, t, symbols, numerator: int, denominator: int) -> sp.Expr | None:
    """Exact ``t = P/Q`` of the given degrees, or ``None``."""
    P = X.shape[1]
    top, bottom = _monomials(P, numerator), _monomials(P, denominator)
    unknowns = len(top) + len(bottom)
    if len(t) < ROWS_PER_UNKNOWN * unknowns or unknowns > 300:
        return None
    # Inputs scaled to order one for conditioning; undone in the expression.
    scale = np.sqrt(np.mean(X**2, axis=0))
    scale[scale == 0] = 1.0
    Z = X / scale
    t_scale = float(np.sqrt(np.mean(t**2))) or 1.0
    u = t / t_scale

    def basis(exponents):
        return np.column_stack([np.prod(Z ** np.array(e), axis=1) for e in exponents])

    top_columns = basis(top)
    M = np.hstack([u[:, None] * basis(bottom), -top_columns])
    norms = np.linalg.norm(M, axis=0)
    if np.any(norms == 0) or not np.all(np.isfinite(M)):
        return None
    _, singular, vt = np.linalg.svd(M / norms, full_matrices=False)
    if singular[-1] > EXACT_RESIDUAL * singular[0] or (len(singular) > 1 and singular[-2] < 1e3 * singular[-1]):
        return None  # no exact solution, or not a unique one at these degrees
    w = vt[-1] / norms
    q, p = w[: len(bottom)], w[len(bottom):]
    pivot = q[np.argmax(np.abs(q))]
    q, p = q / pivot, p / pivot
    threshold = 1e-9 * max(np.max(np.abs(q)), np.max(np.abs(p)))
    z = [s / sp.Float(float(c)) for s, c in zip(symbols, scale)]

    def polynomial(coefficients, exponents):
        terms = [sp.Float(float(c)) * sp.Mul(*[zi**e for zi, e in zip(z, ex)])
                 for c, ex in zip(coefficients, exponents) if abs(c) > threshold]
        return sp.Add(*terms)

    numer, denom = sp.fraction(sp.together(sp.Float(t_scale) * polynomial(p, top) / polynomial(q, bottom)))
    return normalise_ratio(sp.expand(numer) / sp.expand(denom))
