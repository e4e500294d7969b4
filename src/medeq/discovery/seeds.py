"""Deterministic candidate equations from linear algebra, added to the search.

Genetic programming is good at shapes and poor at exact algebra; linear
algebra is the reverse. Before the backend runs, two cheap generators
propose equations that join its candidates (the hall of fame decides):

- :func:`power_laws` - ``y = C * prod(x_i ** a_i)``: least squares of
  ``ln|y|`` on ``ln x_i`` (positive inputs), refined by least squares on
  ``y`` itself; the exponents are snapped to the nearest simple rationals
  (denominator <= ``EXPONENT_DENOMINATOR``) only when the data accept it
  (:meth:`Fitness.accepts`, a likelihood-ratio test);
- :func:`rational_functions` - ``t(y) = P(x) / Q(x)`` with polynomials
  ``P``, ``Q`` and ``t`` the identity or the square (then
  ``y = sqrt(P/Q)``): the smallest singular vector of the linearised system
  ``t(y) Q(x) - P(x) = 0`` starts a least-squares fit of all coefficients
  on ``y``. Degree pairs are tried in order of their number of unknowns
  (:func:`degree_pairs`); the first ``MAX_RATIONAL`` fits at the noise
  floor are kept (the first exact one ends the search).

Every candidate is a least-squares fit and is kept only if it is at the
noise floor of the data (:meth:`NoiseFloor.reached`, the test the hall of
fame uses); on exact data that means exact. A generator only proposes
equations the chosen operators can write (e.g. a square root needs ``sqrt``
or ``^``; rational functions need ``+ * /``).
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import sympy as sp

from .expressions import canonical_operator, normalise_ratio
from .polish import Fitness, Parametric

logger = logging.getLogger(__name__)

#: Highest degree of a numerator or denominator polynomial.
MAX_DEGREE = 4
#: Most unknowns of one rational-function system.
MAX_UNKNOWNS = 300
#: Rational functions at the floor kept (the first ones in the order of
#: degree_pairs; a floor estimated too high lets an approximation pass, and a
#: later, exact fit then shows it up).
MAX_RATIONAL = 3
#: Most coefficients refined by nonlinear least squares (costly beyond).
MAX_REFINED = 40
#: Reweighted linearised solves (Sanathanan-Koerner: divide the residual
#: ``t Q - P`` by the previous ``Q``, so it approaches the error in ``t``).
REWEIGHTS = 2
#: Rows per unknown needed before a system is attempted.
ROWS_PER_UNKNOWN = 1.5
#: Smallest singular value (relative) of an exact solution, and the gap to
#: the next one below which that solution is not unique.
NULL, UNIQUE = 1e-9, 1e3
#: Largest denominator of a snapped power-law exponent.
EXPONENT_DENOMINATOR = 3
#: A linearised solution is refined by least squares only if its loss is
#: within this factor of the floor's threshold (others are far from any fit).
REFINE_WITHIN = 20.0


def candidates(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], operators: Sequence[str],
    time_limit: float = 5.0, fitness: Fitness | None = None,
) -> list[sp.Expr]:
    """All generated candidates for ``y = f(X)`` expressible with ``operators``
    and at the noise floor of ``fitness`` (default: exact data)."""
    ops = {canonical_operator(o) for o in operators}
    fitness = fitness or Fitness(X, y, symbols)
    found = power_laws(X, y, symbols, ops, fitness)
    found += rational_functions(X, y, symbols, ops, time_limit=time_limit, fitness=fitness)
    return found


def degree_pairs(P: int, max_degree: int = MAX_DEGREE) -> list[tuple[int, int]]:
    """(numerator, denominator) degrees for ``P`` inputs, fewest unknowns first
    (ties: lower total degree, then lower denominator degree)."""
    pairs = [(a, b) for a in range(max_degree + 1) for b in range(max_degree + 1) if a or b]
    count = lambda d: math.comb(P + d, d)  # monomials of degree <= d
    return sorted(pairs, key=lambda p: (count(p[0]) + count(p[1]), p[0] + p[1], p[1]))


def _least_squares(expr: sp.Expr, fitness: Fitness) -> tuple[sp.Expr, float]:
    """``expr`` with its float constants refitted by least squares on the data."""
    model = Parametric(expr, fitness)
    model.values, loss = model.refit()
    return model.expression(), loss


def power_laws(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], ops: set[str],
    fitness: Fitness | None = None,
) -> list[sp.Expr]:
    """``C * prod(x_i ** a_i)`` at the noise floor: fitted in log space, then
    by least squares on ``y``; exponents snapped to simple rationals where
    the data accept it."""
    fitness = fitness or Fitness(X, y, symbols)
    positive = [i for i in range(X.shape[1]) if np.all(X[:, i] > 0)]
    if not positive or "*" not in ops or not (np.all(y > 0) or np.all(y < 0)):
        return []
    sign = 1.0 if y[0] > 0 else -1.0
    logs = np.log(X[:, positive])
    A = np.column_stack([np.ones(len(y)), logs])
    coefficients, *_ = np.linalg.lstsq(A, np.log(np.abs(y)), rcond=None)
    # Least squares on y itself (the log fit weights small values too much).
    free = sp.Float(sign * math.exp(coefficients[0]))
    for i, a in zip(positive, coefficients[1:]):
        free *= symbols[i] ** sp.Float(float(a))
    free, free_loss = _least_squares(free, fitness)
    powers = {p.base: float(p.exp) for p in free.atoms(sp.Pow) if p.exp.is_Float}
    exponents = np.array([powers.get(symbols[i], 0.0) for i in positive])
    snapped = [Fraction(float(a)).limit_denominator(EXPONENT_DENOMINATOR) for a in exponents]
    if all(f == 0 for f in snapped):
        return []
    if any(f < 0 for f in snapped) and "/" not in ops:
        return []
    if any(f.denominator != 1 for f in snapped) and not ({"sqrt", "^"} & ops):
        return []
    fixed = np.array([float(f) for f in snapped])
    log_c = float(np.mean(np.log(np.abs(y)) - logs @ fixed))
    expr = sp.Float(sign * math.exp(log_c))
    for i, f in zip(positive, snapped):
        if f:
            expr *= symbols[i] ** sp.Rational(f.numerator, f.denominator)
    expr, loss = _least_squares(expr, fitness)
    if not fitness.accepts(loss, free_loss):
        expr, loss = free, free_loss  # the data tell the exponents from simple rationals
    if not fitness.noise.reached(loss, len(expr.atoms(sp.Float))):
        return []
    return [expr]


def rational_functions(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], ops: set[str],
    time_limit: float = 5.0, fitness: Fitness | None = None,
) -> list[sp.Expr]:
    """The first ``t(y) = P(x)/Q(x)`` (``t`` the identity or the square), in
    the order of :func:`degree_pairs`, whose least-squares fits are at the
    noise floor (at most ``MAX_RATIONAL``; an exact one ends the list)."""
    fitness = fitness or Fitness(X, y, symbols)
    if not {"+", "*"} <= ops:
        return []
    transforms = [("identity", y)]
    # y = +-sqrt(P/Q): y of one sign, up to the noise (3 standard deviations).
    spread = 3 * math.sqrt(fitness.noise.variance)
    if ({"sqrt", "^"} & ops) and (np.all(y >= -spread) or np.all(y <= spread)):
        transforms.append(("square", y**2))
    start = time.monotonic()
    exact = _exact_rational(X, y, transforms, symbols, ops, fitness, start + time_limit)
    if exact is not None:
        return [exact]  # exact: approximations of lower degrees add nothing
    found: list[sp.Expr] = []
    for numerator, denominator in degree_pairs(X.shape[1]):  # both transforms, fewest unknowns first
        if denominator and "/" not in ops:
            continue
        for name, target in transforms:
            if time.monotonic() - start > time_limit or len(found) >= MAX_RATIONAL:
                return found
            if denominator == 0:  # a polynomial: ordinary least squares, then drop unneeded terms
                if len(y) < ROWS_PER_UNKNOWN * math.comb(X.shape[1] + numerator, numerator):
                    continue
                expr = _backward_elimination(X, y, target, symbols, numerator, name, fitness)
                if expr is None:
                    continue
                loss = fitness.loss(expr)
            else:
                k = len(_monomials(X.shape[1], numerator)) + len(_monomials(X.shape[1], denominator)) - 1
                limit = REFINE_WITHIN * fitness.noise.threshold(k)

                def close(values, name=name):
                    if name == "square":
                        values = np.sign(np.mean(y)) * np.sqrt(np.clip(values, 0, None))
                    loss = float(np.mean((values - y) ** 2))
                    return math.isfinite(loss) and loss <= limit

                expr = _solve(X, target, symbols, numerator, denominator, accept=close)
                if expr is None:
                    continue
                if name == "square":
                    expr = sp.sqrt(expr) if np.mean(y) >= 0 else -sp.sqrt(expr)
                loss = fitness.loss(expr)
                if not loss <= REFINE_WITHIN * fitness.noise.threshold(len(expr.atoms(sp.Float))):
                    continue
                if not fitness.noise.reached(loss, k) and k <= MAX_REFINED:
                    expr, loss = _least_squares(expr, fitness)
            if fitness.noise.reached(loss, len(expr.atoms(sp.Float))):
                logger.info("rational %s fit of degrees (%d, %d): %s", name, numerator, denominator, expr)
                found.append(expr)
                if loss <= fitness.floor:
                    return found  # exact: higher degrees or other transforms add nothing
    return found


def _exact_rational(X, y, transforms, symbols, ops: set[str], fitness: Fitness,
                    deadline: float) -> sp.Expr | None:
    """The first ``t(y) = P/Q`` (in the order of :func:`degree_pairs`, both
    transforms) whose linearised system has an exact, unique solution (a
    null singular vector), if that solution is exact on ``y`` too, else
    ``None``. One SVD per pair and no least squares: a quick pass over all
    degrees before the least-squares fits, so that on exact data an exact
    rational function of high degree is not hidden by lower-degree
    approximations within the numerical floor. On noisy data no system has
    a null vector and the pass costs a few milliseconds per system (singular
    values only, on one BLAS thread: small SVDs on several threads of a
    loaded machine are several times slower)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _first_exact(X, y, transforms, symbols, ops, fitness, deadline)


