"""Turn raw backend expressions into clean equations, guarded by the data.

Every step that changes an expression is checked against the training data:
a change is kept only if the loss stays statistically indistinguishable from
the best refitted loss (:meth:`Fitness.accepts`, a likelihood-ratio test for
one constant; :func:`snap_jointly`, which fixes several constants at once,
tests them with as many degrees of freedom). The steps, in order:

1. :func:`refit` - re-optimise every floating constant in float64 with
   Levenberg-Marquardt (engines such as Operon tune constants in float32);
2. :func:`snap_constants` - replace each constant by the simplest "nice"
   number the data supports: 0 (dropping the term), integers, small
   rationals ``p/q`` (``|p|, q <= 12``), and those times ``pi``, ``1/pi``,
   ``pi**2``, ``sqrt(pi)``, ``sqrt(2)``, ``sqrt(3)``, ``sqrt(2*pi)`` or their
   inverses - only when it is written with at most ``SPARE_DIGITS`` more
   digits than the data
   require of the decimal value (the simplest rationals may have the other
   constants refitted around them); one at a time, or all at once when the
   data accept them together and that is the shorter description
   (:func:`snap_jointly`);
3. :func:`~.rewrites.simplify` - sympy simplification (with positive symbols where the
   data are positive, so ``sqrt(r**2)`` becomes ``r``), kept when it is
   shorter and numerically identical on the data;
4. :func:`round_constants` - the remaining floats get the fewest significant
   digits (2 to 12) the data supports.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import sympy as sp

from .expressions import constants, make_function, normalise_ratio
from .noise import NoiseFloor
from .rewrites import merge_numbers, simplify

logger = logging.getLogger(__name__)

#: Irrational factors a constant may be recognised as a rational multiple of,
#: with the complexity cost charged for each.
_BASES = (
    (sp.Integer(1), 0), (sp.pi, 1), (1 / sp.pi, 1), (sp.pi**2, 2), (1 / sp.pi**2, 2),
    (sp.sqrt(sp.pi), 2), (1 / sp.sqrt(sp.pi), 2), (sp.sqrt(2), 2), (sp.sqrt(3), 2),
    (sp.sqrt(2 * sp.pi), 2), (1 / sp.sqrt(2 * sp.pi), 2),
)

#: Largest denominator of a simple fraction or multiple of pi, sqrt(2), ...
MAX_DENOMINATOR = 12
#: Largest numerator of a simple fraction or multiple of pi, sqrt(2), ...
MAX_NUMERATOR = 12
#: Largest numerator or denominator of a rational multiple of pi, sqrt(2), ...
MAX_IRRATIONAL_TERM = 8

#: Nice numbers are looked for within this relative distance of a constant,
#: or within ``SNAP_SIGMAS`` standard errors of it when the data determine it
#: less well (noisy data: 0.985 +- 0.01 may be 1); at most ``MAX_TOLERANCE``.
#: Which of them is taken is the likelihood-ratio test's decision.
NICE_TOLERANCE = 1e-2
SNAP_SIGMAS = 3.0
MAX_TOLERANCE = 0.5

#: Only rationals this simple (digits) are tried with the other constants
#: refitted around them; other numbers must fit as they are.
REFIT_COST = 2

#: Terms tried for dropping with the other constants refitted, on exact data
#: (on noisy data: every constant).
EXACT_DROP_REFITS = 2

#: A nice number may cost this many digits more than the data require of the
#: decimal value (3*pi/2 for 4.7 when two digits are all the data support).
SPARE_DIGITS = 1

#: Relative singular value of the (column-normalised) Jacobian below which a
#: direction of the constants leaves the prediction unchanged.
REDUNDANT = 1e-5

class Fitness:
    """Mean squared error of expressions on training data, and the rule for
    accepting a simplification.

    Parameters
    ----------
    X : (n, P) ndarray
        Inputs in real units, columns in the order of ``symbols``.
    y : (n,) ndarray
        Target.
    symbols : list[sympy.Symbol]
        The symbols standing for the columns of ``X``.
    noise : NoiseFloor, optional
        The noise floor of the data (default: exact data).
    weights : (n,) ndarray, optional
        Precision weights of the samples, mean 1 (:func:`.noise.precision_weights`):
        losses are then weighted mean squared errors (known, unequal noise
        variances; ``None``: all samples alike).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, symbols: Sequence[sp.Symbol],
                 noise: NoiseFloor | None = None, weights: np.ndarray | None = None):
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.symbols = list(symbols)
        self.variance = float(np.var(self.y)) if len(self.y) else 0.0
        #: the noise floor of the data (zero noise: exact data).
        self.noise = noise if noise is not None else NoiseFloor.of(self.y, 0.0)
        #: losses below this are numerically exact (rounding noise of the data).
        self.floor = self.noise.numerical
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        #: what residuals are multiplied by for least squares (1: unweighted).
        self.root_weights = 1.0 if self.weights is None else np.sqrt(self.weights)

    def at(self, noise: NoiseFloor) -> "Fitness":
        """The same data and weights judged against another noise floor."""
        return Fitness(self.X, self.y, self.symbols, noise, self.weights)

    def mse(self, prediction: np.ndarray) -> float:
        """The (weighted) mean squared error of ``prediction`` (``inf`` if
        not finite everywhere)."""
        if not np.all(np.isfinite(prediction)):
            return math.inf
        squares = (prediction - self.y) ** 2
        return float(np.mean(squares if self.weights is None else self.weights * squares))

    def loss(self, expr: sp.Expr) -> float:
        """Mean squared error of ``expr`` (weighted if the samples have
        ``weights``; ``inf`` if not finite everywhere)."""
        try:
            prediction = make_function(expr, self.symbols)(self.X)
        except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
            return math.inf
        return self.mse(prediction)

    def fits(self, exprs) -> list[tuple[float, int]]:
        """``(loss, fitted constants)`` of each of ``exprs``, as the floor's
        tests take them."""
        return [(self.loss(expr), len(expr.atoms(sp.Float))) for expr in exprs]

    def accepts(self, new_loss: float, reference_loss: float) -> bool:
        """Whether ``new_loss`` is as good as ``reference_loss`` given the data.

        Allowed increase: the likelihood-ratio margin of one constant
        (:meth:`NoiseFloor.margin`: ``chi2_1(1 - LEVEL_STEP) * s2 / n``, the
        99 % quantile, with ``s2`` the larger of the noise floor and
        ``reference_loss``) plus the numerical floor ``1e-10 var(y)``.
        """
        return new_loss <= reference_loss + self.noise.margin(reference_loss)


