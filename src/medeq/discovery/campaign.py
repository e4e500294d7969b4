"""Glue between a campaign (``MED``) and the discovery engine.

The campaign is read only through ``parameters``, ``evaluated``,
``responses``, ``response_names``, ``measured_variances``, ``gp`` (the noise
floor), ``seed``, ``verbose`` and ``predict`` (for ``denoise``); nothing here
changes it - ``MED.discover`` stores the
returned hall of fame.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp

from ..parameters import parameter_units
from . import units as dimensional
from .dimensionless import discover_dimensionless
from .backends import SearchSettings
from .engine import discover_arrays
from .equations import Equation, HallOfFame
from .noise import denoising_error, estimate_noise_variance, surrogate_noise

logger = logging.getLogger(__name__)


def discover_campaign(
    med: Any,
    response: str | int | None = None,
    *,
    binary_operators: Sequence[str] = ("+", "-", "*", "/", "^"),
    unary_operators: Sequence[str] = (),
    maxsize: int = 50,
    maxdepth: int | None = None,
    niterations: int = 100,
    populations: int = 32,
    parsimony: float = 0.0032,
    constraints: Mapping | None = None,
    nested_constraints: Mapping | None = None,
    denoise: bool = False,
    select_k_features: int | None = None,
    turbo: bool = True,
    equation_file: str | os.PathLike | None = "equations.csv",
    progress: bool = False,
    timeout_in_seconds: float | None = 60.0,
    backend: str = "operon",
    linear_seeds: bool = True,
    early_stop: bool = True,
    noise_variance: float | None = None,
    dimensional_analysis: bool | str = "auto",
    **kwargs: Any,
) -> tuple[str, HallOfFame]:
    """Discover equations for one response of a campaign.

    Parameters
    ----------
    med : MED
        The campaign.
    response : str or int, optional
        Response name or column index; required when there are several.
    binary_operators, unary_operators : list[str]
        Operators to build equations from (PySR names: ``+ - * / ^``,
        ``sin cos tan exp log sqrt abs tanh square ...``); an operator the
        backend lacks is an error listing the supported ones.
    maxsize : int
        Largest equation complexity (operators + variables + constants).
    maxdepth : int, optional
        Largest depth of the search's expression trees.
    niterations : int
        Generations of each search run (see :mod:`medeq.discovery.operon`).
    populations : int
        Search population = ``populations * population_size`` (keyword,
        default 33) individuals.
    parsimony : float
        An equation enters the hall of fame only if it lowers ``ln(loss)`` by
        at least ``parsimony`` per extra unit of complexity.
    constraints, nested_constraints : dict, optional
        PySR-style limits on operator arguments and nesting, e.g.
        ``{"^": (-1, 1)}`` and ``{"sin": {"cos": 0}}``; equations breaking
        them are left out of the hall of fame.
    denoise : bool
        Fit the surrogate's mean (``med.predict``) instead of the raw values,
        if a held-out check says it helps: the 5-fold cross-validated error
        of a Gaussian process on the data must be below twice the noise
        floor (:func:`medeq.discovery.noise.denoising_error`); otherwise a
        warning says so and the raw values are used.
    select_k_features : int, optional
        Search with only the ``k`` most relevant parameters (random-forest
        importance, as in PySR); equations still take all parameters.
    turbo : bool
        Use all CPU cores (``True``) or one thread, reproducible (``False``).
    equation_file : str or path, optional
        CSV file written with the hall of fame (relative paths are relative
        to the current directory); ``None`` writes nothing.
    progress : bool
        Show a progress bar.
    timeout_in_seconds : float, optional
        Time budget of the search (the polishing of results comes on top,
        typically a few seconds); ``None``: one run of ``niterations``.
    backend : str
        ``"operon"`` (default) or ``"pysr"`` (needs PySR and Julia).
    linear_seeds : bool
        Also propose power laws and rational functions found by linear
        algebra (:mod:`medeq.discovery.seeds`); ``False``: backend only.
    early_stop : bool
        Stop the search once an equation is at the noise floor of the data
        (see :mod:`medeq.discovery.engine`); ``False`` spends the budget.
    noise_variance : float, optional
        The noise floor (response units squared). Default: the variances
        given with the results (``variances=``) where all are known (unequal
        ones weigh the samples by their precision: losses are then weighted
        mean squared errors, see :func:`medeq.discovery.discover_arrays`),
        else the noise level the response's surrogate fitted. (With
        dimensional analysis, the search of ``y / Y0`` gets it divided by
        ``Y0**2`` point by point, so its samples weigh as ``Y0**2``, and the
        equations are judged against it on ``y``.)
    dimensional_analysis : "auto", True or False
        Search ``y / Y0 = F(pi_1, ..., pi_k)`` over dimensionless groups
        (:mod:`medeq.discovery.units`, :mod:`medeq.discovery.dimensionless`):
        ``"auto"`` when every parameter and the response have units, ``True``
        requires them (error otherwise),
        ``False`` never. Falls back to the plain search, with a warning, when
        no product of the parameters has the response's dimension.
    **kwargs
        Backend options (see the backend module), e.g. ``restarts=3``.

    Returns
    -------
    (str, HallOfFame)
        The response name and its hall of fame.
    """
    name, index = _select_response(med, response)
    mode = dimensional.check_mode(dimensional_analysis)
    units = parameter_units(med.parameters)
    response_unit = (getattr(med, "response_units", None) or {}).get(name)
    missing = dimensional.missing_units(list(med.parameters.index), units, name, response_unit)
    if mode is True and missing:
        raise ValueError(
            f"dimensional_analysis=True needs units on every parameter and on the response; "
            f"{', '.join(missing)} ha{'s' if len(missing) == 1 else 've'} none. Declare them with "
            "create_parameters(..., units=[...]) and MED(..., response_units=[...]), or use "
            "dimensional_analysis='auto'."
        )
    X = np.asarray(med.evaluated, dtype=float)
    y = np.asarray(med.responses, dtype=float)[:, index]
    rows = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
    if rows.sum() < 2:
        raise ValueError(
            f"response {name!r} has {int(rows.sum())} finite value(s); equation discovery "
            f"needs at least 2 - evaluate more samples first."
        )
    if not rows.all():
        logger.info("discover: %d rows with NaN excluded for %r", int((~rows).sum()), name)
    X, y = X[rows], y[rows]
    parameter_names = [str(p) for p in med.parameters.index]
    if not isinstance(denoise, bool):
        raise ValueError(f"denoise must be True or False, got {denoise!r}.")
    floor = _campaign_noise(med, index, rows) if noise_variance is None else noise_variance
    if denoise:
        y, floor = _denoised(med, name, X, y, floor)
    columns = select_features(X, y, select_k_features, med.seed, parameter_names)
    settings = SearchSettings(
        binary_operators=list(binary_operators),
        unary_operators=list(unary_operators),
        maxsize=maxsize,
        maxdepth=maxdepth,
        niterations=niterations,
        populations=populations,
        turbo=_flag(turbo, "turbo"),
        progress=_flag(progress, "progress"),
        timeout=_timeout(timeout_in_seconds),
        seed=med.seed,
        options=dict(kwargs),
    )
    engine_options = dict(constraints=constraints, nested_constraints=nested_constraints,
                          backend=backend, linear_seeds=_flag(linear_seeds, "linear_seeds"),
                          early_stop=_flag(early_stop, "early_stop"))
    hall_of_fame = None
    if mode and not missing:
        hall_of_fame = discover_dimensionless(
            X, y, parameter_names, units, response_unit, settings, response=name,
            columns=columns, parsimony=parsimony, noise_variance=floor, **engine_options,
        )
        if hall_of_fame is not None and (getattr(med, "verbose", 0) or 0) >= 1:
            print(hall_of_fame.dimensional_analysis.describe(name))
    if hall_of_fame is None:
        surrogate = None
        if getattr(med, "gp", None):
            surrogate = lambda Z: np.asarray(  # noqa: E731 - the campaign's model of this response
                med.predict(Z, response=name, return_std=False), dtype=float).reshape(-1)
        hall_of_fame = discover_arrays(X, y, parameter_names, settings, parsimony=parsimony,
                                       columns=columns, noise_variance=floor, surrogate=surrogate,
                                       **engine_options)
    if equation_file is not None:
        frame_with_response(hall_of_fame, name).to_csv(os.fspath(equation_file), index=False)
    if (getattr(med, "verbose", 0) or 0) >= 1:
        print(hall_of_fame)
    return name, hall_of_fame


def _campaign_noise(med: Any, index: int, rows: np.ndarray):
    """The noise floor of response ``index`` on ``rows``: the given variances
    if all are known (array), else the surrogate's fitted level (float), else
    ``None`` (the engine estimates it)."""
    measured = getattr(med, "measured_variances", None)
    if measured is not None:
        known = np.asarray(measured, dtype=float)[:, index][rows]
        if np.all(np.isfinite(known)):
            return known
    models = getattr(med, "gp", None)
    if models and index < len(models) and models[index] is not None:
        return surrogate_noise(models[index])
    return None


def _denoised(med: Any, name: str, X: np.ndarray, y: np.ndarray, floor):
    """The surrogate's mean at ``X`` and its noise floor, if the held-out
    check says denoising helps; else ``y`` and ``floor`` unchanged (warned)."""
    noise = estimate_noise_variance(X, y, med.seed) if floor is None else float(np.mean(floor))
    error = denoising_error(X, y, med.seed)
    if not error < 2 * noise:
        warnings.warn(
            f"denoise=True: the surrogate's held-out error ({error:.3g}) is not below twice "
            f"the noise variance ({noise:.3g}), so its mean would not be closer to the truth "
            f"than the data; discovering on the raw values of {name!r}.",
            RuntimeWarning, stacklevel=4,
        )
        return y, floor
    mean = np.asarray(med.predict(X, response=name, return_std=False), dtype=float).reshape(-1)
    logger.info("denoise: held-out error %.3g < 2 x noise %.3g; fitting the surrogate mean", error, noise)
    return mean, max(error - noise, 0.0)


def campaign_analyses(med: Any) -> dict:
    """The dimensional analysis of every response of ``med`` with complete
    units (for reports): :func:`.units.response_analyses` with the campaign's
    equations, samples and results."""
    X = responses = None
    if med.responses is not None and len(med.evaluated):
        X = np.asarray(med.evaluated, dtype=float)
        responses = dict(zip(med.names, np.asarray(med.responses, dtype=float).T))
    return dimensional.response_analyses(list(med.parameters.index), parameter_units(med.parameters),
                                         getattr(med, "response_units", None), med.sr, X, responses)


def _select_response(med: Any, response) -> tuple[str, int]:
    if med.responses is None or np.size(med.responses) == 0:
        raise ValueError("there are no evaluated responses yet: evaluate or augment samples first.")
    index = med.response_index(response)
    return med.names[index], index


def select_features(
    X: np.ndarray, y: np.ndarray, k: int | None, seed: int | None, names: Sequence[str]
) -> list[int] | None:
    """Indices of the ``k`` most relevant columns (random-forest importance).

    Uses PySR's rule: a 100-tree random forest of depth 3; ``None`` (all
    columns) when ``k`` is ``None`` or at least the number of columns.
    """
    if k is None:
        return None
    P = X.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"select_k_features must be a positive int or None, got {k!r}.")
    if k >= P:
        return None
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=100, max_depth=3, random_state=seed)
    forest.fit(X, y)
    chosen = sorted(np.argsort(forest.feature_importances_)[::-1][:k].tolist())
    logger.info("select_k_features=%d: searching with %s", k, [names[i] for i in chosen])
    return chosen


def _flag(value, label: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{label} must be True or False, got {value!r}.")
    return bool(value)


def _timeout(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"timeout_in_seconds must be a positive number or None, got {value!r}.")
    return float(value)


def resolve_equation(
    hall_of_fame: HallOfFame | None, equation: Any, parameter_names: Sequence[str]
) -> Equation:
    """The :class:`Equation` meant by ``equation``.

    Parameters
    ----------
    hall_of_fame : HallOfFame or None
        The response's discovered equations (``None`` if none yet).
    equation : Equation, int, "best", str or sympy expression
        An equation, a row of the hall of fame, the best one, or an
        expression written in parameter names (e.g. ``"A + 2*B"``).
    parameter_names : list[str]
        The campaign's parameters, in column order.
    """
    names = [str(n) for n in parameter_names]
    if isinstance(equation, Equation):
        if equation.parameter_names != names:
            raise ValueError(
                f"the equation uses parameters {equation.parameter_names}, but the campaign's are {names}."
            )
        return equation
    is_index = isinstance(equation, (int, np.integer)) and not isinstance(equation, bool)
    is_best = isinstance(equation, str) and equation == "best"
    if is_index or is_best:
        if not hall_of_fame:
            raise ValueError(
                f"equation={equation!r} refers to discovered equations, but none were discovered "
                f"for this response; call discover first or give an expression."
            )
        if is_best:
            return hall_of_fame.best
        n = len(hall_of_fame)
        if not -n <= equation < n:
            raise ValueError(f"equation index {equation} is out of range: the hall of fame has {n} rows.")
        return hall_of_fame[int(equation)]
    if isinstance(equation, str):
        return Equation(equation, names)
    if isinstance(equation, sp.Expr):
        return Equation(equation, names)
    raise ValueError(
        f"equation must be an Equation, a hall-of-fame row index, 'best' or an expression "
        f"string; got {equation!r}."
    )


def frame_with_response(hall_of_fame: HallOfFame, name: str) -> pd.DataFrame:
    """The hall of fame table with a leading ``response`` column."""
    frame = hall_of_fame.to_frame()
    frame.insert(0, "response", name)
    return frame
