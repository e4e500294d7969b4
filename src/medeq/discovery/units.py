"""Dimensional analysis: physical units -> dimensionless groups -> equations.

When every input and the response carry a physical unit, Buckingham's pi
theorem says that any law ``y = f(x_1, ..., x_P)`` can be written

    y = Y0(x) * F(pi_1, ..., pi_k),

where the ``pi_j`` are products of powers of the inputs without dimension,
``k = P - rank(D)`` (``D`` the matrix of the inputs' SI base-dimension
exponents) and ``Y0`` is a product of powers of the inputs with the
response's dimension. Stokes' drag ``F(mu, R, v)`` becomes ``F / (mu R v) =
C`` (no group at all); a relativistic mass ``m(m_0, v, c)`` becomes
``m / m_0 = F(v / c)``, a problem in one variable.

:func:`analyse` finds exact integer exponents (sympy's rational null space)
and the simplest basis: every group is a *circuit* of ``D`` (a set of inputs
whose columns are minimally dependent, so no input can be left out of it),
chosen greedily by fewest inputs, then smallest exponents - on a linear
matroid the greedy choice gives the basis with the fewest inputs in total.
``Y0`` is the solution of ``D a = d_y`` with the fewest inputs, then the
smallest (preferably integer) exponents; among equally simple ones, the data
choose the one that leaves ``y / Y0`` the least to explain (``m*c**2``, not
``m*v**2``, for a relativistic energy). A group's sign makes most of its
exponents positive, except that the inputs of ``Y0`` go to the denominator
(``x2/x1`` when ``Y0 = x1``): they set the scale the others are measured by.

:func:`discover_dimensionless` converts the data to SI base units (so the
groups are really dimensionless whatever the user's units: ``mm``, ``uN``),
searches ``y / Y0 = F(pi)`` with :func:`medeq.discovery.engine.discover_arrays`,
and re-polishes every equation of its front as ``Y0 * F(pi)`` on ``y`` itself
(in SI units: least squares there weighs the points as their noise does,
alike unless known variances differ), judged against the noise floor of ``y``; then writes it back in the
original variables and units, and keeps it only if it still meets
``maxsize``, the constraints and the chosen operators. Its hall of fame holds
only dimensionally consistent equations, whose constants are dimensionless
numbers (times the unit conversion factors, when the units are not SI).

Angles (``rad``, ``deg``) are dimensionless, as in the SI: an angle is a group
of its own, and a response in ``rad`` is a dimensionless response.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..parameters import si_factor, unit_dimensions
from . import constraints as constraint_checks
from .backends import SearchSettings
from .engine import CANDIDATE_SECONDS, discover_arrays, read_back
from .equations import HallOfFame, pareto_front
from .expressions import complexity, symbols_for, to_string
from .noise import NoiseFloor, estimate_noise_variance, noise_floor, precision_weights
from .polish import Fitness, polish
from .rewrites import simplify, tidy_roots

logger = logging.getLogger(__name__)

#: Circuits are enumerated over subsets of at most this many candidate sets;
#: beyond it the groups come from one basis of the null space.
MAX_SUBSETS = 20000
#: Share of the time budget after which re-polishing in the original
#: variables only rounds constants.
POLISH_DEADLINE = 0.95
#: The dimensionless search of ``y / Y0`` gets one noise variance per point
#: (``sigma**2 / Y0_i**2``: its seeds and polishing weigh the points by
#: ``Y0_i**2``; an estimated ``sigma**2`` keeps its degrees of freedom) if
#: ``True``; if ``False`` their mean (unweighted: the points of small ``Y0``,
#: the noisiest, count as much as the others).
PER_POINT_FLOOR = True
#: Sums whose largest float weight lies outside this range are rescaled
#: (:func:`_well_scaled`) before they are refitted on noisy data.
WELL_SCALED = (1e-3, 1e3)


@dataclass(frozen=True)
class DimensionalAnalysis:
    """The dimensionless groups of a set of inputs, and the response's scale.

    Attributes
    ----------
    names : list[str]
        The inputs analysed.
    units : list[str]
        Their units.
    response_unit : str
        The response's unit.
    groups : list[tuple[Fraction, ...]]
        Exponents (over ``names``) of each dimensionless group ``pi_j``;
        integers, simplest basis.
    scale : tuple[Fraction, ...] or None
        Exponents of ``Y0``, the product of inputs with the response's
        dimension; ``None`` when no such product exists.
    """

    names: tuple[str, ...]
    units: tuple[str, ...]
    response_unit: str
    groups: tuple[tuple[Fraction, ...], ...]
    scale: tuple[Fraction, ...] | None

    @property
    def expressible(self) -> bool:
        """Whether some product of the inputs' powers has the response's dimension."""
        return self.scale is not None

    def group_expressions(self) -> list[sp.Expr]:
        """The groups as sympy expressions of the inputs' symbols."""
        return [_monomial(self.names, e) for e in self.groups]

    def scale_expression(self) -> sp.Expr | None:
        """``Y0`` as a sympy expression of the inputs' symbols."""
        return None if self.scale is None else _monomial(self.names, self.scale)

    def describe(self, response: str = "y") -> str:
        """One line per group and the form of the law, e.g.::

            dimensionless groups: pi1 = v/c
            law: m = m_0 * Phi(pi1)
        """
        groups = [to_string(g, self.names) for g in self.group_expressions()]
        listed = ", ".join(f"pi{j + 1} = {g}" for j, g in enumerate(groups)) or "none"
        if self.scale is None:
            return (f"dimensionless groups: {listed}\n"
                    f"no product of {list(self.names)} has the dimension of {response} "
                    f"[{self.response_unit}]")
        scale = to_string(self.scale_expression(), self.names)
        function = f"Phi({', '.join(f'pi{j + 1}' for j in range(len(groups)))})"
        law = (function if scale == "1" else f"{scale} * {function}") if groups \
            else f"constant * {scale}"
        return f"dimensionless groups: {listed}\nlaw: {response} = {law}"

    def __str__(self) -> str:
        return self.describe()


