"""Rewrites that make an equation readable without changing its values on
the data: sympy simplification (bounded, checked numerically), perfect
squares out of square roots, sums of cosines unfolded into the products
they hide, and numbers merged (``c*(sum)**p``). Each result is kept only if
it agrees with the original on the data."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from .expressions import complexity, make_function

if TYPE_CHECKING:
    from .polish import Fitness

#: Largest square root (sympy operation count) :func:`unsquare_roots` factors.
MAX_FACTOR_OPS = 40

#: What sympy's rewrites raise on expressions they cannot handle (skipped).
_SYMPY_FAILURES = (TypeError, ValueError, NotImplementedError, RecursionError, sp.PolynomialError)

#: Largest simplifiable expression (sympy operation count); beyond it sympy's
#: ``simplify`` can take minutes, so only cheap rewrites are tried.
MAX_SIMPLIFY_OPS = 30
#: ... and at most this many trigonometric functions (none nested in another).
MAX_SIMPLIFY_TRIG = 2


def simplify(expr: sp.Expr, fitness: Fitness) -> sp.Expr:
    """The simplest of a few sympy rewrites of ``expr`` that agree on the data
    (lowest complexity, then shortest text)."""
    positive = {
        s: sp.Symbol(s.name, positive=True)
        for i, s in enumerate(fitness.symbols)
        if len(fitness.X) and np.all(fitness.X[:, i] > 0)
    }
    back = {v: k for k, v in positive.items()}
    work = expr.xreplace(positive)
    rewrites = [work]
    unsquared = tidy_roots(expr, fitness)
    if unsquared is not expr:
        rewrites.append(unsquared.xreplace(positive))
    # ``force=True`` rewrites (e.g. sqrt(1/x) -> 1/sqrt(x)) are valid on the
    # data's domain only; the numerical check below keeps them honest.
    forced = (lambda e: sp.powsimp(e, force=True), lambda e: sp.powdenest(e, force=True))
    cheap = (sp.powsimp, sp.cancel, sp.factor_terms, sp.together, *forced)
    for rewrite in cheap:
        try:
            rewrites.append(rewrite(work))
        except _SYMPY_FAILURES:
            continue
    if sp.count_ops(work) <= MAX_SIMPLIFY_OPS and _tame_trigonometry(work):
        for start in dict.fromkeys((work, rewrites[-1])):  # each distinct start once
            try:
                simpler = sp.simplify(start)
                rewrites += [simpler, *(rewrite(simpler) for rewrite in forced)]
            except _SYMPY_FAILURES:
                pass
    reference = make_function(expr, fitness.symbols)(fitness.X)

    best, best_size = expr, _size(expr)  # ties go to the shorter text
    for candidate in rewrites[1:]:
        candidate = candidate.xreplace(back)
        candidate_size = _size(candidate)
        if candidate_size >= best_size or candidate.has(sp.I, sp.zoo, sp.nan):
            continue
        values = make_function(candidate, fitness.symbols)(fitness.X)
        if np.allclose(values, reference, rtol=1e-9, atol=1e-12 * (np.max(np.abs(reference)) + 1e-300)):
            best, best_size = candidate, candidate_size
    return best


def _tame_trigonometry(expr: sp.Expr) -> bool:
    """Whether sympy's ``simplify`` (its ``trigsimp``) finishes quickly on
    ``expr``: at most ``MAX_SIMPLIFY_TRIG`` trigonometric functions, none
    inside another's argument (``sin(x)/cos(a*x*sin(b*x)*cos(c*x))`` took
    sympy minutes)."""
    trig = [f for f in expr.atoms(sp.Function) if isinstance(f, TrigonometricFunction)]
    return len(trig) <= MAX_SIMPLIFY_TRIG and not any(
        g.has(TrigonometricFunction) for f in trig for g in f.args)


def tidy_roots(expr: sp.Expr, fitness: Fitness) -> sp.Expr:
    """Roots written as the data read them: squares taken out
    (:func:`unsquare_roots`, ``sqrt(a**2*b) -> a*sqrt(b)`` where ``a > 0``),
    then quotients split (:func:`split_roots`, ``sqrt(-1/(x**2 - 1)) ->
    1/sqrt(1 - x**2)`` where ``x**2 < 1``)."""
    return split_roots(unsquare_roots(expr, fitness), fitness)


def unsquare_roots(expr: sp.Expr, fitness: Fitness) -> sp.Expr:
    """Take perfect squares out of square roots where the data fix their sign:
    ``sqrt((x - t*u)**2 / (c**2 - u**2))`` becomes ``(x - t*u)*sqrt(1/(c**2 - u**2))``
    (as sympy writes it) when ``x - t*u > 0`` at every data point (sympy
    cannot know it; :func:`split_roots` then makes it
    ``(x - t*u)/sqrt(c**2 - u**2)``). The result is kept only if it agrees
    with ``expr`` on the data."""
    roots = [p for p in expr.atoms(sp.Pow) if p.exp == sp.Rational(1, 2)
             and sp.count_ops(p.base) <= MAX_FACTOR_OPS]
    if not roots:
        return expr
    replacements = {}
    for root in roots:
        try:
            factored = sp.factor(sp.together(root.base))
        except _SYMPY_FAILURES:
            continue
        outside, inside = sp.Integer(1), sp.Integer(1)
        for factor in sp.Mul.make_args(factored):
            base, power = factor.as_base_exp()
            if power.is_Integer and abs(power) >= 2 and base.free_symbols:
                half = power // 2 if power > 0 else -((-power) // 2)
                sign = _sign_on_data(base, fitness)
                if sign:
                    outside *= (sign * base) ** half
                    inside *= base ** (power - 2 * half)
                    continue
            inside *= factor
        if outside != 1:
            try:  # what stays inside, unfactored: sqrt(c**2 - u**2), not sqrt(c - u)*sqrt(c + u)
                replacements[root] = outside * sp.sqrt(sp.cancel(root.base / outside**2))
            except _SYMPY_FAILURES:
                replacements[root] = outside * sp.sqrt(inside)
    return _replaced(expr, replacements, fitness)


def split_roots(expr: sp.Expr, fitness: Fitness) -> sp.Expr:
    """Split roots of quotients into quotients of roots, with the signs the
    data fix: ``sqrt(-1/(x**2 - 1))`` becomes ``1/sqrt(1 - x**2)`` when
    ``x**2 < 1`` at every data point (sympy writes ``1/(1 - x**2)`` as
    ``-1/(x**2 - 1)`` and cannot split the root without knowing the sign).
    Applies to every power with a non-integer rational exponent whose base's
    numerator and denominator each keep one sign on the data, when the split
    (or, failing that, the root of the quotient with those signs) is simpler
    (complexity, then text): ``sqrt(x/(x + 1))`` stays whole. The result is
    kept only if it agrees with ``expr`` on the data."""
    powers = [p for p in expr.atoms(sp.Pow) if p.exp.is_Rational and not p.exp.is_Integer
              and sp.count_ops(p.base) <= MAX_FACTOR_OPS]
    replacements = {}
    for power in powers:
        try:
            top, bottom = sp.fraction(sp.together(power.base))
        except _SYMPY_FAILURES:
            continue
        if bottom == 1:
            continue
        signs = [_sign_on_data(part, fitness) for part in (top, bottom)]
        if 0 in signs:
            continue
        top, bottom = signs[0] * top, signs[1] * bottom
        options = [sp.Pow(top, power.exp) / sp.Pow(bottom, power.exp), sp.Pow(top / bottom, power.exp)]
        best = min(options, key=_size)
        if _size(best) < _size(power):
            replacements[power] = best
    return _replaced(expr, replacements, fitness)


def _size(expr: sp.Expr) -> tuple[int, int]:
    """How complex ``expr`` reads: its complexity, then the length of its text."""
    return complexity(expr), len(str(expr))


def _replaced(expr: sp.Expr, replacements: dict, fitness: Fitness) -> sp.Expr:
    """``expr`` with ``replacements`` made, if it agrees with ``expr`` on the data."""
    if not replacements:
        return expr
    candidate = expr.xreplace(replacements)
    with np.errstate(all="ignore"):
        before = make_function(expr, fitness.symbols)(fitness.X)
        after = make_function(candidate, fitness.symbols)(fitness.X)
    return candidate if np.allclose(after, before, rtol=1e-9, equal_nan=False) else expr


def _sign_on_data(expr: sp.Expr, fitness: Fitness) -> int:
    """+1 or -1 if ``expr`` keeps that sign at every data point, else 0."""
    if not expr.free_symbols:
        return 1 if expr.is_positive else -1 if expr.is_negative else 0
    with np.errstate(all="ignore"):
        values = make_function(expr, fitness.symbols)(fitness.X)
    return 1 if np.all(values > 0) else -1 if np.all(values < 0) else 0


def unfold_differences(expr: sp.Expr, X: np.ndarray, symbols: Sequence[sp.Symbol]) -> sp.Expr:
    """Products hidden in sums of cosines (or sines), made explicit.

    A search that lacks the product ``x * sin(w)`` can write it as
    ``c*cos(w) - c*cos(w + d*x)`` with a tiny ``d`` and a huge ``c``, or as
    ``c*cos(e*x - w) - c*cos(e*x + w)``. Two terms ``c1*f(a) + c2*f(b)``
    (``f`` cos or sin, ``|c2| ~ |c1|``) are rewritten as a product by the
    sum-to-product identities (``cos a - cos b = -2 sin((a+b)/2) sin((a-b)/2)``,
    ...), and a factor whose argument stays below ``SMALL_ANGLE`` on the data
    ``X`` is linearised (``sin u -> u``, ``cos u -> 1``). The result is only a
    candidate: its constants are refitted and the data decide.
    """
    if not expr.args:
        return expr
    args = [unfold_differences(a, X, symbols) for a in expr.args]
    expr = expr.func(*args) if args != list(expr.args) else expr
    if not expr.is_Add:
        return expr
    terms = list(expr.args)
    for i, j in itertools.combinations(range(len(terms)), 2):
        found = _sum_to_product(terms[i], terms[j], X, symbols)
        if found is not None:
            rest = [t for k, t in enumerate(terms) if k not in (i, j)]
            return sp.Add(found, *rest)
    return expr


#: Largest |angle| on the data for which :func:`unfold_differences` linearises.
SMALL_ANGLE = 0.6


def _sum_to_product(first, second, X, symbols):
    c1, f1 = first.as_coeff_Mul()
    c2, f2 = second.as_coeff_Mul()
    if not (isinstance(f1, (sp.cos, sp.sin)) and type(f1) is type(f2)) or c1 == 0:
        return None
    if abs(abs(float(c1)) - abs(float(c2))) > 1e-2 * abs(float(c1)):
        return None
    a, b = f1.args[0], f2.args[0]
    half_sum, half_difference = sp.expand((a + b) / 2), sp.expand((a - b) / 2)
    same = float(c1) * float(c2) > 0
    if isinstance(f1, sp.cos):
        product = (2 * sp.cos(half_sum) * sp.cos(half_difference) if same
                   else -2 * sp.sin(half_sum) * sp.sin(half_difference))
    else:
        product = (2 * sp.sin(half_sum) * sp.cos(half_difference) if same
                   else 2 * sp.cos(half_sum) * sp.sin(half_difference))
    small = {}
    for factor in sp.Mul.make_args(product):
        if isinstance(factor, (sp.sin, sp.cos)) and factor.args[0].free_symbols:
            values = make_function(factor.args[0], symbols)(X)
            if np.all(np.isfinite(values)) and np.max(np.abs(values)) <= SMALL_ANGLE:
                small[factor] = factor.args[0] if isinstance(factor, sp.sin) else sp.Integer(1)
    if not small:
        return None  # a product of two full cosines is no simpler than their sum
    return c1 * product.xreplace(small)


def merge_numbers(expr: sp.Expr) -> sp.Expr:
    """Fold constant factors/terms that involve a float into one float.

    ``2.22*sqrt(2)*x/pi`` becomes ``1.0000*x``, so that snapping sees (and
    can simplify) the one effective constant.
    """
    if not expr.args:
        return expr
    if not expr.free_symbols:
        return sp.Float(float(expr.evalf())) if expr.has(sp.Float) else expr
    args = [merge_numbers(a) for a in expr.args]
    if expr.is_Mul or expr.is_Add:
        numbers = [a for a in args if not a.free_symbols]
        if len(numbers) > 1 and any(a.has(sp.Float) for a in numbers):
            value = sp.Float(float(expr.func(*numbers).evalf()))
            return expr.func(value, *[a for a in args if a.free_symbols])
    if expr.is_Mul:
        # c*x*(a*u + b*v) has one constant too many: c goes into the sum.
        numbers = [a for a in args if not a.free_symbols]
        sums = [a for a in args if a.is_Add]
        if (len(numbers) == 1 and numbers[0].has(sp.Float) and len(sums) == 1
                and all(t.as_coeff_Mul()[0].has(sp.Float) for t in sums[0].args)):
            rest = [a for a in args if a is not numbers[0] and a is not sums[0]]
            spread = sp.Add(*[numbers[0] * t for t in sums[0].args])
            return sp.Mul(merge_numbers(spread), *rest)
        # Likewise c*(a*u + b*v)**p: c goes into the sum as c**(1/p) (c > 0,
        # or p an odd integer), so the fit has no scale to drift along.
        powers = [a for a in args if a.is_Pow and a.base.is_Add and a.exp.is_Rational
                  and a.exp != 0 and all(t.as_coeff_Mul()[0].has(sp.Float) for t in a.base.args)]
        if len(numbers) == 1 and numbers[0].has(sp.Float) and len(powers) == 1:
            c, power = float(numbers[0]), powers[0]
            odd = power.exp.is_Integer and int(power.exp) % 2 == 1
            if c > 0 or odd:
                root = math.copysign(abs(c) ** (1.0 / float(power.exp)), c)
                inner = sp.Add(*[sp.Float(root) * t for t in power.base.args])
                rest = [a for a in args if a is not numbers[0] and a is not power]
                return sp.Mul(sp.Pow(merge_numbers(inner), power.exp), *rest)
    return expr.func(*args)