class Parametric:
    """``expr`` with its float constants as free parameters, compiled once.

    ``values`` are the current constants; ``fixed`` maps constant index ->
    the exact sympy number chosen for it (snapping).
    """

    def __init__(self, expr: sp.Expr, fitness: Fitness):
        self.fitness = fitness
        floats = constants(expr)
        # the same symbols every time, so that compiled bodies are reused
        self.params = [sp.Dummy(f"medeq_constant_{i}", dummy_index=i) for i in range(len(floats))]
        self.body = expr.xreplace(dict(zip(floats, self.params)))
        self.values = np.array([float(f) for f in floats])
        self.fixed: dict[int, sp.Expr] = {}
        self.function = make_function(self.body, fitness.symbols, self.params)

    def free(self) -> list[int]:
        """Indices of the constants not in ``fixed``."""
        return [i for i in range(len(self.values)) if i not in self.fixed]

    def loss(self, values: np.ndarray | None = None) -> float:
        values = self.values if values is None else values
        return self.fitness.mse(self.function(self.fitness.X, *values))

    def refit(self, values: np.ndarray | None = None, max_nfev: int = 100) -> tuple[np.ndarray, float]:
        """Least-squares fit of the constants not in ``fixed``; (values, loss)."""
        from scipy.optimize import least_squares

        values = np.array(self.values if values is None else values, dtype=float)
        start = self.loss(values)
        free = self.free()
        if not free:
            return values, start
        y, root = self.fitness.y, self.fitness.root_weights

        def residual(c):
            trial = values.copy()
            trial[free] = c
            out = (self.function(self.fitness.X, *trial) - y) * root
            return np.where(np.isfinite(out), out, 1e150)

        try:
            with np.errstate(all="ignore"):
                result = least_squares(residual, values[free], method="lm",
                                       max_nfev=max_nfev * (len(free) + 1))
        except (ValueError, FloatingPointError, OverflowError):
            return values, start
        fitted = values.copy()
        fitted[free] = result.x
        loss = self.loss(fitted) if np.all(np.isfinite(result.x)) else math.inf
        return (fitted, loss) if loss <= start else (values, start)

    def jacobian(self, free: Sequence[int]) -> np.ndarray | None:
        """Derivatives of the prediction by the constants ``free`` (finite
        differences, one column each); ``None`` where it is not finite."""
        base = self.function(self.fitness.X, *self.values)
        if not np.all(np.isfinite(base)):
            return None
        columns = []
        for i in free:
            step = 1e-6 * max(abs(self.values[i]), 1e-3)
            trial = self.values.copy()
            trial[i] += step
            with np.errstate(all="ignore"):
                columns.append((self.function(self.fitness.X, *trial) - base) / step)
        J = np.column_stack(columns) if columns else np.empty((len(base), 0))
        return J if np.all(np.isfinite(J)) else None

    def redundant(self) -> list[int]:
        """Free constants that other constants can stand in for: for each
        direction in which the prediction does not change (a null vector of
        the Jacobian, e.g. a common factor of numerator and denominator),
        the constant with the largest share of it."""
        free = self.free()
        if len(free) < 2:
            return []
        J = self.jacobian(free)
        if J is None:
            return []
        J = J / np.maximum(np.linalg.norm(J, axis=0), 1e-300)
        _, singular, vt = np.linalg.svd(J, full_matrices=False)
        found: list[int] = []
        for vector in vt[singular < REDUNDANT * singular[0]]:
            order = np.argsort(-np.abs(vector))
            pick = next((free[j] for j in order if free[j] not in found), None)
            if pick is not None:
                found.append(pick)
        return found

    def standard_errors(self) -> np.ndarray:
        """Standard error of each constant (0 for fixed ones): the linearised
        least-squares covariance ``s2 (J'WJ)^-1`` of the free constants (``W``
        the sample weights), with
        ``s2`` the larger of the noise floor and the current loss."""
        errors = np.zeros(len(self.values))
        free = self.free()
        J = self.jacobian(free) if free else None
        if J is None:
            return errors
        J = J * np.reshape(self.fitness.root_weights, (-1, 1))
        s2 = max(self.loss(), self.fitness.noise.variance)
        with np.errstate(all="ignore"):
            covariance = np.linalg.pinv(J.T @ J) * s2
        errors[free] = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        return np.where(np.isfinite(errors), errors, 0.0)

    def expression(self, digits: int | None = None) -> sp.Expr:
        """The expression with snapped constants and the others (rounded) as floats."""
        def number(i, v):
            if i in self.fixed:
                return self.fixed[i]
            return sp.Float(float(f"{v:.{digits}g}") if digits else float(v))

        return self.body.xreplace({p: number(i, v) for i, (p, v) in enumerate(zip(self.params, self.values))})


