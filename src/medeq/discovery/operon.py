"""The default discovery engine: Operon (C++, ``pip install pyoperon``; no Julia).

How ``discover``'s arguments map onto Operon
--------------------------------------------
- ``binary_operators`` / ``unary_operators``: Operon primitives (see
  :attr:`OperonBackend.binary_operators`, :attr:`OperonBackend.unary_operators`);
  ``neg`` maps to Operon's ``sub`` (``c - x`` with a tuned ``c``); anything
  else (e.g. ``cube``, custom Julia definitions) is an error listing what is
  supported.
- ``maxsize``: Operon's maximum tree length (``max_length``).
- ``maxdepth``: Operon's ``max_depth`` (``None``: limited only by ``maxsize``).
- ``niterations``: generations of each Operon run.
- ``populations``: the population holds ``populations * population_size``
  individuals (``population_size`` keyword, default 33 as in PySR).
- ``turbo``: ``True`` evaluates on all CPU cores (runs are then not bitwise
  reproducible); ``False`` uses one thread and is reproducible with the seed.
- ``progress``: a progress bar counting generations (with the run number and
  the best normalised MSE so far).
- ``timeout_in_seconds``: the search budget. Each run (multi-objective
  NSGA-II on 1 - R^2 and length) is checked every ``CHUNK`` generations; it
  ends after ``niterations`` generations or when its best normalised MSE has
  not improved by 1 % in ``PATIENCE`` checks, and Operon is restarted with a
  new seed, until the budget is spent, ``restarts`` runs were made, or an
  exact fit was found (normalised MSE below ``stop_nmse``, default 1e-11),
  or - early stop - the engine's ``stop`` test found an equation at the
  noise floor and the next ``STOP_CHECKS - 1`` checks found nothing simpler
  at the floor (an equation known exactly before the search, an exact
  linear-algebra seed, counts as found: the first check may confirm it).
  Without a budget a single run is made unless ``restarts`` says otherwise.
- ``parsimony``, ``constraints``, ``nested_constraints``: applied to the
  candidate equations by the engine (:mod:`medeq.discovery.engine`).

Other keyword arguments: ``restarts``, ``stop_nmse``, ``population_size`` and
any :class:`pyoperon.sklearn.SymbolicRegressor` parameter that the arguments
above do not already set (e.g. ``optimizer_iterations``, ``tournament_size``,
``offspring_generator``).
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import time
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import sympy as sp

from .backends import Backend, SearchSettings, register
from .expressions import FUNCTIONS

logger = logging.getLogger(__name__)

#: Generations between two checks of the front (exact fit, stagnation).
CHUNK = 10
#: A run restarts after this many chunks without a relative improvement of
#: ``STALL_IMPROVEMENT`` in the best normalised MSE.
PATIENCE = 4
STALL_IMPROVEMENT = 0.01
#: Early stop after this many consecutive checks whose simplest equation at
#: the floor is no simpler than the previous check's.
STOP_CHECKS = 2

#: SymbolicRegressor parameters set from ``discover``'s own arguments.
_OWNED = {
    "allowed_symbols": "binary_operators / unary_operators",
    "max_length": "maxsize",
    "max_depth": "maxdepth",
    "generations": "niterations",
    "n_threads": "turbo",
    "random_state": "the campaign seed",
    "max_time": "timeout_in_seconds",
    "warm_start": "the restart schedule",
}

#: Defaults chosen for equation recovery (overridable as keyword arguments).
_DEFAULTS = {
    "objectives": ["r2", "length"],
    "optimizer_iterations": 10,
    "max_evaluations": 10**12,
    "offspring_generator": "basic",
    "tournament_size": 3,
}


@register
class OperonBackend(Backend):
    """Operon genetic programming with restarts (see the module notes)."""

    name = "operon"
    binary_operators: ClassVar[dict[str, str]] = {
        "+": "add", "plus": "add", "add": "add",
        "-": "sub", "sub": "sub", "minus": "sub",
        "*": "mul", "mult": "mul", "mul": "mul", "times": "mul",
        "/": "div", "div": "div",
        "^": "pow", "pow": "pow",
        "max": "fmax", "min": "fmin",
    }
    unary_operators: ClassVar[dict[str, str]] = {
        name: name
        for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh",
                     "cosh", "asin", "acos", "atan", "cbrt", "square", "log1p")
    } | {"neg": "sub"}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import pyoperon.sklearn  # noqa: F401
        except ImportError as err:
            return f"pyoperon is not installed ({err}); run `pip install pyoperon`."
        return None

    def validate(self, settings: SearchSettings) -> None:
        self.configure(settings)

    def configure(self, settings: SearchSettings) -> tuple[dict, dict]:
        """Operon parameters and run-control options from the settings.

        Raises
        ------
        ValueError
            Unsupported operator, a keyword that clashes with a ``discover``
            argument, or an unknown keyword (lists the accepted ones).
        """
        from pyoperon.sklearn import SymbolicRegressor

        symbols = self.map_operators(settings.binary_operators, settings.unary_operators)
        options = dict(settings.options)
        control = {
            "restarts": options.pop("restarts", None),
            "stop_nmse": float(options.pop("stop_nmse", 1e-11)),
        }
        if control["restarts"] is not None and (
            isinstance(control["restarts"], bool) or not isinstance(control["restarts"], int)
            or control["restarts"] < 1
        ):
            raise ValueError(f"restarts must be a positive int or None, got {control['restarts']!r}.")
        per_population = options.pop("population_size", 33)
        for label, value in (("maxsize", settings.maxsize), ("niterations", settings.niterations),
                             ("populations", settings.populations), ("population_size", per_population)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{label} must be a positive int, got {value!r}.")
        if settings.maxdepth is not None and (not isinstance(settings.maxdepth, (int, np.integer)) or settings.maxdepth < 1):
            raise ValueError(f"maxdepth must be a positive int or None, got {settings.maxdepth!r}.")
        accepted = set(inspect.signature(SymbolicRegressor.__init__).parameters) - {"self"}
        for key in options:
            if key in _OWNED:
                raise ValueError(f"do not pass {key!r} to the operon backend: it is set by {_OWNED[key]}.")
            if key not in accepted:
                raise ValueError(
                    f"unknown keyword {key!r} for the operon backend; accepted: "
                    f"{sorted(['restarts', 'stop_nmse', 'population_size', *(accepted - set(_OWNED))])}."
                )
        params = dict(_DEFAULTS)
        params.update(options)
        params.update(
            allowed_symbols=",".join(sorted(set(symbols)) + ["constant", "variable"]),
            max_length=int(settings.maxsize),
            max_depth=int(settings.maxdepth if settings.maxdepth is not None else settings.maxsize),
            generations=int(settings.niterations),
            population_size=int(settings.populations * per_population),
            n_threads=(os.cpu_count() or 1) if settings.turbo else 1,
        )
        return params, control

    def search(self, X, y, symbols: Sequence[sp.Symbol], settings: SearchSettings) -> list[sp.Expr]:
        from pyoperon.sklearn import SymbolicRegressor

        params, control = self.configure(settings)
        restarts = control["restarts"] or (1 if settings.timeout is None else math.inf)
        variance = float(np.var(y)) or 1.0
        seeds = np.random.SeedSequence(settings.seed)
        start = time.monotonic()
        found: dict[str, sp.Expr] = {}
        bar = _progress_bar(settings)
        runs, best, reached, simplest = 0, math.inf, 0, None
        if settings.stop is not None:
            simplest = settings.stop([])  # an equation known exactly before the search
            reached = 0 if simplest is None else 1
        while runs < restarts and best >= control["stop_nmse"] and reached < STOP_CHECKS:
            runs += 1
            regressor, generations, run_best, stale = None, 0, math.inf, 0
            front: dict[str, sp.Expr] = {}  # the run's latest Pareto front
            while generations < settings.niterations:
                remaining = None
                if settings.timeout is not None:
                    remaining = settings.timeout - (time.monotonic() - start)
                    if remaining < 0.5:
                        break
                chunk = min(CHUNK, settings.niterations - generations)
                chunk_params = dict(
                    params,
                    generations=chunk,
                    max_time=None if remaining is None else max(1, math.ceil(remaining)),
                    random_state=int(seeds.spawn(1)[0].generate_state(1, np.uint64)[0]),
                    warm_start=regressor is not None,
                )
                if regressor is None:
                    regressor = SymbolicRegressor(**chunk_params)
                else:
                    regressor.set_params(**chunk_params)
                with np.errstate(all="ignore"):
                    regressor.fit(X, y)
                generations += chunk
                front, scored = {}, []
                chunk_best = _collect(regressor, symbols, front, scored) / variance
                if settings.stop is not None:
                    size = settings.stop(scored)
                    if size is None:
                        reached = 0
                    else:
                        reached = reached + 1 if simplest is not None and size >= simplest else 1
                        simplest = size if simplest is None else min(simplest, size)
                if bar is not None:
                    bar.update(chunk)
                    bar.set_postfix(run=runs, best_nmse=f"{min(best, chunk_best):.3g}")
                stale = stale + 1 if chunk_best > run_best * (1 - STALL_IMPROVEMENT) else 0
                run_best = min(run_best, chunk_best)
                if run_best < control["stop_nmse"] or stale >= PATIENCE or reached >= STOP_CHECKS:
                    break
            found.update(front)
            best = min(best, run_best)
            logger.info("operon run %d: %d generations, best NMSE %.3g", runs, generations, run_best)
            if settings.timeout is not None and settings.timeout - (time.monotonic() - start) < 0.5:
                break
        if bar is not None:
            bar.close()
        return list(found.values())


def _collect(regressor, symbols: Sequence[sp.Symbol], found: dict[str, sp.Expr],
             scored: list[tuple[sp.Expr, float]] | None = None) -> float:
    """Add the regressor's Pareto front to ``found`` (keyed by text) and its
    (expression, MSE) pairs to ``scored``; returns the best MSE."""
    import pyoperon as op

    names = {name: symbols[i] for i, name in enumerate(regressor.variables_.values())}
    best = math.inf
    for stats in regressor.pareto_front_:
        best = min(best, stats["mean_squared_error"])
        text = op.InfixFormatter.Format(stats["tree"], regressor.variables_, 17)
        if text not in found:
            expr = _to_sympy(text, names)
            if expr is not None:
                found[text] = expr
        if scored is not None and text in found:
            scored.append((found[text], float(stats["mean_squared_error"])))
    return best


def _progress_bar(settings: SearchSettings):
    if not settings.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(desc="operon runs", unit="run")


def _to_sympy(text: str, names: dict[str, sp.Symbol]) -> sp.Expr | None:
    """Sympy expression of an Operon model printed by its infix formatter."""
    from sympy.parsing.sympy_parser import parse_expr

    text = text.replace("^", "**")
    local = dict(FUNCTIONS)
    local.update(names)
    local.update({"fmin": sp.Min, "fmax": sp.Max})
    try:
        return sp.sympify(parse_expr(text, local_dict=local))
    except (SyntaxError, TypeError, ValueError) as err:
        logger.debug("could not read Operon model %r: %s", text, err)
        return None
