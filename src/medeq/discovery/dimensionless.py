"""Equation discovery with dimensional analysis (:mod:`.units` finds the groups).

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
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import sympy as sp

from ..parameters import si_factor, unit_dimensions
from . import constraints as constraint_checks
from .backends import SearchSettings
from .engine import CANDIDATE_SECONDS, discover_arrays, read_back
from .equations import HallOfFame, pareto_front
from .expressions import complexity, symbols_for
from .noise import NoiseFloor, estimate_noise_variance, noise_floor, precision_weights
from .polish import Fitness, polish
from .rewrites import simplify, tidy_roots
from .units import analyse

logger = logging.getLogger(__name__)

#: Share of the time budget (counted from the call) the dimensionless search
#: of ``y / Y0`` may use; the rest re-polishes its front on ``y``.
REDUCED_SEARCH_SHARE = 0.85
#: Share of the time budget after which re-polishing in the original
#: variables only rounds constants; past the whole budget, equations are
#: also no longer simplified (written back as polished).
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
        reduced = discover_arrays(groups, target, pi_names,
                                  settings.share_left(REDUCED_SEARCH_SHARE, started), parsimony=0.0,
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

    weights = precision_weights(noise_variance)  # the same in SI and in the user's units
    fitness = Fitness(si, y_si, symbols, floor, weights)
    timeout = settings.timeout
    deadline = None if timeout is None else started + POLISH_DEADLINE * timeout
    end = None if timeout is None else started + timeout
    allow_pi = "pi" not in names
    original = Fitness(X, y, symbols, weights=weights)
    to_user = _to_user_units([symbols[i] for i in used], factors, y_factor)
    polished, dropped = [], 0
    for expr in sorted(candidates, key=complexity):
        tick = time.monotonic()
        limit = tick + CANDIDATE_SECONDS
        in_time = end is None or tick < end
        if in_time:
            expr = tidy_roots(expr, fitness)
        clean, _ = polish(expr, fitness, allow_pi=allow_pi,
                          deadline=limit if deadline is None else min(deadline, limit))
        clean = read_back(to_user(clean), names)
        if clean is None:
            continue
        if in_time:
            clean = _tidied(clean, original)
        if not _allowed(clean, settings.maxsize, limits, nested, operators):
            dropped += 1
            continue
        polished.append((clean, original.loss(clean)))
    if dropped:
        logger.info("dimensional analysis: %d equation(s) written in the original variables "
                    "break maxsize, the constraints or the operators: dropped", dropped)
    if not polished:
        late = "" if end is None or time.monotonic() < end else (
            " (the time budget ran out before they were simplified: a larger "
            "timeout_in_seconds may help)")
        return _not_applicable(
            f"every equation written back in {list(analysis.names)} breaks maxsize="
            f"{settings.maxsize}, the constraints or the chosen operators{late}")
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
