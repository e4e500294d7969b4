"""Optional discovery engine: PySR (needs ``pip install pysr`` and Julia).

Used only where both are installed; it is never imported otherwise (importing
PySR without Julia would try to download it). ``discover``'s arguments are
PySR's own and are passed through unchanged, as are extra keyword arguments
(any :class:`pysr.PySRRegressor` parameter).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import sympy as sp

from .backends import Backend, SearchSettings, register

_BINARY = ("+", "-", "*", "/", "^", "max", "min", "mod", "cond", "logical_or", "logical_and")
_UNARY = (
    "sin", "cos", "tan", "exp", "log", "log2", "log10", "log1p", "sqrt", "abs", "tanh",
    "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "square", "cube",
    "neg", "cbrt", "sign", "floor", "ceil", "relu", "erf", "erfc", "gamma", "inv",
)


@register
class PySRBackend(Backend):
    """PySR's ``PySRRegressor``; every PySR operator name is accepted."""

    name = "pysr"
    binary_operators: ClassVar[dict[str, str]] = {op: op for op in _BINARY} | {"pow": "^", "mult": "*", "plus": "+", "sub": "-", "div": "/"}
    unary_operators: ClassVar[dict[str, str]] = {op: op for op in _UNARY}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("pysr") is None:
            return "PySR is not installed; run `pip install pysr` (it also needs Julia)."
        if shutil.which("julia") is None:
            return "Julia is not on PATH; install Julia (https://julialang.org/downloads/) for PySR."
        return None

    def search(self, X, y, symbols: Sequence[sp.Symbol], settings: SearchSettings) -> list[sp.Expr]:
        from pysr import PySRRegressor

        binary = self.map_operators(settings.binary_operators, [])
        unary = self.map_operators([], settings.unary_operators)
        options = dict(
            binary_operators=binary,
            unary_operators=unary,
            maxsize=settings.maxsize,
            maxdepth=settings.maxdepth,
            niterations=settings.niterations,
            populations=settings.populations,
            parsimony=settings.parsimony,
            constraints=settings.constraints,
            nested_constraints=settings.nested_constraints,
            turbo=settings.turbo,
            progress=settings.progress,
            timeout_in_seconds=settings.timeout,
            random_state=settings.seed,
            temp_equation_file=True,
            verbosity=0,
        )
        options.update(settings.options)
        model = PySRRegressor(**options)
        names = [f"x{i}" for i in range(len(symbols))]
        model.fit(np.asarray(X), np.asarray(y), variable_names=names)
        mapping = {sp.Symbol(n): s for n, s in zip(names, symbols)}
        return [sp.sympify(e).xreplace(mapping) for e in model.equations_["sympy_format"]]