def _first_exact(X, y, transforms, symbols, ops, fitness, deadline) -> sp.Expr | None:
    """The loop of :func:`_exact_rational`."""
    for numerator, denominator in degree_pairs(X.shape[1]):
        if denominator and "/" not in ops:
            continue
        for name, target in transforms:
            if time.monotonic() > deadline:
                return None
            expr = _solve(X, target, symbols, numerator, denominator, exact=True)
            if expr is None:
                continue
            if name == "square":
                expr = sp.sqrt(expr) if np.mean(y) >= 0 else -sp.sqrt(expr)
            if fitness.loss(expr) <= fitness.floor:
                logger.info("exact rational %s fit of degrees (%d, %d): %s", name, numerator, denominator, expr)
                return expr
    return None


def _backward_elimination(X, y, target, symbols, degree: int, name: str, fitness: Fitness) -> sp.Expr | None:
    """The polynomial ``t(y) = P(x)`` of ``degree`` fitted by ordinary least
    squares, or ``None`` if that fit is not at the noise floor; then its
    monomials are dropped one at a time (the least significant first, by its
    t statistic) while each step passes :meth:`Fitness.accepts` (a
    likelihood-ratio test on ``y``, against the current polynomial) or leaves
    the polynomial at the noise floor."""
    exponents = _monomials(X.shape[1], degree)
    scale = np.sqrt(np.mean(X**2, axis=0))
    scale[scale == 0] = 1.0
    A = np.column_stack([np.prod((X / scale) ** np.array(e), axis=1) for e in exponents])
    sign = 1.0 if np.mean(y) >= 0 else -1.0
    to_y = (lambda t: t) if name == "identity" else (lambda t: sign * np.sqrt(np.clip(t, 0, None)))

    def fit(columns):
        coefficients, *_ = np.linalg.lstsq(A[:, columns], target, rcond=None)
        return coefficients, float(np.mean((to_y(A[:, columns] @ coefficients) - y) ** 2))

    active = list(range(len(exponents)))
    coefficients, current = fit(active)
    if not fitness.noise.reached(current, len(active)):
        return None
    while len(active) > 1:
        columns = A[:, active]
        residual = target - columns @ coefficients
        spread = float(residual @ residual) / max(len(target) - len(active), 1)
        try:
            variances = np.diag(np.linalg.pinv(columns.T @ columns)) * spread
        except np.linalg.LinAlgError:
            break
        t_values = np.abs(coefficients) / np.sqrt(np.maximum(variances, 1e-300))
        weakest = active[int(np.argmin(t_values))]
        trial = [c for c in active if c != weakest]
        trial_coefficients, loss = fit(trial)
        if not (fitness.accepts(loss, current) or fitness.noise.reached(loss, len(trial))):
            break
        active, coefficients, current = trial, trial_coefficients, max(current, loss)
    z = [s / sp.Float(float(c)) for s, c in zip(symbols, scale)]
    polynomial = sp.Add(*[sp.Float(float(c)) * sp.Mul(*[zi**e for zi, e in zip(z, exponents[j])])
                          for c, j in zip(coefficients, active)])
    polynomial = sp.expand(polynomial)
    return polynomial if name == "identity" else sign * sp.sqrt(polynomial)


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