def nice_numbers(value: float, allow_pi: bool = True, tolerance: float = NICE_TOLERANCE) -> list[tuple[sp.Expr, int]]:
    """Simple numbers within ``tolerance`` (relative) of ``value`` with their
    cost in digits, simplest first (the closest first among equally simple)."""
    if not math.isfinite(value) or value == 0:
        return []
    found: dict[sp.Expr, tuple] = {}
    for base, cost in _BASES:
        if not allow_pi and base.has(sp.pi):
            continue
        ratio = value / float(base)
        for denominator in range(1, MAX_DENOMINATOR + 1):
            numerator = round(ratio * denominator)
            if numerator == 0 or abs(numerator) > 10_000 or math.gcd(numerator, denominator) > 1:
                continue
            if (denominator > 1 or cost) and abs(numerator) > MAX_NUMERATOR:
                continue  # 392*sqrt(2) or 68/7 are not "simple"
            if cost and max(abs(numerator), denominator) > MAX_IRRATIONAL_TERM:
                continue  # nor is 7*sqrt(2)/9 (1.09994), which would pass for 1.1
            error = abs(ratio - numerator / denominator) / abs(ratio)
            if error > tolerance:
                continue
            number = sp.Rational(numerator, denominator) * base
            digits = len(str(abs(numerator))) + (len(str(denominator)) if denominator > 1 else 0)
            key = (digits + cost, error)
            if number not in found or key < found[number]:
                found[number] = key
    return [(number, found[number][0]) for number in sorted(found, key=found.get)]


