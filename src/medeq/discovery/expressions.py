"""Sympy helpers shared by the discovery engine: printing, parsing, measuring.

Equations are sympy expressions in plain :class:`sympy.Symbol` objects named
after the campaign's parameters. This module prints them to a readable string
that parses back to the same expression (parameter names such as ``lambda``,
``E``, ``I``, ``S``, ``N`` or ``pi`` included), counts their complexity the way
PySR does (one per operator, variable and constant), and views them as an
operator tree for the ``constraints`` / ``nested_constraints`` checks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from .parsing import FUNCTIONS, parse  # noqa: F401 - the parser of printed equations

#: Significant digits written for a float constant (equations are kept in
#: exactly this written form, so text and expression always agree).
DIGITS = 12


def format_float(value: float) -> str:
    """Shortest text that reads back to exactly ``value`` (``repr`` of a float)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") and "e" not in text else text


class _Printer(StrPrinter):
    """sympy's str printer with short floats and clash-free constants."""

    def __init__(self, names: Sequence[str]):
        super().__init__()
        self._taken = set(names)

    def _print_Float(self, expr):
        value = float(expr)
        text = format_float(float(f"{value:.{DIGITS}g}"))
        return text if "." in text or "e" in text or "inf" in text or "nan" in text else text + ".0"

    def _print_Pi(self, expr):
        return "pi" if "pi" not in self._taken else format_float(float(expr))

    def _print_Exp1(self, expr):
        return "E" if "E" not in self._taken else format_float(float(expr))

    def _print_ImaginaryUnit(self, expr):
        return "I" if "I" not in self._taken else "sqrt(-1)"


def to_string(expr: sp.Expr, names: Sequence[str]) -> str:
    """Readable text of ``expr`` that :func:`parse` turns back into ``expr``."""
    return _Printer(names).doprint(expr)


def symbols_for(names: Sequence[str]) -> list[sp.Symbol]:
    """Plain sympy symbols named after the parameters (no assumptions)."""
    return [sp.Symbol(str(name)) for name in names]


# --------------------------------------------------------------- operator tree
def op_tree(expr: sp.Expr) -> tuple[str, list]:
    """View ``expr`` as a tree of binary/unary operators, the way SR engines see it.

    Returns ``(operator, children)``; leaves are ``("var", [])`` or
    ``("const", [])``. Operators: ``+ - * / ^ neg`` and function names
    (``sin``, ``sqrt``, ``abs``, ...).
    """
    if expr.is_Symbol:
        return ("var", [])
    if not expr.free_symbols:
        return ("const", [])  # numbers and constant sub-expressions like 1/(4*pi)
    if expr.is_Add:
        terms = list(expr.as_ordered_terms())
        tree = op_tree(terms[0])
        for term in terms[1:]:
            coeff, _ = term.as_coeff_Mul()
            if coeff.is_negative:
                tree = ("-", [tree, op_tree(-term)])
            else:
                tree = ("+", [tree, op_tree(term)])
        return tree
    if expr.is_Mul:
        coeff, rest = expr.as_independent(*expr.free_symbols, as_Add=False)
        if coeff == -1:
            return ("neg", [op_tree(rest)])
        if coeff != 1:
            return ("*", [("const", []), op_tree(rest)])
        numer, denom = sp.fraction(expr)
        if denom != 1:
            return ("/", [op_tree(numer), op_tree(denom)])
        factors = list(expr.as_ordered_factors())
        tree = op_tree(factors[0])
        for factor in factors[1:]:
            tree = ("*", [tree, op_tree(factor)])
        return tree
    if expr.is_Pow:
        base, power = expr.args
        if power == sp.Rational(1, 2):
            return ("sqrt", [op_tree(base)])
        if power.is_Number and power.is_negative:
            return ("/", [("const", []), op_tree(base ** (-power))])
        return ("^", [op_tree(base), op_tree(power)])
    if isinstance(expr, sp.Function) or expr.args:
        name = type(expr).__name__.lower()
        return (name, [op_tree(a) for a in expr.args])
    return ("const", [])