def _solve(X, t, symbols, numerator: int, denominator: int, accept=None,
           exact: bool = False) -> sp.Expr | None:
    """The linearised least-squares ``t = P/Q`` of the given degrees, or
    ``None`` (no unique solution, or ``accept(values of P/Q)`` is False:
    checked before the expression is built, which is the costly part;
    ``exact``: only an exact solution of the linearised system)."""
    P = X.shape[1]
    top, bottom = _monomials(P, numerator), _monomials(P, denominator)
    unknowns = len(top) + len(bottom)
    if len(t) < ROWS_PER_UNKNOWN * unknowns or unknowns > MAX_UNKNOWNS:
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
    if exact:  # singular values first: most systems have no exact solution
        singular = np.linalg.svd(M / norms, compute_uv=False)
        if singular[-1] > NULL * singular[0]:
            return None  # no exact solution at these degrees
    _, singular, vt = np.linalg.svd(M / norms, full_matrices=False)
    if len(singular) > 1 and singular[-2] < UNIQUE * singular[-1] and singular[-1] < NULL * singular[0]:
        return None  # an exact solution, but not a unique one: the degrees are too high
    if exact and singular[-1] > NULL * singular[0]:
        return None  # no exact solution at these degrees
    w = vt[-1] / norms
    bottom_columns = basis(bottom)
    for _ in range(REWEIGHTS if len(bottom) > 1 and singular[-1] > NULL * singular[0] else 0):
        q_values = np.abs(bottom_columns @ w[: len(bottom)])
        if not np.all(q_values > 0):
            break
        weighted = M / q_values[:, None]
        weighted_norms = np.linalg.norm(weighted, axis=0)
        _, _, vt = np.linalg.svd(weighted / weighted_norms, full_matrices=False)
        w = vt[-1] / weighted_norms
    q, p = w[: len(bottom)], w[len(bottom):]
    pivot = q[np.argmax(np.abs(q))]
    q, p = q / pivot, p / pivot
    with np.errstate(all="ignore"):
        values = t_scale * (top_columns @ p) / (basis(bottom) @ q)
    if accept is not None and not accept(values):
        return None
    threshold = 1e-9 * max(np.max(np.abs(q)), np.max(np.abs(p)))
    z = [s / sp.Float(float(c)) for s, c in zip(symbols, scale)]

    def polynomial(coefficients, exponents):
        terms = [sp.Float(float(c)) * sp.Mul(*[zi**e for zi, e in zip(z, ex)])
                 for c, ex in zip(coefficients, exponents) if abs(c) > threshold]
        return sp.Add(*terms)

    numer, denom = sp.fraction(sp.together(sp.Float(t_scale) * polynomial(p, top) / polynomial(q, bottom)))
    return normalise_ratio(sp.expand(numer) / sp.expand(denom))