def _digits_needed(model: Parametric, i: int, accepts) -> int:
    """Fewest significant digits of constant ``i`` that the data accepts."""
    for digits in range(1, 13):
        trial = model.values.copy()
        trial[i] = float(f"{trial[i]:.{digits}g}")
        if accepts(model.loss(trial)):
            return digits
    return 13


def snap_constants(
    model: Parametric,
    reference_loss: float,
    allow_pi: bool = True,
    max_refits: int = 6,
    deadline: float | None = None,
    refit_drops: bool = True,
) -> float:
    """Fix constants of ``model`` to the simplest numbers the data supports;
    returns the loss the next step is judged against.

    First each free constant, the least needed first (the smallest loss
    when it is zero): zero (dropping a term) if the data accept it, as is
    or with the other constants refitted (backward elimination: each step is
    a likelihood-ratio test against the current equation,
    :meth:`Fitness.accepts`). Then each remaining one, those whose nearby
    nice numbers are simplest first (the largest first among equals): a
    "nice" number (of the simplest accepted ones, the most accurate) within
    ``NICE_TOLERANCE`` or ``SNAP_SIGMAS`` standard errors of the constant
    (:func:`nice_numbers`, :meth:`Parametric.standard_errors`) if it is written with at most ``SPARE_DIGITS``
    more digits than the data require of the decimal value (any number used
    as an exponent: one more) and the loss stays acceptable - as is,
    or, for the simplest rationals (cost <= ``REFIT_COST``), after refitting
    the other constants (at most ``max_refits`` refits). When every
    remaining constant is near a simple rational and the data accept them
    all together (:func:`snap_jointly`), those numbers are kept instead if
    they are the shorter description of the constants and the data
    (:func:`_description`): one at a time, each constant is tested against
    the others' fitted values, and correlated constants can wander off to
    ``9/8`` and ``6*sqrt(3)/5`` where ``1`` and ``2`` fit all together.
    ``refit_drops=False`` tries dropping terms without refits only (cheap).
    """
    current = [reference_loss]
    accepts = lambda loss: model.fitness.accepts(loss, current[0])
    refits = max_refits
    # Noisy data fit every spurious term a little: dropping one needs a refit.
    drop_refits = len(model.values) if model.fitness.noise.noisy else EXACT_DROP_REFITS
    drop_refits = drop_refits if refit_drops else 0
    powers = {power.exp for power in model.body.atoms(sp.Pow)}
    exponents = {i for i, p in enumerate(model.params) if p in powers}

    def keep(i, trial, number, loss):
        model.values, model.fixed[i] = trial, number
        current[0] = max(current[0], loss)

    late = lambda: deadline is not None and time.monotonic() > deadline

    def dropped(i: int) -> np.ndarray:
        trial = model.values.copy()
        trial[i] = 0.0
        return trial

    # Terms first, the least needed first (spurious terms gone before the
    # others are snapped), then nice numbers, the largest constant first.
    for i in sorted(model.free(), key=lambda i: model.loss(dropped(i))):
        if late():
            break
        trial = dropped(i)
        loss = model.loss(trial)
        if not accepts(loss) and drop_refits > 0 and len(model.free()) > 1:
            drop_refits -= 1
            model.fixed[i] = sp.Integer(0)
            trial, loss = model.refit(trial, max_nfev=50)
            del model.fixed[i]
        if accepts(loss):
            keep(i, trial, sp.Integer(0), loss)
    errors = _errors(model)
    # All at once (not applied yet: the shorter description of the two wins).
    joint = snap_jointly(model, current[0], allow_pi, errors=errors)
    start = (dict(model.fixed), current[0])
    tolerances = [_tolerance(v, e, SNAP_SIGMAS) for v, e in zip(model.values, errors)]
    options = {i: nice_numbers(model.values[i], allow_pi, tolerances[i]) for i in model.free()}
    # The constants that may be simplest first (a scale that may be 1 before a
    # 9.92 that may be 10 or pi**2: the refitted others then decide), the
    # largest first among equals.
    order = sorted(options, key=lambda i: (options[i][0][1] if options[i] else math.inf,
                                           -abs(model.values[i])))
    for i in order:
        if late():
            break
        value = model.values[i]
        needed = _digits_needed(model, i, accepts)
        exponent = i in exponents  # x**(1/2) reads better than x**0.5
        chosen = None  # (loss, trial, number, cost): the best of the simplest accepted
        for number, cost in nice_numbers(value, allow_pi, tolerances[i]):
            if chosen is not None and cost > chosen[3]:
                break  # as simple numbers as the accepted one were all tried
            if cost > needed + exponent + SPARE_DIGITS:
                continue
            trial = model.values.copy()
            trial[i] = float(number)
            loss = model.loss(trial)
            if not accepts(loss) and number.is_Rational and cost <= REFIT_COST and refits > 0:
                refits -= 1
                model.fixed[i] = number
                trial, loss = model.refit(trial, max_nfev=50)
                del model.fixed[i]
            if accepts(loss) and (chosen is None or loss < chosen[0]):
                chosen = (loss, trial, number, cost)
        if chosen is not None:
            keep(i, chosen[1], chosen[2], chosen[0])
    if joint is not None:
        numbers, values, loss = joint
        greedy = (model.values, model.fixed, _description(model, start, model.loss(), allow_pi))
        model.values, model.fixed = values, {**start[0], **numbers}
        if _description(model, start, loss, allow_pi) < greedy[2]:
            return max(start[1], loss)
        model.values, model.fixed = greedy[0], greedy[1]
    return current[0]


