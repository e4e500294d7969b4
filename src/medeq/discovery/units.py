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
``m*v**2``, for a relativistic energy). The inputs of ``Y0`` set the scale
the others are measured by, as Buckingham's repeating variables do: among
equally simple circuits, those holding them come first, and they go to the
denominators of ratios (as many exponents up as down: ``x2/x1, y1/x1,
y2/x1`` when ``Y0 = x1``); other groups hold them with the opposite sign to
``Y0``'s on balance (a dot product of exponents). Otherwise a group's sign
makes most of its exponents positive, and a ratio that nothing else orients
is the one below 1 on most of the data.

:func:`~medeq.discovery.dimensionless.discover_dimensionless` searches
with it.

Angles (``rad``, ``deg``) are dimensionless, as in the SI: an angle is a group
of its own, and a response in ``rad`` is a dimensionless response.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..parameters import si_factor, unit_dimensions
from .expressions import symbols_for, to_string

#: Circuits are enumerated over subsets of at most this many candidate sets;
#: beyond it the groups come from one basis of the null space.
MAX_SUBSETS = 20000

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


def pi_groups(D: sp.Matrix, anchor: Sequence[int] = ()) -> list[tuple[Fraction, ...]]:
    """A simplest basis of the null space of ``D``, as integer exponent vectors.

    Every group is a circuit of ``D`` (no input can be dropped from it); the
    basis is chosen greedily by fewest inputs, then smallest exponents. Among
    equally simple circuits, those holding more of the inputs ``anchor``
    (those of ``Y0``, the scale the others are measured by) come first, so
    that the basis does not depend on the order of the inputs where
    ``Y0`` decides it (``x2/x1, y1/x1, y2/x1`` when ``Y0 = x1``, whatever
    input comes first); remaining ties follow the order of the inputs.
    """
    P = D.cols
    rank = D.rank()
    k = P - rank
    if k == 0:
        return []
    anchored = set(anchor)

    def order(group):
        cost = _cost(group)
        return (*cost[:-1], -sum(1 for i in anchored if group[i]), cost[-1])

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
        pool = sorted(circuits, key=order)
    else:
        pool = sorted((_primitive(v) for v in D.nullspace()), key=order)
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

    The groups are measured by the inputs of ``Y0``: among equally simple
    bases, the one whose groups hold most of them. A ratio (as many
    exponents up as down) holds them in its denominator (``x2/x1`` when
    ``Y0 = x1``, and when ``Y0 = G*m**2/x1**2``); another group holds them
    with the opposite sign to ``Y0``'s on balance (``d*omega/c`` when
    ``Y0 = 1/d``); the others have most exponents positive. When none of
    these decides (``v/c`` or ``c/v``), with data ``X`` the group is the
    one below 1 on most of the data (in SI units), so that its orientation
    does not depend on the order of the inputs; without data, its first
    input is in the numerator.

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
    X = None if X is None else np.asarray(X, dtype=float)
    scales = response_scales(inputs, target)
    scale = scales[0] if scales else None
    if len(scales) > 1 and X is not None and y is not None:
        y = np.asarray(y, dtype=float)
        scale = min(scales, key=lambda a: _log_spread(X, y, a))
    groups = pi_groups(inputs, anchor=[] if scale is None else [i for i, a in enumerate(scale) if a])
    if scale is not None:
        # The inputs of Y0 set the scale the others are measured by: x2/x1
        # rather than x1/x2 when Y0 = x1 or 1/x1**2; d*omega/c when Y0 = 1/d.
        groups = [tuple(-e for e in g) if _toward(g, scale) > 0 else g for g in groups]
    factors = None if X is None else [si_factor(u) for u in units]
    if factors is not None and None not in factors:
        si = X * np.asarray(factors)  # the groups' values whatever the prefixes (mm, km)
        groups = [_below_one(g, si) if _unoriented(g, scale) else g for g in groups]
    return DimensionalAnalysis(names, units, str(response_unit), tuple(groups), scale)


def _unoriented(group: Sequence[Fraction], scale: Sequence[Fraction] | None) -> bool:
    """Whether nothing but the order of the inputs orients ``group``: as many
    positive exponents as negative ones (``v/c`` or ``c/v``), and the scale
    ``Y0`` does not orient it either (no input of ``Y0`` in it, or as much
    of them in its numerator as in its denominator)."""
    if scale is not None and _toward(group, scale) != 0:
        return False
    return _balanced(group)


def _toward(group: Sequence[Fraction], scale: Sequence[Fraction]) -> Fraction:
    """How ``group`` goes with the inputs of the scale ``Y0`` (positive: it is
    to be inverted, 0: they do not orient it). A ratio (:func:`_balanced`)
    is measured by them: the sum of its exponents over them, so they go to
    its denominator whatever their sign in ``Y0`` (``x2/y1`` for ``Y0 = y1``
    and for ``Y0 = G*m**2/y1**2`` alike). Another group goes with ``Y0``:
    the dot product of their exponents, so it holds them with the opposite
    sign (``t*u/x`` for ``Y0 = x``, ``d*omega/c`` for ``Y0 = 1/d``)."""
    if _balanced(group):
        return sum(e for e, a in zip(group, scale) if a)
    return sum(e * a for e, a in zip(group, scale))


def _balanced(group: Sequence[Fraction]) -> bool:
    """Whether ``group`` has as many positive exponents as negative ones
    (``v/c``), so that making most of them positive does not orient it."""
    return sum(e > 0 for e in group) == sum(e < 0 for e in group)


def _below_one(group: Sequence[Fraction], X: np.ndarray) -> tuple[Fraction, ...]:
    """``group`` or its inverse, whichever is below 1 on most of the data
    ``X`` (in SI units; median of ``log|pi|`` negative): ``v/c`` rather than
    ``c/v`` for speeds below that of light, as laws are written
    (``sqrt(1 - v**2/c**2)``). Unchanged when the median is 0 or no sample
    gives a value (an input 0 counts: ``v = 0`` is below 1)."""
    used = [i for i, e in enumerate(group) if e]
    with np.errstate(all="ignore"):
        logs = np.log(np.abs(X[:, used])) @ np.array([float(group[i]) for i in used])
    logs = logs[~np.isnan(logs)]
    if len(logs) and np.median(logs) > 0:
        return tuple(-e for e in group)
    return tuple(group)


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