def tree_size(tree: tuple[str, list]) -> int:
    """Number of nodes (operators, variables, constants) of an operator tree."""
    return 1 + sum(tree_size(child) for child in tree[1])


def complexity(expr: sp.Expr) -> int:
    """PySR-style complexity: one per operator, variable and constant."""
    return tree_size(op_tree(expr))


def walk(tree: tuple[str, list]) -> Iterator[tuple[str, list]]:
    """All nodes of an operator tree, parents first."""
    yield tree
    for child in tree[1]:
        yield from walk(child)


def constants(expr: sp.Expr) -> list[sp.Float]:
    """The floating-point constants of ``expr`` in a stable order."""
    return sorted(expr.atoms(sp.Float), key=lambda f: (-abs(float(f)), float(f)))


def normalise_ratio(expr: sp.Expr) -> sp.Expr:
    """Divide a quotient's numerator and denominator by the largest numeric
    coefficient of the denominator (applied to ``expr`` and to each of its
    terms), so a ratio defined up to a common factor gets the factor 1:
    ``0.65*x/(0.65*y - 0.65)`` becomes ``1.0*x/(1.0*y - 1.0)``.
    """
    if expr.is_Add:
        return sp.Add(*[normalise_ratio(term) for term in expr.args])
    numer, denom = sp.fraction(expr)
    if not denom.is_Add:
        return expr
    coefficients = [term.as_coeff_Mul()[0] for term in sp.Add.make_args(sp.expand(denom))]
    pivot = max(coefficients, key=lambda c: (abs(c), bool(c.is_positive)))  # ties: positive
    if pivot == 0 or pivot == 1:
        return expr
    return sp.expand(numer / pivot) / sp.expand(denom / pivot)


#: Compiled equations kept for reuse (:func:`make_function`).
COMPILED_CACHE = 512


@functools.lru_cache(maxsize=COMPILED_CACHE)
def _compiled(expr: sp.Expr, symbols: tuple, extra: tuple):
    """``sympy.lambdify`` of ``expr`` with one argument per symbol, then ``extra``.

    Cached: compiling costs tens of milliseconds, and a search's candidates
    are scored several times (floor, front, polishing) on the same data."""
    dummies = [sp.Dummy(f"x{i}") for i in range(len(symbols))]
    body = expr.xreplace(dict(zip(symbols, dummies)))
    return sp.lambdify([*dummies, *extra], body, modules="numpy")


def make_function(expr: sp.Expr, symbols: Sequence[sp.Symbol], extra: Sequence[sp.Symbol] = ()):
    """Numpy function ``f(X, *extra)`` of ``expr`` with ``X`` of shape (n, P)."""
    raw = _compiled(expr, tuple(symbols), tuple(extra))

    def function(X: np.ndarray, *values) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            out = raw(*X.T, *values)
        out = np.asarray(out, dtype=complex if np.iscomplexobj(out) else float)
        if np.iscomplexobj(out):
            out = np.where(np.abs(out.imag) > 1e-12 * (1 + np.abs(out.real)), np.nan, out.real)
        return np.broadcast_to(out, (X.shape[0],)).astype(float, copy=True)

    return function


_OPERATOR_ALIASES = {
    "+": "+", "plus": "+", "add": "+", "-": "-", "sub": "-", "minus": "-",
    "*": "*", "mult": "*", "mul": "*", "times": "*", "/": "/", "div": "/",
    "^": "^", "pow": "^", "**": "^",
}


def canonical_operator(name: str) -> str:
    """Canonical operator name used by :func:`op_tree` (``pow`` -> ``^``, ...)."""
    key = str(name).strip()
    return _OPERATOR_ALIASES.get(key.lower(), key.lower())