def _description(model: Parametric, start: tuple, loss: float, allow_pi: bool) -> float:
    """Description length (nats, up to a constant) of the constants ``model``
    fixed since ``start`` (the fixed constants and the loss then) and of the
    data given them, ``loss`` being the model's: ``ln(10)`` per digit of
    each number (its cost in :func:`nice_numbers`; a constant left free, the
    significant digits the data need of it, at least the 2 that
    :func:`round_constants` writes) plus, on noisy data, half the
    chi-square the loss adds, ``n max(loss - loss0, 0) / (2 s2)``, with
    ``s2`` the larger of ``loss0`` and the noise floor (exact data: the
    digits alone, as both routes are then exact)."""
    noise = model.fitness.noise
    reference = start[1]
    digits = 0
    for i in range(len(model.values)):
        if i in start[0]:
            continue
        if i in model.fixed:
            number = model.fixed[i]
            digits += next((cost for n, cost in nice_numbers(float(number), allow_pi, 1e-12) if n == number), 13)
        else:
            digits += max(_digits_needed(model, i, lambda trial_loss: model.fitness.accepts(trial_loss, loss)), 2)
    if not noise.noisy:
        return math.log(10) * digits
    scale = max(reference, noise.variance)
    return math.log(10) * digits + noise.n * max(loss - reference, 0.0) / (2 * scale)


def _errors(model: Parametric) -> np.ndarray:
    """Standard errors of the constants on noisy data; zeros on exact data."""
    return model.standard_errors() if model.fitness.noise.noisy else np.zeros(len(model.values))


def _tolerance(value: float, error: float, sigmas: float) -> float:
    """Relative distance within which nice numbers are looked for: ``sigmas``
    standard errors, at least ``NICE_TOLERANCE`` and at most ``MAX_TOLERANCE``."""
    return min(max(NICE_TOLERANCE, sigmas * error / abs(value) if value else 0.0), MAX_TOLERANCE)


