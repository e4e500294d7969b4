"""Equation discovery on plain arrays: search, polish, build the hall of fame.

:func:`discover_arrays` is the whole pipeline, independent of any campaign:

1. scale each input column and the target by a power of ten (so constants
   the engine tunes are of order one, while the decimal digits of the
   equation are unchanged);
2. propose power laws and rational functions by linear algebra
   (:mod:`.seeds`), then ask the backend for candidate expressions
   (:mod:`.backends`);
3. score every candidate on the data, keep the accuracy/complexity Pareto
   front (plus the constant model), and polish each member
   (:func:`medeq.discovery.polish.polish`: float64 refit, nice constants,
   simplification, rounding - each step checked against the data);
4. drop equations breaking ``maxsize``, ``constraints`` or
   ``nested_constraints``, or using operators that were not chosen, and build the :class:`HallOfFame` (``parsimony``
   filters equations that do not earn their complexity).

Noise floor and early stop
--------------------------
Every decision is taken against the noise floor of the data
(:mod:`.noise`): the given ``noise_variance``, or the noise level of a
Gaussian process fitted to the data. An equation is *at the floor* when its
loss is statistically indistinguishable from that noise
(:meth:`.NoiseFloor.reached`); ``HallOfFame.best`` is the simplest equation at
the floor, and that equation is always kept in the hall of fame.

With ``early_stop=True`` (default) the search stops at its first check
(every ``operon.CHUNK`` generations) where one of its candidates, or a
linear-algebra seed, has reached the floor (lowered first to what the
search's most accurate candidate attains, :meth:`.NoiseFloor.consistent`): the search has had that round
to find anything simpler, and polishing then picks the simplest equation at
the floor. A search whose
candidates are all far from the floor is never stopped early: it runs its
budget. With ``early_stop=False`` the whole budget is always spent. The
linear-algebra seeds follow the same rule: a seed at the floor gives the
search only ``EXACT_SEARCH_SHARE`` of the budget (for simpler equations),
unless ``early_stop=False``.

After the search, the floor is lowered to what the most accurate candidate
attains (:meth:`.NoiseFloor.consistent`: data are no noisier than an
equation that fits them), so an overestimated floor (e.g. a surrogate fitted
to a few dozen samples of a hard function) cannot excuse a poor equation.
An underestimated one (a Gaussian process that takes part of a wiggly
function for noise-free signal) is raised when no candidate reaches it: the
simplest candidate whose residuals are white noise (:class:`.noise.Whiteness`)
and that is as accurate as the best sets it. The seeds get the same chance
before the search: when none is at the floor, they are fitted again at the
estimate's upper confidence bound (:meth:`.NoiseFloor.upper`) or, when the
Gaussian process found no noise, at its leave-one-out error
(:func:`.noise.loo_error`: the data are no noisier than that), and those
with white residuals set the floor.

Polishing candidates are chosen across complexities: the simplest raw
candidates near the floor first (so a simple law found early is never
crowded out by more accurate fits of the noise), then the most accurate.
They are polished simplest first; once one is at the floor, candidates more
than ``SETTLED_FACTOR`` times as complex (plus ``SETTLED_EXTRA``) are only
rounded.

Additive structure
------------------
When the data's surrogate shows that the law is a sum of terms in separate
groups of inputs (:mod:`.structure`), each group is searched on its own
(``STRUCTURE_SHARE`` of the budget in all) and the sums of their equations,
refitted on the data, join the linear-algebra seeds: at the floor, they end
the search early like any seed.

Missing terms
-------------
A floor estimated from a few dozen samples can take a whole term for noise
(``cos(1.1*radius)`` in ``velocity*sin(viscosity/2) + cos(1.1*radius)`` on 40
samples), and the search then stops at the other term. After the search, the
residuals of the simplest candidate at the floor are tested for whiteness
(along each input, too); when they are not white, they are searched on their
own and the sums join the candidates, then the data minus the term found are
searched again (one round of backfitting: the candidate was fitted in the
term's absence). An equation that fits the data better than the floor then
lowers it, as above (:func:`_missing_terms`; with ``additive``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import sympy as sp

from . import constraints as constraint_checks
from . import seeds, structure
from .backends import SearchSettings, get_backend
from .equations import HallOfFame, pareto_front
from .expressions import complexity, make_function, parse, symbols_for, to_string
from .noise import (ESTIMATE_DOF, NoiseFloor, Whiteness, best_fit, data_surrogate, loo_error, noise_floor,
                    precision_weights, surrogate_noise, white_floor)
from .polish import Fitness, Parametric, polish
from .rewrites import merge_numbers, unfold_differences

logger = logging.getLogger(__name__)

#: At most this many raw candidates are polished (the most accurate first).
MAX_POLISHED = 30
#: Share of ``timeout`` given to the linear seeds and the search; the rest is
#: for polishing, after which candidates only get their constants rounded.
SEARCH_SHARE = 0.75
#: Share of ``timeout`` after which polishing only rounds constants.
POLISH_DEADLINE = 0.9
#: Share of ``timeout`` left to the search when a linear seed is at the floor.
EXACT_SEARCH_SHARE = 0.2
#: Raw candidates within this factor of the floor's threshold are polished first.
NEAR_FLOOR = 2.0
#: Candidates above SETTLED_FACTOR * c + SETTLED_EXTRA (c: complexity of the
#: first polished equation at the floor) are only rounded.
SETTLED_FACTOR, SETTLED_EXTRA = 2, 4
#: Most seconds of polishing for one candidate.
CANDIDATE_SECONDS = 10.0
#: Candidates more accurate than those near the floor that are polished too.
ABOVE_FLOOR = 4
#: Share of ``timeout`` for the searches of the additive groups (all together).
STRUCTURE_SHARE = 0.3
#: Equations of one additive group, besides its most accurate, tried in sums.
ALTERNATIVES = 2
#: Time limit of the linear-algebra candidates (or 15 % of the budget if more).
SEED_SECONDS = 5.0


def discover_arrays(
    X: np.ndarray,
    y: np.ndarray,
    parameter_names: Sequence[str],
    settings: SearchSettings | None = None,
    *,
    parsimony: float = 0.0032,
    constraints: Mapping | None = None,
    nested_constraints: Mapping | None = None,
    backend: str = "operon",
    columns: Sequence[int] | None = None,
    linear_seeds: bool = True,
    noise_variance: float | np.ndarray | None = None,
    noise_dof: float | None = None,
    early_stop: bool = True,
    additive: bool = True,
    surrogate: Callable[[np.ndarray], np.ndarray] | None = None,
) -> HallOfFame:
    """Discover equations ``y = f(X)`` and return their hall of fame.

    Parameters
    ----------
    X : (n, P) array
        Inputs in real units; column ``i`` is ``parameter_names[i]``.
    y : (n,) array
        Finite targets.
    parameter_names : list[str]
        Names used in the equations.
    settings : SearchSettings, optional
        Operators, sizes, budget, seed and backend options.
    parsimony : float
        Minimum log-loss gain per unit of complexity for an equation to enter
        the hall of fame (0 keeps the whole Pareto front).
    constraints, nested_constraints : dict, optional
        PySR-style limits (see :mod:`medeq.discovery.constraints`).
    backend : str
        Registered backend name (``"operon"``, ``"pysr"``).
    columns : list[int], optional
        Only these columns are given to the search (feature selection); the
        equations still take all ``P`` columns.
    linear_seeds : bool
        Add the power-law and rational-function candidates of
        :mod:`medeq.discovery.seeds` (when one fits exactly, the backend's
        search gets ``EXACT_SEARCH_SHARE`` of the budget, for the simpler
        approximations of the front).
    noise_variance : float or (n,) array, optional
        The noise floor of ``y`` (response units squared). A float is taken as
        an estimate (e.g. a surrogate's fitted noise level; tested with an F
        test, the estimate counting for ``noise.ESTIMATE_DOF * n`` degrees
        of freedom); an array holds known per-sample variances (chi-square
        test). Unequal ones weigh the samples by their precision
        (:func:`.noise.precision_weights`): every loss (the seeds' and
        polishing's least squares, the floor's tests, the hall of fame's
        ``loss``) is then a mean squared error weighted by ``1 / variance``
        (scaled to mean 1), whose floor is the variances' harmonic mean; the
        backend's search itself is unweighted, and so are the searches of
        parts of the data (additive groups, a missing term), which estimate
        their own noise level. If some are 0, the samples are
        not weighted and the unequal variances widen the test instead
        (:attr:`.NoiseFloor.spread`). ``None``: fitted here with a
        Gaussian process (:func:`.noise.estimate_noise_variance`). ``0``: no
        noise found (exact data, or noise too small for a Gaussian process to
        resolve): candidates whose residuals are white then set the floor
        (module notes).
    noise_dof : float, optional
        Degrees of freedom of ``noise_variance`` as an estimate (an F test):
        default ``noise.ESTIMATE_DOF * n`` for a float or ``None``, and
        ``math.inf`` (known exactly) for an array; an array of variances
        known up to one estimated factor (e.g. a noise level divided by known
        scales) takes that factor's.
    early_stop : bool
        Stop the search once an equation is at the noise floor (see the
        module notes); ``False`` spends the whole budget.
    additive : bool
        Look for additive structure (:mod:`.structure`): when the data are a
        sum of terms in separate groups of inputs, each group is searched on
        its own for a share of the budget (``STRUCTURE_SHARE``; only with a
        ``settings.timeout``) and the sums of their equations join the
        candidates; and search for a missing term when the simplest equation
        at the floor leaves structured residuals (module notes; only with
        time the main search left unspent, so not with ``early_stop=False``
        unless the search ended before its share).
    surrogate : callable, optional
        The mean of a surrogate of ``y`` as a function of ``X`` (e.g. the
        campaign's Gaussian process), used to find that structure; default:
        a Gaussian process fitted here (the one that estimates the noise).

    Returns
    -------
    HallOfFame
    """
    settings = replace(
        settings or SearchSettings(),  # one place the backend reads them from
        parsimony=parsimony,
        constraints=dict(constraints) if constraints else None,
        nested_constraints=dict(nested_constraints) if nested_constraints else None,
    )
    names = [str(n) for n in parameter_names]
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != len(names) or y.shape != (X.shape[0],):
        raise ValueError(
            f"X must be (n, {len(names)}) and y (n,); got {X.shape} and {y.shape}."
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite; drop the rows with NaN or inf first.")
    if len(y) < 2:
        raise ValueError(f"equation discovery needs at least 2 evaluated samples, got {len(y)}.")
    if isinstance(parsimony, bool) or not isinstance(parsimony, (int, float)) or parsimony < 0:
        raise ValueError(f"parsimony must be a float >= 0, got {parsimony!r}.")
    operators = list(settings.binary_operators) + list(settings.unary_operators)
    limits, nested = constraint_checks.validate(constraints, nested_constraints, operators)
    engine = get_backend(backend)
    engine.validate(settings)

    if not isinstance(early_stop, (bool, np.bool_)):
        raise ValueError(f"early_stop must be True or False, got {early_stop!r}.")

    started = time.monotonic()
    symbols = symbols_for(names)
    used = list(range(len(names))) if columns is None else [int(c) for c in columns]
    fitted = []  # a Gaussian process of (X, y), fitted once if needed

    def model():
        if not fitted:
            fitted.extend(data_surrogate(X, y, settings.seed))
        return fitted

    floor = noise_floor(X, y, noise_variance, lambda: surrogate_noise(model()[0]), noise_dof)
    weights = precision_weights(noise_variance)  # known, unequal variances: weighted losses
    logger.info("noise floor: variance %.4g (var(y) %.4g)%s", floor.variance, float(np.var(y)),
                "" if weights is None else ", losses weighted by the samples' precision")
    fitness = Fitness(X, y, symbols, floor, weights)
    whiteness = Whiteness(X[:, used])

    def white(expr: sp.Expr, variables, inputs) -> bool:
        """Whether ``expr``'s residuals on ``inputs`` are white noise."""
        try:
            prediction = make_function(expr, variables)(inputs)
        except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
            return False
        return bool(np.all(np.isfinite(prediction))) and whiteness.white((y - prediction) * fitness.root_weights)

    scale_x = np.array([_power_of_ten(X[:, i]) for i in used])
    scale_y = _power_of_ten(y)
    scaled = [sp.Dummy(f"z{i}") for i in used]
    X_scaled = X[:, used] / scale_x  # what the backend searches on

    candidates = [sp.Float(float(np.mean(y)))]
    at_floor, seeded_at_floor, seeded_exact = False, [], []
    seeded = []
    if linear_seeds:
        limit = SEED_SECONDS if settings.timeout is None else max(SEED_SECONDS, 0.15 * settings.timeout)
        seed_start = time.monotonic()
        seed_symbols = [symbols[i] for i in used]
        seed_fitness = Fitness(X[:, used], y, seed_symbols, floor, weights)
        if not floor.noisy:
            # No noise found: a free power law with white residuals shows
            # noise too small for the Gaussian process (as after the search).
            free = seeds.free_power_law(X[:, used], y, seed_symbols, set(operators), seed_fitness)
            if free is not None and free[1] > floor.numerical:
                raised = white_floor([free[0]], floor, fitness, white)
                if raised is not floor:
                    floor, fitness = raised, fitness.at(raised)
        seeded = seeds.candidates(X[:, used], y, seed_symbols, operators, limit,
                                  fitness=seed_fitness.at(floor))
        if not seeded:
            # No seed at the floor: an estimated noise may be too low (its
            # upper confidence bound), and "no noise found" only means noise
            # too small for the Gaussian process to resolve (the data are no
            # noisier than its leave-one-out error). Fits at that bound whose
            # residuals are white set the floor (as after the search).
            upper = floor.upper() if floor.noisy else replace(
                floor, variance=loo_error(model()[0]), dof=ESTIMATE_DOF * floor.n)
            if upper.variance > floor.variance:
                # (At least half the seeds' time again; the search gets less.)
                left = max(limit - (time.monotonic() - seed_start), limit / 2)
                loose = seeds.candidates(X[:, used], y, seed_symbols, operators, left,
                                         fitness=seed_fitness.at(upper))
                raised = white_floor(loose, floor, fitness, white)
                if raised is not floor:
                    floor, fitness = raised, fitness.at(raised)
                    seeded = [e for e in loose if floor.reached(fitness.loss(e), len(e.atoms(sp.Float)))]
    # the options of the searches of parts of the data (additive groups, missing terms)
    options = dict(parsimony=parsimony, constraints=constraints, nested_constraints=nested_constraints,
                   backend=backend, linear_seeds=linear_seeds, early_stop=early_stop)
    if (additive and settings.timeout is not None and len(used) > 1
            and not any(fitness.loss(e) <= fitness.floor for e in seeded)):
        seeded += _additive_candidates(X, y, names, used, settings, fitness, surrogate or model()[1],
                                       **options)
    if seeded:
        candidates += seeded
        fits = fitness.fits(seeded)
        seed_floor = floor.consistent(fits)  # an exact seed shows up the approximate ones
        seeded_at_floor = [e for e, (loss, k) in zip(seeded, fits) if seed_floor.reached(loss, k)]
        seeded_exact = [e for e, (loss, _) in zip(seeded, fits) if loss <= fitness.floor]
        at_floor = bool(seeded_at_floor)
    search_settings = settings.share_left(EXACT_SEARCH_SHARE if at_floor and early_stop else SEARCH_SHARE,
                                          started)
    if early_stop:
        seed_size = min((complexity(e) for e in seeded_at_floor), default=None)
        # Exact seeds (numerically exact fits) are known before the search:
        # its first check may confirm them (one round, not two).
        exact_size = min((complexity(e) for e in seeded_exact), default=None)

        weighted: dict[sp.Expr, float] = {}

        def search_loss(expr: sp.Expr, mse: float) -> float:
            """The loss of a search candidate in ``expr`` (scaled variables, of
            mean squared error ``mse`` on the scaled data), weighted as
            ``fitness`` weighs losses (the search's own is unweighted)."""
            if weights is None:
                return mse * scale_y**2
            if expr not in weighted:  # the front changes little from one check to the next
                try:
                    prediction = make_function(expr, scaled)(X_scaled)
                except (TypeError, ValueError, NameError, ZeroDivisionError, OverflowError):
                    prediction = np.full(len(y), np.nan)
                weighted[expr] = fitness.mse(scale_y * prediction)
            return weighted[expr]

        def reached(front: Sequence[tuple[sp.Expr, float]]) -> int | None:
            """Complexity of the simplest equation at the floor (None: none is);
            asked with an empty front before the search, that of an exact seed."""
            if not front:
                return exact_size
            # an equation beyond maxsize would be dropped: it cannot end the search
            front = [(expr, mse) for expr, mse in front if complexity(expr) <= settings.maxsize]
            if not front:
                return seed_size
            fits = [(search_loss(expr, mse), len(expr.atoms(sp.Float))) for expr, mse in front]
            current = floor.consistent(fits)  # no noisier than the best fit says
            sizes = [complexity(expr) for (expr, _), (loss, k) in zip(front, fits) if current.reached(loss, k)]
            if seed_size is not None:
                sizes.append(seed_size)
            if not sizes and not floor.noisy:  # no noise found: white residuals are the floor
                best = best_fit(fits, floor)
                for (expr, _), (loss, k) in sorted(zip(front, fits), key=lambda pair: complexity(pair[0][0])):
                    if (loss > floor.numerical and best.reached(loss, k)
                            and white(sp.Float(scale_y) * expr, scaled, X_scaled)):
                        sizes.append(complexity(expr))
                        break
            return min(sizes, default=None)

        search_settings = replace(search_settings, stop=reached)
    raw = engine.search(X_scaled, y / scale_y, scaled, search_settings)
    back = {z: symbols[i] / sp.Float(s) for z, i, s in zip(scaled, used, scale_x)}
    candidates += [sp.Float(scale_y) * expr.xreplace(back) for expr in raw]
    if {"sin", "cos"} & set(operators):
        unfolded = [unfold_differences(expr, X, symbols) for expr in candidates]
        candidates += [_refitted(u, fitness) for u, e in zip(unfolded, candidates) if u is not e]
    logger.info("%s search: %d candidates in %.1f s", backend, len(candidates), time.monotonic() - started)

    fits = fitness.fits(candidates)
    if not any(floor.reached(loss, k) for loss, k in fits):  # no noise found, or too little
        floor = white_floor(candidates, floor, fitness, white)
        fitness = fitness.at(floor)
    if additive and settings.timeout is not None:
        missing = _missing_terms(X, y, names, used, settings, started + SEARCH_SHARE * settings.timeout,
                                 candidates, fits, fitness, white, **options)
        candidates += missing
        fits += fitness.fits(missing)
    # The data are no noisier than the most accurate candidate says.
    floor = floor.consistent(fits)
    fitness = fitness.at(floor)
    allow_pi = "pi" not in names
    polished = []
    deadline = None if settings.timeout is None else started + POLISH_DEADLINE * settings.timeout
    chosen, near_floor = _front_candidates(candidates, fitness, floor)
    # Seeds at the floor are polished whatever their raw size (a least-squares
    # fit writes c*m/sqrt(c**2 - v**2) as 1.002*sqrt(c**2*m**2/(c**2 - 0.98*v**2))).
    chosen += [e for e in seeded_at_floor if not any(e is c for c in chosen)]
    near_floor = near_floor and near_floor + [e for e in seeded_at_floor if not any(e is c for c in near_floor)]
    settled = None  # complexity of the first polished equation at the floor
    for expr in sorted(chosen, key=complexity):  # simplest first
        tick = time.monotonic()
        # Once a polished equation is at the floor, much more complex
        # candidates (fits of the noise) are only rounded; any candidate gets
        # at most CANDIDATE_SECONDS of polishing.
        # Sparse seeds at the floor are always polished (their raw form is long:
        # 1.01*sqrt((-0.98*c**2*t**2*u**2 + ...)/(...)) is c*(x - t*u)/sqrt(c**2 - u**2)).
        sparse_seed = (any(expr is e for e in seeded_at_floor)
                       and len(expr.atoms(sp.Float)) <= seeds.MAX_SELECTED + 1)
        skip = not sparse_seed and (
            (settled is not None and complexity(expr) > SETTLED_FACTOR * settled + SETTLED_EXTRA)
            or (near_floor and not any(expr is e for e in near_floor)))
        limit = tick if skip else tick + CANDIDATE_SECONDS
        clean, _ = polish(expr, fitness, allow_pi=allow_pi,
                          deadline=limit if deadline is None else min(deadline, limit))
        logger.debug("polished in %.2f s: %s -> %s", time.monotonic() - tick, expr, clean)
        clean = read_back(clean, names)  # exactly what its text reads back to
        if clean is None:
            continue
        if complexity(clean) > settings.maxsize:
            continue
        if not constraint_checks.satisfies(clean, limits, nested):
            continue
        if not constraint_checks.expressible(clean, operators):
            continue
        loss = fitness.loss(clean)
        if settled is None and floor.reached(loss, len(clean.atoms(sp.Float))):
            settled = complexity(clean)
        polished.append((clean, loss))
    logger.info("polished %d equations in %.1f s", len(polished), time.monotonic() - started)
    return pareto_front(polished, names, parsimony=parsimony, noise=floor)


def _additive_candidates(X, y, names, used, settings: SearchSettings, fitness: Fitness,
                         predict, **options) -> list[sp.Expr]:
    """Sums of the equations of each additive group of inputs (:mod:`.structure`),
    constants refitted on ``y``; none if the data are not additive."""
    groups = [[i for i in group if i in used] for group in structure.additive_groups(predict, X, settings.seed)]
    groups = [group for group in groups if group]
    if len(groups) < 2:
        return []
    logger.info("additive groups: %s", [[names[i] for i in group] for group in groups])
    targets = structure.components(predict, X, y, groups, settings.seed)
    share = replace(settings, timeout=max(1.0, STRUCTURE_SHARE * settings.timeout / len(groups)))
    parts = []
    for group, target in zip(groups, targets):
        found = discover_arrays(X[:, group], target, [names[i] for i in group], share,
                                additive=False, **options)
        parts.append([equation.sympy for equation in found][::-1])   # most accurate first
    sums = [sp.Add(*[part[0] for part in parts])]
    for j, part in enumerate(parts):  # each group's other equations, with the others' most accurate
        for expr in part[1:ALTERNATIVES + 1]:
            sums.append(sp.Add(*[expr if k == j else other[0] for k, other in enumerate(parts)]))
    combined = [_refitted(merge_numbers(e), fitness) for e in sums]
    logger.info("additive candidates: %s", [str(e) for e in combined])
    return combined


def _missing_terms(X, y, names, used, settings: SearchSettings, search_end: float, candidates, fits,
                   fitness: Fitness, white, **options) -> list[sp.Expr]:
    """Candidates with a term the floor took for noise (an estimate from a
    few dozen samples, or white residuals in all inputs at once).

    When the simplest candidate at the floor of ``fitness`` leaves residuals
    that are not white noise (:class:`.noise.Whiteness`), they are searched
    on their own, their noise estimated afresh; the candidate plus the
    simplest equation at their floor and plus their ``ALTERNATIVES + 1`` most
    accurate ones, constants refitted on ``y``, are returned. The candidate
    was fitted in the term's absence (an approximation, perhaps): the data
    minus that simplest term are searched again (one round of backfitting),
    and those sums are returned too. Each search gets ``STRUCTURE_SHARE`` of
    the budget, or half what the main search left of its share by
    ``search_end`` if less, and does not run if that is under
    ``2 * SEED_SECONDS`` (a search's seeds alone may take ``SEED_SECONDS``).
    Empty when no candidate is at the floor, the simplest is numerically
    exact (its residuals are rounding errors) or leaves white residuals, or
    there is no time."""
    floor = fitness.noise
    at_floor = [(expr, loss) for expr, (loss, k) in zip(candidates, fits)
                if floor.reached(loss, k) and not expr.is_number]
    if not at_floor:
        return []
    simplest, loss = min(at_floor, key=lambda pair: complexity(pair[0]))
    if loss <= floor.numerical or white(simplest, fitness.symbols, fitness.X):
        return []

    def rest(part: sp.Expr) -> tuple[list[sp.Expr], sp.Expr]:
        """Equations of ``y - part``: the simplest at their floor (``0`` if
        it is a number) first, then the most accurate; none without time."""
        seconds = min(STRUCTURE_SHARE * settings.timeout, (search_end - time.monotonic()) / 2)
        if seconds < 2 * SEED_SECONDS:
            return [], sp.Integer(0)
        logger.info("the residuals of %s are not white noise: searching them", part)
        residuals = y - make_function(part, fitness.symbols)(X)
        found = discover_arrays(X[:, used], residuals, [names[i] for i in used],
                                replace(settings, timeout=seconds), additive=False, **options)
        simplest = found.best.sympy if len(found) else sp.Integer(0)
        simplest = sp.Integer(0) if simplest.is_number else simplest
        accurate = [e.sympy for e in found if not e.sympy.is_number][::-1][:ALTERNATIVES + 1]
        first = [] if simplest == 0 else [simplest]
        return first + [e for e in accurate if e != simplest], simplest

    def joined(part: sp.Expr, terms: list[sp.Expr]) -> list[sp.Expr]:
        # The residuals' own floor (a rough estimate) snapped their
        # constants: all are fitted again together.
        return [_refitted(merge_numbers(_freed(part) + _freed(term)), fitness) for term in terms]

    terms, term = rest(simplest)
    combined = joined(simplest, terms)
    if term != 0:
        # The candidate was fitted without the term: fitted again without it.
        combined += joined(term, rest(term)[0])
    if combined:
        logger.info("with a missing term: %s", [str(e) for e in combined])
    return combined


def _freed(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every number but exponents (and coefficients 1 and -1,
    as in ``-x``) made a float, free to be fitted again."""
    if expr.is_Number:
        return expr if expr in (1, -1) else sp.Float(expr)
    if not expr.args:
        return expr
    if expr.is_Pow:
        return sp.Pow(_freed(expr.base), expr.exp)
    if expr.is_Add:  # an additive constant, 1 included, is free
        return sp.Add(*[sp.Float(a) if a.is_Number else _freed(a) for a in expr.args])
    return expr.func(*[_freed(arg) for arg in expr.args])


def read_back(expr: sp.Expr, names: Sequence[str]) -> sp.Expr | None:
    """``expr`` as its text reads back (plain symbols, rounded floats), or
    ``None`` if the text is beyond what the equation parser accepts (too long,
    too deeply nested): such an equation cannot be saved and read again."""
    try:
        return parse(to_string(expr, names), names)
    except ValueError as err:
        logger.debug("equation left out: %s", err)
        return None


def _refitted(expr: sp.Expr, fitness: Fitness) -> sp.Expr:
    """``expr`` with its constants refitted by least squares (e.g. after a
    rewrite that holds only approximately)."""
    model = Parametric(expr, fitness)
    model.values, _ = model.refit()
    return model.expression()


def _power_of_ten(values: np.ndarray) -> float:
    """Power of ten nearest the root-mean-square of ``values`` (1 for zeros)."""
    rms = float(np.sqrt(np.mean(np.square(values)))) if len(values) else 0.0
    if not math.isfinite(rms) or rms == 0:
        return 1.0
    return float(10.0 ** round(math.log10(rms)))


def _front_candidates(
    candidates: Sequence[sp.Expr], fitness: Fitness, floor: NoiseFloor
) -> tuple[list[sp.Expr], list[sp.Expr]]:
    """Unique candidates on the (complexity, loss) Pareto front to polish, and
    those of them near the floor: the simplest near the noise floor first
    (within ``NEAR_FLOOR`` times its threshold; at most half of
    ``MAX_POLISHED``), then the most accurate (``ABOVE_FLOOR`` of them if
    some are near the floor) and the simpler ones.

    Losses are clamped at the numerical floor so that, among exact fits,
    only the simplest is kept.
    """
    scored: dict[str, tuple[int, float, sp.Expr]] = {}
    for expr in candidates:
        key = sp.srepr(expr)
        if key in scored:
            continue
        loss = fitness.loss(expr)
        if math.isfinite(loss):
            scored[key] = (complexity(expr), max(loss, fitness.floor), expr)
    front, lowest = [], math.inf
    for size, loss, expr in sorted(scored.values(), key=lambda t: (t[0], t[1])):
        if loss < lowest:
            front.append((expr, loss))
            lowest = loss
    near = [e for e, loss in front if loss <= NEAR_FLOOR * floor.threshold(len(e.atoms(sp.Float)))]
    chosen = near[: MAX_POLISHED // 2]
    # Once something is near the floor, the more accurate candidates are fits
    # of the noise: a few show the trade-off, polishing them all is wasted time.
    others = MAX_POLISHED - len(chosen) if not chosen else ABOVE_FLOOR
    chosen += [e for e, _ in front[::-1] if not any(e is c for c in chosen)][:others]
    if near:  # the simpler, less accurate equations show what the law's terms buy
        simplest = complexity(near[0])
        chosen += [e for e, _ in front if complexity(e) < simplest][: MAX_POLISHED - len(chosen)]
    return chosen, near[: MAX_POLISHED // 2]
