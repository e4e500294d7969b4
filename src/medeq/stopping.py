"""Stopping conditions of the exploration loop, and the uncertainty they watch.

Conditions are small objects with a ``check(state)`` method returning why
exploration must stop (or ``None``); ``a | b`` stops when any holds, ``a & b``
when all hold:

>>> from medeq.stopping import EvaluationBudget, TimeLimit, UncertaintyTarget
>>> stop = EvaluationBudget(40) | (UncertaintyTarget(0.05) & TimeLimit(60))

:func:`domain_uncertainty` defines "the surrogate's uncertainty over the
domain" used by :class:`UncertaintyTarget`.
"""

from __future__ import annotations

import functools
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import qmc

from .parameters import from_unit

#: Quasi-random points on which the surrogate's uncertainty is measured.
UNCERTAINTY_POINTS = 1024
#: Quantile of the relative uncertainty over those points that must reach the target.
UNCERTAINTY_QUANTILE = 0.95


def check_positive(value, what: str, integer: bool = False):
    """``value`` as a positive int (``integer=True``) or finite float, else ``ValueError``."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds)
            or not value > 0 or not math.isfinite(value)):
        noun = "integer" if integer else "number"
        raise ValueError(f"{what} must be a positive {noun}; got {value!r}.")
    return int(value) if integer else float(value)


@functools.lru_cache(maxsize=16)
def _domain_points(d: int, seed: int, n: int) -> np.ndarray:
    engine = qmc.Sobol(d, scramble=True, seed=seed)
    points = engine.random_base2(max(1, math.ceil(math.log2(n))))[:n]
    points.setflags(write=False)
    return points


def domain_uncertainty(med, quantile: float = UNCERTAINTY_QUANTILE,
                       points: int = UNCERTAINTY_POINTS) -> float:
    """The surrogate's relative uncertainty over the whole parameter space.

    For every response, the surrogate's predicted standard deviation is
    divided by the standard deviation of that response's evaluated values
    (so ``1`` means "as uncertain as the spread of the data", ``0.05`` "5% of
    it"), at ``points`` fixed quasi-random points covering the parameter
    bounds (a scrambled Sobol set seeded with the campaign's seed: the same
    points at every call). The result is the ``quantile`` of those ratios
    over the points (default 0.95: "95% of the space is known at least this
    well"; ``quantile=1`` is the worst point), and the largest over the
    responses.

    The predicted standard deviation includes the surrogate's fitted noise
    level, so a noisy response cannot get below its relative noise.

    Parameters
    ----------
    med : medeq.MED
        The campaign.
    quantile : float, default 0.95
        Quantile over the points, in ``(0, 1]``.
    points : int, default 1024
        Number of quasi-random points.

    Returns
    -------
    float
        The relative uncertainty; ``inf`` while a response has no surrogate
        (fewer than 2 finite results).
    """
    quantile = _check_quantile(quantile)
    points = check_positive(points, "points", integer=True)
    if med.gp is None or med.responses is None:
        return math.inf
    d = len(med.parameters)
    x = from_unit(_domain_points(d, med.seed, points), med.parameters)
    worst = 0.0
    for k, model in enumerate(med.gp):
        if model is None:
            return math.inf
        _, std = med.predict(x, response=k, return_std=True)
        spread = float(np.nanstd(med.responses[:, k])) or 1.0
        worst = max(worst, float(np.quantile(std / spread, quantile)))
    return worst


def _check_quantile(quantile) -> float:
    if check_positive(quantile, "quantile") > 1:
        raise ValueError(f"quantile must be a number in (0, 1]; got {quantile!r}.")
    return float(quantile)


# ------------------------------------------------------------------ loop state
@dataclass
class ExplorationState:
    """What the stopping conditions see: the campaign and this run's clock.

    Attributes
    ----------
    med : medeq.MED
        The campaign being explored.
    n_start : int
        Results the campaign had when this run started.
    batches : int
        Batches evaluated by this run.
    started : float
        ``time.monotonic()`` at the start of this run.
    """

    med: object
    n_start: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_evaluated(self) -> int:
        """Results of the whole campaign (earlier runs included)."""
        return self.med.n_evaluated

    @property
    def n_new(self) -> int:
        """Results added by this run."""
        return self.n_evaluated - self.n_start

    @property
    def elapsed(self) -> float:
        """Seconds since this run started."""
        return time.monotonic() - self.started

    def uncertainty(self, quantile: float = UNCERTAINTY_QUANTILE,
                    points: int = UNCERTAINTY_POINTS) -> float:
        """:func:`domain_uncertainty` of the campaign, cached until it changes."""
        key = (self.n_evaluated, id(self.med.gp), quantile, points)
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = domain_uncertainty(self.med, quantile, points)
        return self._cache[key]


# ---------------------------------------------------------- stopping conditions
class StoppingCondition(ABC):
    """Base class: decides, between batches, whether exploration stops.

    Subclasses implement :meth:`check`; combine conditions with ``|`` (any)
    and ``&`` (all).
    """

    @abstractmethod
    def check(self, state: ExplorationState) -> str | None:
        """Why exploration must stop now (a short sentence), or ``None``."""

    def evaluations_left(self, state: ExplorationState) -> int | None:
        """How many more evaluations this condition allows (``None``: no limit)."""
        return None

    def seconds_left(self, state: ExplorationState) -> float | None:
        """Seconds until this condition holds by itself (``None``: not a matter of time)."""
        return None

    def __or__(self, other: StoppingCondition) -> AnyOf:
        return AnyOf(self, _check_condition(other))

    def __and__(self, other: StoppingCondition) -> AllOf:
        return AllOf(self, _check_condition(other))


def _check_condition(condition):
    if not isinstance(condition, StoppingCondition):
        raise TypeError(
            "stopping conditions combine only with other stopping conditions "
            f"(EvaluationBudget, UncertaintyTarget, TimeLimit...); got {condition!r}."
        )
    return condition


class EvaluationBudget(StoppingCondition):
    """Stop once the campaign holds ``n`` evaluated results.

    Every result counts - earlier runs and augmented data included - so a
    resumed exploration stops at the same total. Batches are trimmed so the
    budget is never overshot.
    """

    def __init__(self, n: int):
        self.n = check_positive(n, "the evaluation budget", integer=True)

    def check(self, state):
        if state.n_evaluated >= self.n:
            return f"evaluation budget spent ({state.n_evaluated}/{self.n} results)"
        return None

    def evaluations_left(self, state):
        return max(self.n - state.n_evaluated, 0)

    def __repr__(self):
        return f"EvaluationBudget({self.n})"


class UncertaintyTarget(StoppingCondition):
    """Stop once the surrogate's relative uncertainty is at most ``target``.

    The uncertainty is :func:`domain_uncertainty`: the ``quantile`` (default
    95%) over fixed quasi-random points of the predicted standard deviation
    divided by the response's standard deviation, worst response.
    """

    def __init__(self, target: float, quantile: float = UNCERTAINTY_QUANTILE,
                 points: int = UNCERTAINTY_POINTS):
        self.target = check_positive(target, "the uncertainty target (a relative standard deviation)")
        self.quantile = _check_quantile(quantile)
        self.points = check_positive(points, "points", integer=True)

    def check(self, state):
        value = state.uncertainty(self.quantile, self.points)
        if value <= self.target:
            return f"surrogate uncertainty {value:.3g} <= target {self.target:g}"
        return None

    def __repr__(self):
        return f"UncertaintyTarget({self.target:g})"


class TimeLimit(StoppingCondition):
    """Stop once this run has lasted ``seconds``.

    No job starts after it; the jobs already running are awaited (a batch
    is finished), or cancelled in asynchronous mode with ``cancel_on_stop``.
    The clock starts with each call to :func:`explore`.
    """

    def __init__(self, seconds: float):
        self.seconds = check_positive(seconds, "the time limit in seconds")

    def check(self, state):
        if state.elapsed >= self.seconds:
            return f"time limit of {self.seconds:g} s reached ({state.elapsed:.1f} s)"
        return None

    def seconds_left(self, state):
        return max(self.seconds - state.elapsed, 0.0)

    def __repr__(self):
        return f"TimeLimit({self.seconds:g})"


class AnyOf(StoppingCondition):
    """Stop when any of the conditions holds (``a | b``)."""

    def __init__(self, *conditions: StoppingCondition):
        self.conditions = _flatten(type(self), conditions)

    def check(self, state):
        for condition in self.conditions:
            reason = condition.check(state)
            if reason:
                return reason
        return None

    def evaluations_left(self, state):
        limits = [c.evaluations_left(state) for c in self.conditions]
        limits = [n for n in limits if n is not None]
        return min(limits) if limits else None

    def seconds_left(self, state):
        times = [t for t in (c.seconds_left(state) for c in self.conditions) if t is not None]
        return min(times) if times else None

    def __repr__(self):
        return "(" + " | ".join(map(repr, self.conditions)) + ")"


class AllOf(StoppingCondition):
    """Stop when all the conditions hold (``a & b``)."""

    def __init__(self, *conditions: StoppingCondition):
        self.conditions = _flatten(type(self), conditions)

    def check(self, state):
        reasons = []
        for condition in self.conditions:
            reason = condition.check(state)
            if not reason:
                return None
            reasons.append(reason)
        return " and ".join(reasons)

    def evaluations_left(self, state):
        limits = [c.evaluations_left(state) for c in self.conditions]
        return None if any(n is None for n in limits) else max(limits)

    def seconds_left(self, state):
        times = [c.seconds_left(state) for c in self.conditions]
        return None if any(t is None for t in times) else max(times)

    def __repr__(self):
        return "(" + " & ".join(map(repr, self.conditions)) + ")"


def _flatten(kind, conditions) -> list:
    flat = []
    for condition in conditions:
        _check_condition(condition)
        flat.extend(condition.conditions if type(condition) is kind else [condition])
    if not flat:
        raise ValueError(f"{kind.__name__} needs at least one stopping condition.")
    return flat


def stopping_condition(budget=None, target_uncertainty=None, time_limit=None,
                       stop: StoppingCondition | None = None) -> StoppingCondition:
    """Combine the keyword conditions of :func:`explore` and ``stop`` with ``|``.

    Raises ``ValueError`` when none is given (exploration would never stop).
    """
    conditions = []
    if budget is not None:
        conditions.append(EvaluationBudget(budget))
    if target_uncertainty is not None:
        conditions.append(UncertaintyTarget(target_uncertainty))
    if time_limit is not None:
        conditions.append(TimeLimit(time_limit))
    if stop is not None:
        conditions.append(_check_condition(stop))
    if not conditions:
        raise ValueError(
            "explore() needs a stopping condition, or it would never stop: give budget=N "
            "(evaluations), target_uncertainty=U, time_limit=SECONDS or stop=<condition>."
        )
    return conditions[0] if len(conditions) == 1 else AnyOf(*conditions)