def snap_jointly(model: Parametric, reference_loss: float, allow_pi: bool = True,
                 errors: np.ndarray | None = None) -> tuple[dict[int, sp.Expr], np.ndarray, float] | None:
    """The simplest rational near each free constant of ``model`` (cost at
    most ``REFIT_COST``: ``2``, ``-1``, ``3/2``), if the data accept them all
    together: ``(numbers, values, loss)``, the numbers by constant index,
    the values and loss with them; ``None`` otherwise, or when fewer than
    two constants are free. ``model`` is not changed. ``errors``: the
    constants' standard errors, if already computed (:func:`_errors`).

    Constants fitted together are correlated, and one at a time each is
    tested against the others' fitted values: the data may reject the simple
    number of each although they accept all of them at once (``(1 - x)**2``
    fitted as ``1.08*x**2 - 2.05*x + 1`` on noisy data). The test here is a
    likelihood ratio with as many degrees of freedom as constants fixed
    (:meth:`NoiseFloor.margin`), nothing refitted. A number is a candidate
    only within the reach of that test (:meth:`NoiseFloor.reach` standard
    errors; relative distance at least ``NICE_TOLERANCE``, at most
    ``MAX_TOLERANCE``); if a constant has none, there is no joint candidate.
    :func:`snap_constants` also goes one constant at a time, and keeps
    whichever of the two is the shorter description of the constants and
    the data (:func:`_description`).
    """
    free = model.free()
    if len(free) < 2:
        return None
    noise = model.fitness.noise
    errors = _errors(model) if errors is None else errors
    reach = noise.reach(len(free))
    trial, numbers = model.values.copy(), {}
    for i in free:
        value = model.values[i]
        simple = [number for number, cost in nice_numbers(value, allow_pi, _tolerance(value, errors[i], reach))
                  if number.is_Rational and cost <= REFIT_COST]
        if not simple:
            return None
        numbers[i] = simple[0]
        trial[i] = float(simple[0])
    loss = model.loss(trial)
    if not loss <= reference_loss + noise.margin(reference_loss, constants=len(free)):
        return None
    return numbers, trial, loss


def round_constants(model: Parametric, reference_loss: float) -> sp.Expr:
    """The expression with the free constants at the fewest significant
    digits (2 to 12) the data support."""
    for digits in range(2, 13):
        trial = np.array([float(f"{v:.{digits}g}") for v in model.values])
        if model.fitness.accepts(model.loss(trial), reference_loss):
            return model.expression(digits)
    return model.expression()


def fix_redundant(model: Parametric, reference_loss: float) -> float:
    """Fix the constants others can stand in for (:meth:`Parametric.redundant`)
    to 1 (with their sign), the others refitted, so that a fit has no free
    scale to drift along (``c*sqrt(a*x + b*y)``, ``(a*x)/(b*y + c*z)``) and
    the others come out as the nice numbers they are. Returns the loss the
    next step is judged against."""
    for i in model.redundant():
        number = sp.Integer(1 if model.values[i] >= 0 else -1)
        model.fixed[i] = number
        trial = model.values.copy()
        trial[i] = float(number)
        trial, loss = model.refit(trial)
        if model.fitness.accepts(loss, reference_loss):
            model.values = trial
        else:
            del model.fixed[i]
    return reference_loss


def polish(
    expr: sp.Expr, fitness: Fitness, allow_pi: bool = True, deadline: float | None = None
) -> tuple[sp.Expr, float]:
    """Refit, snap, simplify and round ``expr``; returns (expression, loss).

    The result's loss is within :meth:`Fitness.accepts` of the refitted loss
    for each constant fixed on its own, and within the test of as many
    constants for those fixed together (:func:`snap_jointly`).
    Past ``deadline`` (``time.monotonic()``), steps are skipped: at worst
    the constants the data do not need are dropped and the others rounded.
    """
    late = lambda: deadline is not None and time.monotonic() > deadline
    model = Parametric(normalise_ratio(merge_numbers(expr)), fitness)
    if late():
        reference = model.loss()
    else:
        model.values, reference = model.refit()
    if not math.isfinite(reference):
        return model.expression(), reference
    if not late():
        reference = fix_redundant(model, reference)
        reference = snap_constants(model, reference, allow_pi, deadline=deadline)
        if model.fixed and len(model.fixed) < len(model.values):
            # a constant fixed with the others refitted moves them: once more
            reference = snap_constants(model, reference, allow_pi, max_refits=2, deadline=deadline)
    if not late():
        snapped = model.expression()
        simpler = merge_numbers(simplify(snapped, fitness))
        # Fixing constants can merge the others (c1*(c2*x) -> c*x): snap again.
        if simpler != snapped or len(constants(simpler)) < len(model.values) - len(model.fixed):
            model = Parametric(simpler, fitness)
            model.values, _ = model.refit()
            reference = snap_constants(model, reference, allow_pi, max_refits=2, deadline=deadline)
    else:  # out of time: snap what needs no refit (drop unneeded terms, nice numbers)
        reference = snap_constants(model, reference, allow_pi, max_refits=0, refit_drops=False)
    final = round_constants(model, reference)
    return final, fitness.loss(final)
