"""Deterministic candidate equations from linear algebra, added to the search.

Genetic programming is good at shapes and poor at exact algebra; linear
algebra is the reverse. Before the backend runs, two cheap generators
propose equations that join its candidates (the hall of fame decides):

- :func:`power_laws` - ``y = C * prod(x_i ** a_i)``: least squares of
  ``ln|y|`` on ``ln x_i`` (positive inputs), refined by least squares on
  ``y`` itself; the exponents are snapped to the nearest simple rationals
  (denominator <= ``EXPONENT_DENOMINATOR``) only when the data accept it
  (:meth:`Fitness.accepts`, a likelihood-ratio test);
- :func:`rational_functions` - ``t(y) = P(x) / Q(x)`` with ``t`` the
  identity or the square (then ``y = sqrt(P/Q)``), in three passes:
  an exact pass over polynomial degree pairs, in order of their number of
  unknowns (:func:`degree_pairs`), keeps the first exact, unique solution
  of the linearised system ``t(y) Q(x) - P(x) = 0`` (exact data);
  forward selection (:func:`_forward_rational`, a beam search) picks sparse
  ``P`` and ``Q`` among Laurent monomials by their loss on ``y`` (noisy
  data: dense rational fits there are ill-conditioned); polynomials of
  each degree are fitted by least squares and pruned by backward
  elimination. The ``MAX_RATIONAL`` fits at the floor with the lowest BIC
  are kept.

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
from threadpoolctl import threadpool_limits

from .expressions import canonical_operator, normalise_ratio
from .polish import Fitness, Parametric

logger = logging.getLogger(__name__)

#: Highest degree of a numerator or denominator polynomial (forward
#: selection: total degree, sum of |powers|, of a Laurent monomial).
MAX_DEGREE = 4
#: Most unknowns of one rational-function system.
MAX_UNKNOWNS = 300
#: Rational functions and polynomials at the floor kept (the lowest BIC).
MAX_RATIONAL = 3
#: A power law is fitted to a response of one sign but for at most this
#: share of its samples, each within this share of its root mean square.
SIGN_SLACK = 0.05
#: Most terms (numerator and denominator) forward selection picks.
MAX_SELECTED = 8
#: Supports forward selection grows side by side (beam search).
BEAM = 64
#: Most monomials forward selection chooses from, in the numerator and in the denominator.
MAX_MONOMIALS = 400
#: Rows per unknown needed before a system is attempted.
ROWS_PER_UNKNOWN = 1.5
#: Smallest singular value (relative) of an exact solution, and the gap to
#: the next one below which that solution is not unique.
NULL, UNIQUE = 1e-9, 1e3
#: Largest denominator of a snapped power-law exponent.
EXPONENT_DENOMINATOR = 3
#: A forward selection is refined by least squares (and kept) only if its
#: loss is within this factor of the floor's threshold.
REFINE_WITHIN = 20.0


def candidates(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], operators: Sequence[str],
    time_limit: float = 5.0, fitness: Fitness | None = None,
) -> list[sp.Expr]:
    """All generated candidates for ``y = f(X)`` expressible with ``operators``
    and at the noise floor of ``fitness`` (default: exact data)."""
    ops = {canonical_operator(o) for o in operators}
    fitness = fitness or Fitness(X, y, symbols)
    # Small systems: one BLAS thread is faster (and much faster on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
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


def free_power_law(X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], ops: set[str],
                   fitness: Fitness) -> tuple[sp.Expr, float] | None:
    """``C * prod(x_i ** a_i)`` with every constant free (fitted in log
    space, then by least squares on ``y``) and its loss; ``None`` if ``y``
    changes sign (beyond :func:`_one_sign`) or no input is positive."""
    positive = [i for i in range(X.shape[1]) if np.all(X[:, i] > 0)]
    keep = _one_sign(y)
    if not positive or "*" not in ops or keep is None:
        return None
    sign = 1.0 if np.median(y) > 0 else -1.0
    logs = np.log(X[:, positive])
    A = np.column_stack([np.ones(len(y)), logs])
    coefficients, *_ = np.linalg.lstsq(A[keep], np.log(np.abs(y[keep])), rcond=None)
    # Least squares on y itself (the log fit weights small values too much).
    free = sp.Float(sign * math.exp(coefficients[0]))
    for i, a in zip(positive, coefficients[1:]):
        free *= symbols[i] ** sp.Float(float(a))
    return _least_squares(free, fitness)


def _one_sign(y: np.ndarray) -> np.ndarray | None:
    """The samples of ``y``'s majority sign, if the others are few (at most
    ``SIGN_SLACK`` of them) and small (within ``SIGN_SLACK`` of the root mean
    square: noise around a law of one sign); else ``None``."""
    sign = 1.0 if np.median(y) > 0 else -1.0
    keep = sign * y > 0
    if keep.all():
        return keep
    rms = float(np.sqrt(np.mean(y**2)))
    if (~keep).mean() > SIGN_SLACK or np.max(np.abs(y[~keep])) > SIGN_SLACK * rms:
        return None
    return keep


def power_laws(
    X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol], ops: set[str],
    fitness: Fitness | None = None,
) -> list[sp.Expr]:
    """``C * prod(x_i ** a_i)`` at the noise floor: fitted in log space, then
    by least squares on ``y``; exponents snapped to simple rationals where
    the data accept it."""
    fitness = fitness or Fitness(X, y, symbols)
    fitted = free_power_law(X, y, symbols, ops, fitness)
    if fitted is None:
        return []
    free, free_loss = fitted
    positive = [i for i in range(X.shape[1]) if np.all(X[:, i] > 0)]
    keep = _one_sign(y)
    sign = 1.0 if np.median(y) > 0 else -1.0
    logs = np.log(X[:, positive])
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
    log_c = float(np.mean(np.log(np.abs(y[keep])) - logs[keep] @ fixed))
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
    """Fits ``t(y) = P(x)/Q(x)`` (``t`` the identity or the square) at the
    noise floor, best BIC first (at most ``MAX_RATIONAL``): the first exact
    one in the order of :func:`degree_pairs` alone, if any; else sparse
    rational functions by forward selection (noisy data) and polynomials
    pruned by backward elimination, within ``time_limit`` seconds."""
    fitness = fitness or Fitness(X, y, symbols)
    if not {"+", "*"} <= ops:
        return []
    transforms = [("identity", y)]
    # y = +-sqrt(P/Q): y of one sign, up to the noise (3 standard deviations).
    spread = 3 * math.sqrt(fitness.noise.variance)
    if ({"sqrt", "^"} & ops) and (np.all(y >= -spread) or np.all(y <= spread)):
        transforms.append(("square", y**2))
    start = time.monotonic()
    exact = _first_exact(X, y, transforms, symbols, ops, fitness, start + time_limit)
    if exact is not None:
        return [exact]  # exact: approximations of lower degrees add nothing
    scored: list[tuple[float, sp.Expr]] = []  # (BIC, fit at the floor)

    def consider(expr, what: str) -> bool:
        """Score ``expr`` if it is at the floor; True if it is exact."""
        if expr is None:
            return False
        loss, k = fitness.loss(expr), len(expr.atoms(sp.Float))
        if not fitness.noise.reached(loss, k):
            return False
        logger.info("rational %s: %s", what, expr)
        scored.append((_bic(loss, k, len(y), fitness), expr))
        return loss <= fitness.floor

    # Polynomials first (milliseconds: least squares, then drop terms) ...
    for name, target in transforms:
        for degree in range(1, MAX_DEGREE + 1):
            if time.monotonic() - start > time_limit:
                break
            if len(y) < ROWS_PER_UNKNOWN * math.comb(X.shape[1] + degree, degree):
                break
            if consider(_backward_elimination(X, y, target, symbols, degree, name, fitness),
                        f"{name} polynomial of degree {degree}"):
                return _best(scored)
    # ... then forward selection on noisy data (exact data: the exact pass above).
    for name, target in transforms if "/" in ops and fitness.noise.noisy else []:
        if time.monotonic() - start <= time_limit:
            if consider(_forward_rational(X, y, target, symbols, name, fitness, start + time_limit),
                        f"{name} fit, forward selection"):
                return _best(scored)
    return _best(scored)


def _bic(loss: float, k: int, n: int, fitness: Fitness) -> float:
    """Bayesian information criterion of a fit with ``k`` constants and ``loss``
    (mean squared error; clamped at the numerical floor)."""
    return n * math.log(max(loss, fitness.floor, 1e-300)) + k * math.log(n)


def _best(scored: list[tuple[float, sp.Expr]]) -> list[sp.Expr]:
    """The ``MAX_RATIONAL`` fits of lowest BIC, best first."""
    return [expr for _, expr in sorted(scored, key=lambda pair: pair[0])[:MAX_RATIONAL]]


def _first_exact(X, y, transforms, symbols, ops, fitness, deadline) -> sp.Expr | None:
    """The first ``t(y) = P/Q`` (in the order of :func:`degree_pairs`, both
    transforms) whose linearised system has an exact, unique solution (a
    null singular vector), if that solution is exact on ``y`` too, else
    ``None``. One SVD per pair and no least squares: a quick pass over all
    degrees before the least-squares fits, so that on exact data an exact
    rational function of high degree is not hidden by lower-degree
    approximations within the numerical floor. On noisy data no system has
    a null vector and the pass costs a few milliseconds per system."""
    for numerator, denominator in degree_pairs(X.shape[1]):
        if denominator and "/" not in ops:
            continue
        for name, target in transforms:
            if time.monotonic() > deadline:
                return None
            expr = _solve(X, target, symbols, numerator, denominator)
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
    w = _row_weights(y, name, fitness)
    A, target = A * w[:, None], target * w

    def fit(columns):
        coefficients, *_ = np.linalg.lstsq(A[:, columns], target, rcond=None)
        return coefficients, fitness.mse(to_y(A[:, columns] @ coefficients / w))

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


def _row_weights(y: np.ndarray, name: str, fitness: Fitness) -> np.ndarray:
    """Least-squares weights of the rows of a fit of ``t(y)`` whose errors
    become errors on ``y``: 1 for the identity; ``1 / (2 |y|)`` for the
    square (``d(y**2) = 2 y dy``), with ``|y|`` at least the noise's standard
    deviation (or a thousandth of ``y``'s root mean square); times the
    square roots of the samples' precision weights (:attr:`Fitness.weights`)."""
    w = np.ones(len(y)) * fitness.root_weights
    if name == "identity":
        return w
    rms = float(np.sqrt(np.mean(y**2))) or 1.0
    least = max(math.sqrt(fitness.noise.variance), 1e-3 * rms)
    w = w / (2.0 * np.maximum(np.abs(y), least))
    return w / float(np.sqrt(np.mean(w**2)))


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
    """The exact, unique solution ``t = P/Q`` of the given degrees' linearised
    system ``t Q(x) - P(x) = 0``, or ``None``: the smallest singular vector
    of its columns (denominator monomials times ``t``, then minus the
    numerator monomials; inputs and ``t`` scaled to order one for
    conditioning, undone in the expression)."""
    P = X.shape[1]
    top, bottom = _monomials(P, numerator), _monomials(P, denominator)
    if len(t) < ROWS_PER_UNKNOWN * (len(top) + len(bottom)) or len(top) + len(bottom) > MAX_UNKNOWNS:
        return None
    scale = np.sqrt(np.mean(X**2, axis=0))
    scale[scale == 0] = 1.0
    Z = X / scale
    t_scale = float(np.sqrt(np.mean(t**2))) or 1.0
    basis = lambda exponents: np.column_stack([np.prod(Z ** np.array(e), axis=1) for e in exponents])
    M = np.hstack([(t / t_scale)[:, None] * basis(bottom), -basis(top)])
    norms = np.linalg.norm(M, axis=0)
    if np.any(norms == 0) or not np.all(np.isfinite(M)):
        return None
    singular = np.linalg.svd(M / norms, compute_uv=False)  # most systems: no exact solution
    if singular[-1] > NULL * singular[0]:
        return None
    if len(singular) > 1 and singular[-2] < UNIQUE * singular[-1]:
        return None  # an exact solution, but not a unique one: the degrees are too high
    w = np.linalg.svd(M / norms, full_matrices=False)[2][-1] / norms
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


def _forward_rational(X, y, t, symbols, name: str, fitness: Fitness, deadline: float) -> sp.Expr | None:
    """A sparse ``t(y) = P/(1 + Q)`` at the noise floor by forward selection, or ``None``.

    ``P`` and ``Q`` are sums of Laurent monomials (:func:`_laurent`:
    negative powers of the inputs that never vanish, ``|exponent| <= 2``),
    so any ratio of two such sums has this form. Dense rational fits are
    ill-conditioned on noisy data (nearby rational functions with a pole in
    the domain fit the linearised system as well), so the terms are chosen
    one at a time by what matters, the loss on ``y``, in a beam search: from
    every single monomial of ``P``, the ``BEAM`` best supports grow by the
    monomial of ``P`` or ``Q`` that lowers the loss, if significantly (the
    likelihood-ratio margin of :meth:`NoiseFloor.margin`, corrected for the
    number of monomials tried), until one is at the floor (at most
    ``MAX_SELECTED`` terms). Each trial is the linear least squares
    ``t = P - t Q`` with rows weighted by ``1 / |1 + Q|`` of the support it
    grows from (Sanathanan-Koerner) and by :func:`_row_weights`; the final
    support is refined by least squares on ``y``.
    """
    exponents = _laurent(X, negative=True)
    if not exponents:
        return None
    scale = np.sqrt(np.mean(X**2, axis=0))
    scale[scale == 0] = 1.0
    t_scale = float(np.sqrt(np.mean(t**2))) or 1.0
    u = t / t_scale
    with np.errstate(all="ignore"):
        basis = np.column_stack([np.prod((X / scale) ** np.array(e, dtype=float), axis=1)
                                 for e in exponents])
    finite = np.all(np.isfinite(basis), axis=0) & (np.linalg.norm(basis, axis=0) > 0)
    finite[0] = True  # the constant
    basis, exponents = basis[:, finite], [e for e, keep in zip(exponents, finite) if keep]
    m = len(exponents)
    columns = np.hstack([basis, -u[:, None] * basis])       # P terms, then Q terms
    allowed = np.ones(2 * m, dtype=bool)
    allowed[m] = False                                      # the constant of 1 + Q is the 1
    sign = 1.0 if np.mean(y) >= 0 else -1.0
    tests = int(allowed.sum())
    base = _row_weights(y, name, fitness)

    def to_y(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        """Mean squared errors on y of rational functions whose P and Q are the
        columns of ``top`` and ``bottom`` (n, k)."""
        with np.errstate(all="ignore"):
            values = t_scale * top / (1.0 + bottom)
            if name == "square":
                values = sign * np.sqrt(np.clip(values, 0, None))
            squares = (values - y[:, None]) ** 2
            errors = np.mean(squares if fitness.weights is None else fitness.weights[:, None] * squares, axis=0)
        return np.where(np.isfinite(errors), errors, np.inf)

    squares = columns**2

    def grow(active: list[int], coefficients: np.ndarray):
        """The supports ``active + [j]`` that fit the weighted linearised
        system best (the ``2 BEAM`` smallest residuals): their indices ``j``,
        losses on ``y`` and coefficients."""
        S = np.array(active)
        c = np.zeros(2 * m)
        c[S] = coefficients
        q = 1.0 + basis @ c[m:]
        weights = base / np.abs(q) if np.all(np.isfinite(q)) and np.all(q != 0) else base
        w2 = weights**2 / np.mean(weights**2)
        k = len(S)
        A = columns[:, S] * w2[:, None]
        G = np.empty((2 * m, k + 1, k + 1))
        G[:, :k, :k] = columns[:, S].T @ A
        cross = A.T @ columns                                   # (k, 2m)
        G[:, :k, k] = cross.T
        G[:, k, :k] = cross.T
        G[:, k, k] = w2 @ squares
        h = np.empty((2 * m, k + 1))
        h[:, :k] = A.T @ u
        h[:, k] = (u * w2) @ columns
        G[:, np.arange(k + 1), np.arange(k + 1)] *= 1.0 + 1e-12  # taken columns: singular
        with np.errstate(all="ignore"):
            try:
                solved = np.linalg.solve(G, h[:, :, None])[:, :, 0]  # (2m, k+1)
            except np.linalg.LinAlgError:
                return [], [], []
            residual = float(u**2 @ w2) - np.einsum("ij,ij->i", h, solved)
        residual[~allowed | ~np.isfinite(residual)] = np.inf
        residual[S] = np.inf
        chosen = [j for j in np.argsort(residual)[: 2 * BEAM] if np.isfinite(residual[j])]
        if not chosen:
            return [], [], []
        picked = solved[chosen]
        top_mask, bottom_mask = S < m, S >= m
        top = basis[:, S[top_mask]] @ picked[:, :k][:, top_mask].T             # (n, chosen)
        bottom = basis[:, S[bottom_mask] - m] @ picked[:, :k][:, bottom_mask].T
        for column, j in enumerate(chosen):
            if j < m:
                top[:, column] += basis[:, j] * picked[column, k]
            else:
                bottom[:, column] += basis[:, j - m] * picked[column, k]
        return chosen, to_y(top, bottom), picked

    # Supports of one monomial of P: closed-form least squares (weighted by
    # the samples' precision, if any).
    w2 = np.ones(len(u)) if fitness.weights is None else fitness.weights
    with np.errstate(all="ignore"):
        single = (basis.T @ (w2 * u)) / np.einsum("ij,ij,i->j", basis, basis, w2)
    beam = [(float(to_y(basis[:, [j]] * single[j], np.zeros((len(u), 1)))[0]), [j], np.array([single[j]]))
            for j in range(m) if np.isfinite(single[j])]
    if not beam:
        return None
    starts = beam
    beam = sorted(beam, key=lambda state: state[0])[:BEAM]
    for step in range(MAX_SELECTED - 1):
        if any(fitness.noise.reached(loss, len(active)) for loss, active, _ in beam):
            break
        if time.monotonic() > deadline:
            break
        grown: dict[frozenset, tuple] = {}
        for current, active, coefficients in (starts if step == 0 else beam):
            if time.monotonic() > deadline:
                break
            margin = fitness.noise.margin(current, tests=tests)
            for j, loss, solution in zip(*grow(active, coefficients)):
                key = frozenset(active + [int(j)])
                if loss < current - margin and (key not in grown or loss < grown[key][0]):
                    grown[key] = (float(loss), active + [int(j)], solution)
        if not grown:
            break
        beam = sorted(grown.values(), key=lambda state: state[0])[:BEAM]
    current, active, coefficients = min(beam, key=lambda state: (
        not fitness.noise.reached(state[0], len(state[1])), len(state[1]), state[0]))
    if not current <= REFINE_WITHIN * fitness.noise.threshold(len(active)):
        return None
    z = [s / sp.Float(float(c)) for s, c in zip(symbols, scale)]
    monomial = lambda e: sp.Mul(*[zi**int(k) for zi, k in zip(z, e)])
    top = sp.Add(*[sp.Float(float(c) * t_scale) * monomial(exponents[a])
                   for c, a in zip(coefficients, active) if a < m])
    bottom = 1 + sp.Add(*[sp.Float(float(c)) * monomial(exponents[a - m])
                          for c, a in zip(coefficients, active) if a >= m])
    numer, denom = sp.fraction(sp.together(top / bottom))
    expr = normalise_ratio(sp.expand(numer) / sp.expand(denom))
    if name == "square":
        expr = sign * sp.sqrt(expr)
    refined, refined_loss = _least_squares(expr, fitness)
    return refined if refined_loss <= current else expr


def _laurent(X: np.ndarray, negative: bool = True) -> list[tuple[int, ...]]:
    """Exponents of the (Laurent) monomials forward selection chooses from,
    the constant first: every input to a power in -2..2 (negative powers only
    for inputs that never vanish), total degree (sum of |powers|) at most
    ``MAX_DEGREE``, lowered until there are at most ``MAX_MONOMIALS``."""
    P = X.shape[1]
    signs = [(i, 1) for i in range(P)] + [
        (i, -1) for i in range(P) if negative and np.all(X[:, i] != 0)]
    for total in range(MAX_DEGREE, 0, -1):
        found: set[tuple[int, ...]] = set()
        for size in range(1, total + 1):
            for picks in itertools.combinations_with_replacement(signs, size):
                e = [0] * P
                for i, step in picks:
                    e[i] += step
                if all(abs(k) <= 2 for k in e) and any(e):
                    found.add(tuple(e))
        if len(found) <= MAX_MONOMIALS:
            return [tuple([0] * P)] + sorted(found, key=lambda e: (sum(map(abs, e)), e))
    return []