def _monomial(names: Sequence[str], exponents: Sequence[Fraction]) -> sp.Expr:
    symbols = symbols_for(names)
    return sp.Mul(*[s ** sp.Rational(e.numerator, e.denominator)
                    for s, e in zip(symbols, exponents) if e])


def dimension_matrix(units: Sequence[str]) -> tuple[list[str], sp.Matrix]:
    """The base dimensions involved and the integer/rational matrix ``D``
    (one row per base dimension, one column per unit)."""
    dimensions = [unit_dimensions(u) for u in units]
    bases = sorted({d for dims in dimensions for d in dims})
    rows = [[sp.Rational(dims[b].numerator, dims[b].denominator) if b in dims else 0
             for dims in dimensions] for b in bases]
    return bases, sp.Matrix(len(bases), len(units), [v for row in rows for v in row])


def _primitive(vector: Sequence) -> tuple[Fraction, ...]:
    """Integer vector along ``vector`` with coprime entries, oriented so that
    most exponents are positive (ties: the first non-zero one)."""
    values = [Fraction(int(sp.fraction(v)[0]), int(sp.fraction(v)[1])) for v in vector]
    lcm = math.lcm(*[v.denominator for v in values])
    integers = [int(v * lcm) for v in values]
    gcd = math.gcd(*integers) or 1
    integers = [i // gcd for i in integers]
    positive = sum(i > 0 for i in integers)
    negative = sum(i < 0 for i in integers)
    first = next(i for i in integers if i)
    if negative > positive or (negative == positive and first < 0):
        integers = [-i for i in integers]
    return tuple(Fraction(i) for i in integers)


def _cost(exponents: Sequence[Fraction]) -> tuple:
    support = [i for i, e in enumerate(exponents) if e]
    return (len(support), max((e.denominator for e in exponents), default=1),
            sum(abs(e) for e in exponents), max((abs(e) for e in exponents), default=0),
            tuple(support))


def _subsets(n: int, largest: int):
    for size in range(0, largest + 1):
        yield from itertools.combinations(range(n), size)


def _n_subsets(n: int, largest: int) -> int:
    return sum(math.comb(n, size) for size in range(0, largest + 1))


def pi_groups(D: sp.Matrix) -> list[tuple[Fraction, ...]]:
    """A simplest basis of the null space of ``D``, as integer exponent vectors.

    Every group is a circuit of ``D`` (no input can be dropped from it); the
    basis is chosen greedily by fewest inputs, then smallest exponents.
    """
    P = D.cols
    rank = D.rank()
    k = P - rank
    if k == 0:
        return []
    if _n_subsets(P, rank + 1) <= MAX_SUBSETS:
        circuits = set()
        for subset in _subsets(P, rank + 1):
            if not subset:
                continue
            null = D[:, list(subset)].nullspace()
            if len(null) != 1 or any(v == 0 for v in null[0]):
                continue
            vector = [0] * P
            for i, v in zip(subset, null[0]):
                vector[i] = v
            circuits.add(_primitive(vector))
        pool = sorted(circuits, key=_cost)
    else:
        pool = sorted((_primitive(v) for v in D.nullspace()), key=_cost)
    basis: list[tuple[Fraction, ...]] = []
    for circuit in pool:
        trial = basis + [circuit]
        if _rank(trial) == len(trial):
            basis = trial
        if len(basis) == k:
            break
    return basis


def _rank(vectors: Sequence[Sequence[Fraction]]) -> int:
    return sp.Matrix([[sp.Rational(e.numerator, e.denominator) for e in v] for v in vectors]).rank()


def response_scale(D: sp.Matrix, target: sp.Matrix) -> tuple[Fraction, ...] | None:
    """Exponents ``a`` with ``D a = target`` using the fewest inputs, then the
    simplest exponents (integers first); ``None`` if there is none."""
    return next(iter(response_scales(D, target)), None)


def response_scales(D: sp.Matrix, target: sp.Matrix) -> list[tuple[Fraction, ...]]:
    """Every simplest solution ``a`` of ``D a = target`` (as
    :func:`response_scale`: fewest inputs, then simplest exponents; ties are
    all kept, in the order of their inputs); ``[]`` if there is none."""
    P = D.cols
    if all(v == 0 for v in target):
        return [tuple(Fraction(0) for _ in range(P))]
    rank = D.rank()
    found = []
    for subset in _subsets(P, rank):
        if not subset:
            continue
        if found and len(subset) > _cost(found[0])[0]:
            break
        columns = D[:, list(subset)]
        if columns.rank() != len(subset):
            continue
        try:
            solution, free = columns.gauss_jordan_solve(target)
        except ValueError:  # inconsistent
            continue
        if free.shape[0] or any(v == 0 for v in solution):
            continue
        exponents = [Fraction(0)] * P
        for i, v in zip(subset, solution):
            numerator, denominator = sp.fraction(sp.nsimplify(v))
            exponents[i] = Fraction(int(numerator), int(denominator))
        found.append(tuple(exponents))
    if not found:
        return []
    simplest = min(_cost(e)[:-1] for e in found)  # the last entry only orders ties
    return sorted((e for e in found if _cost(e)[:-1] == simplest), key=_cost)


def analyse(names: Sequence[str], units: Sequence[str], response_unit: str,
            X: np.ndarray | None = None, y: np.ndarray | None = None) -> DimensionalAnalysis:
    """Dimensionless groups of inputs ``names`` with ``units``, and the
    product of inputs with the dimension of ``response_unit``.

    Several products may be equally simple (``m*c**2`` and ``m*v**2`` for an
    energy): with data ``(X, y)`` the one that leaves the least to explain is
    taken, the smallest variance of ``log|y / Y0|`` (``m*c**2`` for
    ``m*c**2/sqrt(1 - v**2/c**2)``: ``Phi`` stays near 1), else the first.

    Examples
    --------
    >>> print(analyse(["m_0", "v", "c"], ["kg", "m/s", "m/s"], "kg").describe("m"))
    dimensionless groups: pi1 = v/c
    law: m = m_0 * Phi(pi1)
    """
    names = tuple(str(n) for n in names)
    units = tuple(str(u) for u in units)
    bases, D = dimension_matrix([*units, response_unit])
    inputs, target = D[:, : len(names)], D[:, len(names)]
    scales = response_scales(inputs, target)
    scale = scales[0] if scales else None
    if len(scales) > 1 and X is not None and y is not None:
        scale = min(scales, key=lambda a: _log_spread(np.asarray(X, dtype=float), np.asarray(y, dtype=float), a))
    groups = pi_groups(inputs)
    if scale is not None:
        # The inputs of Y0 set the scale: the groups measure the others against
        # them (x2/x1 rather than x1/x2 when Y0 = x1).
        groups = [tuple(-e for e in g) if sum(a * b for a, b in zip(g, scale)) > 0 else g
                  for g in groups]
    return DimensionalAnalysis(names, units, str(response_unit), tuple(groups), scale)


def _log_spread(X: np.ndarray, y: np.ndarray, exponents: Sequence[Fraction]) -> float:
    """Variance of ``log|y / prod(x_i ** a_i)|`` over the samples where ``y``
    is not 0 (inf if the scale is 0 at one of them, or none is left)."""
    used = [i for i, a in enumerate(exponents) if a]
    rows = (y != 0) & np.isfinite(y)  # failed runs (NaN) say nothing
    with np.errstate(all="ignore"):
        ratio = np.log(np.abs(y[rows])) - np.log(np.abs(X[rows][:, used])) @ np.array(
            [float(exponents[i]) for i in used])
    return float(np.var(ratio)) if len(ratio) and np.all(np.isfinite(ratio)) else math.inf


def check_mode(value) -> str | bool:
    """``dimensional_analysis`` is ``"auto"``, ``True`` or ``False``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "auto":
        return value
    raise ValueError(f"dimensional_analysis must be 'auto', True or False; got {value!r}.")


def missing_units(names: Sequence[str], units: Sequence[str | None], response: str,
                  response_unit: str | None) -> list[str]:
    """What lacks a unit, as text for messages (``[]`` when units are complete)."""
    missing = [f"parameter {n!r}" for n, u in zip(names, units) if u is None]
    if response_unit is None:
        missing.append(f"response {response!r}")
    return missing


def response_analyses(parameter_names: Sequence[str], units: Sequence[str | None],
                      response_units: Mapping[str, str | None] | None,
                      equations: Mapping | None = None, X: np.ndarray | None = None,
                      responses: Mapping[str, np.ndarray] | None = None) -> dict[str, DimensionalAnalysis]:
    """The dimensional analysis of every response (for reports): the one its
    hall of fame in ``equations`` was found with, else the one its declared
    units give when every parameter and the response have units (the
    analysis ``discover`` does by default: with the samples ``X`` and the
    ``responses``' values, the same choice among equally simple scales);
    responses without one are left out."""
    found = {}
    for name, unit in (response_units or {}).items():
        kept = getattr((equations or {}).get(name), "dimensional_analysis", None)
        if kept is not None:
            found[name] = kept
        elif unit is not None and not missing_units(parameter_names, units, name, unit):
            y = None if responses is None else responses.get(name)
            found[name] = analyse(parameter_names, units, unit, X, y)
    return found


def discover_dimensionless(
    X: np.ndarray,
    y: np.ndarray,
    parameter_names: Sequence[str],
    units: Sequence[str],
    response_unit: str,
    settings: SearchSettings | None = None,
    *,
    response: str = "y",
    columns: Sequence[int] | None = None,
    parsimony: float = 0.0032,
    noise_variance: float | np.ndarray | None = None,
    noise_dof: float | None = None,
    **engine_options,
) -> HallOfFame | None:
    """Discover ``y = Y0(x) F(pi(x))`` with dimensional analysis.

    Parameters
    ----------
    X, y, parameter_names, settings, parsimony
        As for :func:`medeq.discovery.engine.discover_arrays`.
    units : list[str]
        Unit of every column of ``X`` (pint syntax).
    response_unit : str
        Unit of ``y``.
    response : str
        The response's name (for messages).
    columns : list[int], optional
        Only these inputs take part (feature selection).
    noise_variance : float or (n,) array, optional
        The noise floor of ``y`` in its own units squared, as for
        :func:`~medeq.discovery.engine.discover_arrays` (``None``: estimated
        here on ``(X, y)``).
    noise_dof : float, optional
        Its degrees of freedom as an estimate, as for
        :func:`~medeq.discovery.engine.discover_arrays`; the search of
        ``y / Y0`` keeps them.
    **engine_options
        Passed to :func:`~medeq.discovery.engine.discover_arrays`
        (``constraints``, ``nested_constraints``, ``backend``,
        ``linear_seeds``, ``early_stop``).

    Returns
    -------
    HallOfFame or None
        Equations in the original variables and units, with the
        :class:`DimensionalAnalysis` as ``.dimensional_analysis``; ``None``, with a
        warning saying why, when dimensional analysis does not apply (no
        product of inputs has the response's dimension, a unit with an
        offset such as ``degC``, data where the groups are not finite, or no
        equation written back in the original variables meets ``maxsize``,
        the constraints and the operators): the caller then searches
        without it.

    Notes
    -----
    Noise. The floor of ``y`` (given, or estimated once on the original
    data) is the one every equation is finally judged against. Dividing by
    ``Y0`` makes the noise of ``y / Y0`` differ from point to point (standard
    deviation ``sigma / |Y0_i|``): the dimensionless search is given these
    per-point variances, so it weighs its points by ``Y0_i**2``, or their
    mean (:data:`PER_POINT_FLOOR`). Its whole front
    comes back; every equation is refitted by least squares on ``y`` itself
    in SI units (the noise's own weights: equal unless known variances
    differ), snapped and selected
    against the original floor. On noisy data each also comes a second time
    with all its constants free (the search snapped them against the
    rescaled, heteroscedastic target), sums rescaled to weights of order one.
    """
    names = [str(n) for n in parameter_names]
    used = list(range(len(names))) if columns is None else [int(c) for c in columns]
    started = time.monotonic()
    settings = settings or SearchSettings()
    operators = list(settings.binary_operators) + list(settings.unary_operators)
    limits, nested = constraint_checks.validate(engine_options.get("constraints"),
                                                engine_options.get("nested_constraints"), operators)
    analysis = analyse([names[i] for i in used], [units[i] for i in used], response_unit,
                       np.asarray(X, dtype=float)[:, used], y)
    factors = [si_factor(units[i]) for i in used]
    y_factor = si_factor(response_unit)
    offset = [f"{names[i]} [{units[i]}]" for i, f in zip(used, factors) if f is None]
    if y_factor is None:
        offset.append(f"{response} [{response_unit}]")
    if offset:
        return _not_applicable(f"the unit(s) of {offset} have an offset (not a plain multiple "
                               "of an SI unit, like degC); use an absolute unit such as K")
    if not analysis.expressible:
        return _not_applicable(
            f"no product of powers of {list(analysis.names)} has the dimension of {response} "
            f"[{response_unit}] ({_dimension_text(response_unit)}); a missing input, or a "
            "dimensional constant the law depends on, would make it expressible")
    logger.info("dimensional analysis of %s:\n%s", response, analysis.describe(response))

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    # Everything below works in SI base units, where constants are dimensionless numbers.
    si = X.copy()
    si[:, used] = X[:, used] * np.asarray(factors)
    y_si = y * y_factor
    with np.errstate(all="ignore"):
        groups = np.column_stack([_power_product(si[:, used], e) for e in analysis.groups]) \
            if analysis.groups else np.empty((len(y), 0))
        scale = _power_product(si[:, used], analysis.scale)
        target = y_si / scale
    if not (np.all(np.isfinite(groups)) and np.all(np.isfinite(target))):
        return _not_applicable(
            "the dimensionless groups are not finite on the data (zero, or negative values "
            "under a fractional power)")

    symbols = symbols_for(names)
    # what equations are judged against (estimated on the data if not given)
    floor_y = noise_floor(X, y, noise_variance, lambda: estimate_noise_variance(X, y, settings.seed), noise_dof)
    floor = _rescaled(floor_y, y_si, y_factor**2)
    per_point = np.asarray(noise_variance, dtype=float) * y_factor**2 \
        if np.ndim(noise_variance) == 1 else None
    Y0 = analysis.scale_expression()
    if analysis.groups:
        pi_names = [f"pi{j + 1}" for j in range(len(analysis.groups))]
        reduced = discover_arrays(groups, target, pi_names, settings, parsimony=0.0,
                                  noise_variance=_reduced_variance(floor, per_point, scale),
                                  noise_dof=floor.dof, **engine_options)
        logger.debug("dimensionless hall of fame:\n%s", reduced)
        pi_symbols = symbols_for(pi_names)
        reduced_forms = [e.sympy for e in reduced]
        if floor.noisy:  # also with every constant free again (see the notes)
            freed = [_well_scaled(_freed(f)) for f in reduced_forms]
            reduced_forms += [f for f in freed if f not in reduced_forms]
        candidates = [f.xreplace(dict(zip(pi_symbols, analysis.group_expressions()))) * Y0
                      for f in reduced_forms]
    else:  # y / Y0 is a constant, fitted on y itself
        candidates = [sp.Float(float(np.mean(target))) * Y0]

    fitness = Fitness(si, y_si, symbols, floor, precision_weights(per_point))
    timeout = settings.timeout
    deadline = None if timeout is None else started + POLISH_DEADLINE * timeout
    allow_pi = "pi" not in names
    original = Fitness(X, y, symbols, weights=precision_weights(noise_variance))
    to_user = _to_user_units([symbols[i] for i in used], factors, y_factor)
    polished, dropped = [], 0
    for expr in sorted(candidates, key=complexity):
        tick = time.monotonic()
        limit = tick + CANDIDATE_SECONDS
        expr = tidy_roots(expr, fitness)
        clean, _ = polish(expr, fitness, allow_pi=allow_pi,
                          deadline=limit if deadline is None else min(deadline, limit))
        clean = read_back(to_user(clean), names)
        if clean is None:
            continue
        clean = _tidied(clean, original)
        if not _allowed(clean, settings.maxsize, limits, nested, operators):
            dropped += 1
            continue
        polished.append((clean, original.loss(clean)))
    if dropped:
        logger.info("dimensional analysis: %d equation(s) written in the original variables "
                    "break maxsize, the constraints or the operators: dropped", dropped)
    if not polished:
        return _not_applicable(
            f"every equation written back in {list(analysis.names)} breaks maxsize="
            f"{settings.maxsize}, the constraints or the chosen operators")
    hall_of_fame = pareto_front(polished, names, parsimony=parsimony, noise=floor_y)
    hall_of_fame.dimensional_analysis = analysis
    logger.info("dimensional analysis: %d equations in %.1f s", len(hall_of_fame),
                time.monotonic() - started)
    return hall_of_fame


def _power_product(values: np.ndarray, exponents: Sequence[Fraction]) -> np.ndarray:
    out = np.ones(len(values))
    for column, e in zip(values.T, exponents):
        if e:
            out = out * column ** float(e)
    return out


def _to_user_units(symbols, factors, y_factor):
    """The map from an equation in SI base units to the same equation in the
    user's units: each input ``x`` becomes ``factor * x`` and the result is
    divided by the response's factor, all exact numbers (``mm`` -> ``1/1000``),
    so the dimensionless constants stay exact (``6*pi``)."""

    def exact(value: float) -> sp.Expr:
        return sp.Rational(Fraction(repr(float(value))).limit_denominator(10**15))

    inputs = {s: exact(f) * s for s, f in zip(symbols, factors) if f != 1}
    divisor = exact(y_factor)
    return lambda expr: expr.xreplace(inputs) / divisor


def _freed(expr: sp.Expr) -> sp.Expr:
    """``expr`` with its numbers (coefficients, additive constants, numbers
    inside functions) turned into floats that a refit may change; exponents,
    and the signs of terms, stay as they are."""
    if expr.is_number:
        return sp.Float(float(expr)) if expr.is_real else expr
    if expr.is_Pow:
        exponent = expr.exp if expr.exp.is_number else _freed(expr.exp)
        return sp.Pow(_freed(expr.base), exponent)
    if expr.is_Mul or expr.is_Add:
        numbers = [a for a in expr.args if a.is_number]
        others = [_freed(a) for a in expr.args if not a.is_number]
        if not numbers:
            return expr.func(*others)
        number = expr.func(*numbers)
        if expr.is_Mul and number in (1, -1):
            return expr.func(number, *others)
        return expr.func(_freed(number), *others)
    if expr.args:
        return expr.func(*[_freed(a) for a in expr.args])
    return expr


def _well_scaled(expr: sp.Expr, factor_out: bool = True) -> sp.Expr:
    """``expr`` with every sum of float-weighted terms in a product or a power
    divided by its largest weight, the weight moved out as a factor
    (``sqrt(3e36*a - 6e36*b)`` -> ``1.7e18*sqrt(a - 2*b)``): the redundant
    scales of a rational or square-root fit become one constant, and the
    others numbers of order one that polishing can refit and snap. Sums that
    are a function's argument (``exp(a + b)``) stay as they are."""
    if not expr.args or expr.is_number:
        return expr
    if expr.is_Pow:
        return sp.Pow(_well_scaled(expr.base), expr.exp)
    inside = not isinstance(expr, sp.Function)
    rebuilt = expr.func(*[_well_scaled(a, inside) for a in expr.args])  # takes scaled sums' factors out
    if not (factor_out and rebuilt.is_Add and rebuilt.atoms(sp.Float)):
        return rebuilt
    largest = max(abs(float(t.as_coeff_Mul()[0])) for t in rebuilt.args)
    if not largest > 0 or WELL_SCALED[0] <= largest <= WELL_SCALED[1]:
        return rebuilt
    # unevaluated: the enclosing product or power takes the factor out (a bare
    # ``number * sum`` would be distributed again)
    terms = [t / sp.Float(largest) for t in rebuilt.args]
    # the largest weight becomes an exact +-1, so no constant is redundant
    terms = [sp.sign(t.as_coeff_Mul()[0]) * t.as_coeff_Mul()[1]
             if abs(float(t.as_coeff_Mul()[0])) == 1 else t for t in terms]
    return sp.Mul(sp.Float(largest), sp.Add(*terms), evaluate=False)


def _tidied(expr: sp.Expr, fitness: Fitness) -> sp.Expr:
    """``expr`` with whole-number floats made exact and then simplified
    (:func:`~medeq.discovery.rewrites.simplify`: kept only if simpler and equal
    on the data), e.g. ``76*u/(76.0 + 76*u*v)`` -> ``u/(u*v + 1)``: a freed
    constant that settles on a whole number leaves such redundant factors."""
    whole = {f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()}
    if not whole:
        return expr
    return simplify(expr.xreplace(whole), fitness)


def _reduced_variance(floor: NoiseFloor, per_point: np.ndarray | None, scale: np.ndarray):
    """The noise floor handed to the dimensionless search of ``y / Y0``: the
    noise variance of each point (``per_point``, else the floor's) divided by
    ``Y0_i**2`` (:data:`PER_POINT_FLOOR`), or their mean; 0 for exact data."""
    if not floor.noisy:
        return 0.0
    variances = (per_point if per_point is not None else np.full(len(scale), floor.variance)) / scale**2
    return variances if PER_POINT_FLOOR else float(np.mean(variances))


def _rescaled(floor: NoiseFloor, y: np.ndarray, factor: float) -> NoiseFloor:
    """``floor`` for the values ``y`` whose variance is ``factor`` times its own."""
    return NoiseFloor.of(y, floor.variance * factor, dof=floor.dof)


def _allowed(expr: sp.Expr, maxsize: int, limits, nested, operators) -> bool:
    """Whether an equation written back in the original variables meets the
    search's ``maxsize``, constraints and operators."""
    return (complexity(expr) <= maxsize and constraint_checks.satisfies(expr, limits, nested)
            and constraint_checks.expressible(expr, operators))


def _dimension_text(unit: str) -> str:
    dims = unit_dimensions(unit)
    if not dims:
        return "dimensionless"
    return "*".join(f"{d}^{e}" if e != 1 else d for d, e in dims.items())


def _not_applicable(reason: str) -> None:
    warnings.warn(f"dimensional analysis does not apply: {reason}; searching without it.",
                  RuntimeWarning, stacklevel=4)
    return None
