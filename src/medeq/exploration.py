"""Autonomous exploration: keep the workers busy, learn from each result, repeat.

:func:`explore` runs a campaign until one of its stopping conditions holds.
With a scheduler that runs several jobs at once it is asynchronous
(:mod:`medeq.asynchronous`): ``capacity`` jobs stay in flight, each result
is recorded the moment it arrives and the next sample is picked with the
others still pending. ``mode="batch"`` samples a batch, waits for all of
it, refits, and repeats.
Stopping conditions are small objects combined with ``|`` (stop when any
holds) and ``&`` (stop when all hold):

>>> from medeq.exploration import EvaluationBudget, TimeLimit, UncertaintyTarget
>>> stop = EvaluationBudget(40) | (UncertaintyTarget(0.05) & TimeLimit(60))

The campaign is saved after every result (batch mode: every batch), and the
loop's own record (its settings, every block of results between two refits,
what is in flight and why it stopped) goes to ``exploration.toml`` in the
campaign folder; resuming is loading the folder and exploring again - the
evaluation budget counts every result of the campaign, so a resumed run does
not overshoot it.
"""

from __future__ import annotations

import datetime
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path


from .progress import Progress
from .stopping import (
    AllOf,
    AnyOf,
    EvaluationBudget,
    ExplorationState,
    StoppingCondition,
    TimeLimit,
    UncertaintyTarget,
    check_positive,
    domain_uncertainty,
    stopping_condition,
)
from .fileio import atomic_write, dump_toml, read_toml_record

logger = logging.getLogger(__name__)

#: Accepted values of ``explore(mode=...)``.
MODES = ("auto", "async", "batch")
#: File in the campaign folder recording the exploration loop.
STATE_FILE = "exploration.toml"
STATE_FORMAT = "medeq-exploration"

__all__ = [
    "AllOf",
    "AnyOf",
    "EvaluationBudget",
    "ExplorationResult",
    "ExplorationState",
    "StoppingCondition",
    "TimeLimit",
    "UncertaintyTarget",
    "MODES",
    "default_batch",
    "scheduler_capacity",
    "domain_uncertainty",
    "explore",
    "load_exploration",
    "stopping_condition",
]


# ---------------------------------------------------------------------- result
@dataclass
class ExplorationResult:
    """Summary of one call to :func:`explore`.

    Attributes
    ----------
    reason : str
        Why exploration stopped.
    n_evaluated : int
        Results of the whole campaign.
    n_new : int
        Results added by this call.
    batches : int
        Batches evaluated by this call (asynchronous mode: blocks of results
        between two refits, one epoch each).
    elapsed : float
        Seconds this call took (discovery included).
    uncertainty : float
        :func:`domain_uncertainty` at the end (``inf`` without surrogate).
    directory : pathlib.Path or None
        The campaign folder, if saved.
    equations : dict
        Response name -> hall of fame, when ``discover=True``.
    """

    reason: str
    n_evaluated: int
    n_new: int
    batches: int
    elapsed: float
    uncertainty: float
    directory: Path | None = None
    equations: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"stopped: {self.reason}",
            (f"results: {self.n_evaluated} ({self.n_new} new in {self.batches} batch(es), "
             f"{self.elapsed:.1f} s)"),
            f"surrogate uncertainty (95% of the space, relative): {self.uncertainty:.3g}",
        ]
        if self.directory is not None:
            lines.append(f"saved in: {self.directory}")
        for name, hall_of_fame in self.equations.items():
            if len(hall_of_fame):
                lines.append(f"best equation for {name}: {hall_of_fame.best}")
        return "\n".join(lines)


# --------------------------------------------------------------------- the loop
def explore(
    med,
    f=None,
    *,
    budget: int | None = None,
    batch: int | None = None,
    target_uncertainty: float | None = None,
    time_limit: float | None = None,
    discover: bool = False,
    stop: StoppingCondition | None = None,
    discover_options: dict | None = None,
    directory=None,
    save: bool = True,
    verbose: int | None = None,
    mode: str = "auto",
    cancel_on_stop: bool = False,
) -> ExplorationResult:
    """Explore a campaign autonomously: sample, evaluate, refit, repeat.

    Asynchronous mode (the default when the scheduler runs more than one
    job at once): keeps ``med.scheduler.capacity`` jobs in flight; as each
    ends its result is recorded, the campaign saved, the surrogates
    conditioned on it (hyperparameters refitted every so often,
    :func:`medeq.asynchronous.refit_due`), the stopping conditions checked,
    and the next sample picked with the jobs in flight as pending samples.
    One epoch per block of results between two refits. Batch mode: each
    iteration draws ``batch`` samples, evaluates them all (``f`` in this
    process or on ``med.scheduler``, or the campaign's script on its
    scheduler), refits and saves; one epoch per batch. Either way samples
    already queued are evaluated first, and exploration stops when any
    given condition holds.

    Parameters
    ----------
    med : medeq.MED
        The campaign (new, or loaded to resume).
    f : callable, optional
        The function to evaluate, ``f(sample) -> response``; ``None`` for a
        campaign created from a simulation script.
    budget : int, optional
        Stop when the campaign holds ``budget`` results in total (earlier
        runs count); jobs in flight count against it, and batches are
        trimmed, so it is never overshot.
    batch : int, optional
        Samples per batch (batch mode, chosen by giving it with
        ``mode="auto"``); default: the number of parameters rounded up to a
        multiple of the scheduler's capacity (at least 2).
    target_uncertainty : float, optional
        Stop when :func:`domain_uncertainty` (95th percentile over the space
        of the surrogate's standard deviation relative to the response's)
        is at most this.
    time_limit : float, optional
        Stop starting new jobs (batches) after this many seconds; the jobs
        in flight are awaited, or cancelled with ``cancel_on_stop``.
    discover : bool, default False
        Discover equations for every response at the end.
    stop : StoppingCondition, optional
        Any other condition (combined with the above by ``|``).
    discover_options : dict, optional
        Keyword arguments for :meth:`MED.discover` (``binary_operators``,
        ``timeout_in_seconds``...).
    directory : str or os.PathLike, optional
        Campaign folder; default: the campaign's folder if it has one, else
        ``med_seed<seed>``.
    save : bool, default True
        Save after every batch. ``False`` creates no folder for a campaign
        that has none (a script campaign, or one already saved or loaded,
        is always kept in sync with its folder).
    verbose : int, optional
        Progress output level; default ``med.verbose`` (0 is silent).
    mode : {"auto", "async", "batch"}, default "auto"
        ``"auto"``: asynchronous when the campaign runs jobs on a scheduler
        (a script, or ``f`` with ``med.scheduler``) whose ``capacity`` is
        above 1 and no ``batch`` is given; batch otherwise.
    cancel_on_stop : bool, default False
        Asynchronous mode: when a condition holds, cancel the jobs in
        flight instead of waiting for them (their samples stay queued).

    Returns
    -------
    ExplorationResult
        Why it stopped, evaluations, time, final uncertainty, equations.

    Examples
    --------
    >>> import medeq
    >>> med = medeq.MED(medeq.create_parameters(["x", "y"], [0, 0], [1, 1]), seed=1, verbose=0)
    >>> result = med.explore(lambda s: s[0] * s[1], budget=12, save=False)
    >>> med.n_evaluated
    12
    """
    if f is None and med.script is None:
        raise ValueError(
            "explore() needs a function f(sample) -> response, unless the campaign was "
            "created from a simulation script (MED('script.py'))."
        )
    if f is not None and not callable(f):
        raise TypeError(
            f"f must be a function f(sample) -> response; got {type(f).__name__}. To feed "
            "measured responses, use med.evaluate(responses) instead."
        )
    condition = stopping_condition(budget, target_uncertainty, time_limit, stop)
    requested, mode = mode, _exploration_mode(med, f, mode, batch)
    if mode == "async":
        batch = None
    else:
        batch = default_batch(med) if batch is None else check_positive(batch, "batch", integer=True)
    options = dict(discover_options or {})
    verbose = med.verbose if verbose is None else verbose
    settings = {
        "budget": budget, "batch": batch, "target_uncertainty": target_uncertainty,
        "time_limit": time_limit, "discover": bool(discover), "discover_options": options,
        "mode": requested, "cancel_on_stop": bool(cancel_on_stop),
    }
    log = _RunLog(med, settings, save, directory)
    state = ExplorationState(med, n_start=med.n_evaluated)
    left = condition.evaluations_left(state)
    progress = Progress(
        total=None if left is None else med.n_evaluated + max(left, len(med.queue)),
        initial=med.n_evaluated, desc="exploring", unit="results", verbose=verbose, interval=0,
    )
    try:
        if mode == "async":
            from .asynchronous import explore_async

            reason = explore_async(med, f, condition, state, log, progress, cancel_on_stop)
        else:
            reason = _loop(med, f, condition, state, batch, log, progress)
        equations = {}
        if discover:
            log.update("discovering", reason)
            equations = _discover_all(med, options, progress, log.directory)
    except KeyboardInterrupt:
        log.update("interrupted", "interrupted by the user (Ctrl-C); explore again to resume")
        raise
    except Exception as err:
        log.update("failed", f"{type(err).__name__}: {err}")
        raise
    finally:
        progress.close()
    log.update("stopped", reason)
    return ExplorationResult(
        reason=reason, n_evaluated=med.n_evaluated, n_new=state.n_new, batches=state.batches,
        elapsed=state.elapsed, uncertainty=state.uncertainty(), directory=log.directory,
        equations=equations,
    )


def _loop(med, f, condition, state, batch, log, progress) -> str:
    queued = len(med.queue)
    if queued:
        left = condition.evaluations_left(state)
        if left is not None and queued > left:
            warnings.warn(
                f"{queued} samples were already queued but the stopping conditions allow "
                f"{left} more evaluation(s); the whole queue is evaluated.",
                RuntimeWarning, stacklevel=3,
            )
        _evaluate_batch(med, f, state, log, progress)
    while True:
        reason = condition.check(state)
        if reason:
            return reason
        n = batch
        left = condition.evaluations_left(state)
        if left is not None:
            n = min(n, left)
        med.sample(n)
        _evaluate_batch(med, f, state, log, progress)


def _evaluate_batch(med, f, state, log, progress) -> None:
    start, began = med.n_evaluated, time.monotonic()
    med.evaluate(f)
    state.batches += 1
    uncertainty = state.uncertainty()
    seconds = time.monotonic() - began
    log.batch(start, med.n_evaluated, seconds, uncertainty)
    logger.info("batch %d: results %d-%d in %.1f s; uncertainty %.3g",
                state.batches, start, med.n_evaluated, seconds, uncertainty)
    progress.update(med.n_evaluated - start, postfix=f"uncertainty {uncertainty:.3g}")


def _discover_all(med, options: dict, progress, directory) -> dict:
    if directory is not None:
        # The campaign folder keeps the equations; write no stray equations.csv in the cwd.
        options = {"equation_file": None, **options}
    if med.n_evaluated < 2:
        warnings.warn(
            f"equation discovery skipped: it needs at least 2 results; the campaign has "
            f"{med.n_evaluated}.", RuntimeWarning, stacklevel=3,
        )
        return {}
    found = {}
    for name in med.names:
        progress.write(f"discovering equations for {name}...")
        found[name] = med.discover(name, **options)
    return found


def default_batch(med) -> int:
    """Default batch size: parameters rounded up to a multiple of the capacity (>= 2)."""
    workers = scheduler_capacity(med.scheduler)
    size = max(len(med.parameters), 2)
    return workers * math.ceil(size / workers)


def scheduler_capacity(scheduler) -> int:
    """Jobs a scheduler runs at once (its ``capacity``; 1 without a scheduler)."""
    return 1 if scheduler is None else int(getattr(scheduler, "capacity", 1))


def _exploration_mode(med, f, mode: str, batch) -> str:
    """``"async"`` or ``"batch"`` for :func:`explore`'s ``mode`` argument."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
    jobs = med.scheduler is not None and (f is None or callable(getattr(med.scheduler, "submit", None)))
    if mode == "async" and not jobs:
        raise ValueError(
            "mode='async' needs a scheduler to run the jobs (MED(..., scheduler="
            "medeq.LocalScheduler())); without one f runs in this process: use mode='batch'."
        )
    if mode == "auto":
        return "async" if jobs and batch is None and scheduler_capacity(med.scheduler) > 1 else "batch"
    return mode


# ------------------------------------------------------------- exploration.toml
class _RunLog:
    """Keeps ``exploration.toml`` (settings, batches, status) next to the campaign.

    The campaign itself saves on every ``sample``/``evaluate`` once it has a
    folder; this only gives it one.
    """

    def __init__(self, med, settings: dict, save: bool, directory):
        self.med = med
        self.save = save or med.script is not None or med.paths is not None
        self.directory = None
        self.record = {"format": STATE_FORMAT, "settings": _toml_clean(settings), "batches": []}
        if not self.save:
            return
        if med.paths is None or (directory is not None and Path(directory).resolve() != med.paths.directory):
            med.save(directory)
        self.directory = med.paths.directory
        previous = load_exploration(self.directory)
        self.record["batches"] = previous.get("batches", [])
        self.update("exploring", "running")

    def batch(self, start: int, end: int, seconds: float, uncertainty: float) -> None:
        self.record["batches"].append({
            "start": int(start), "end": int(end), "seconds": round(float(seconds), 3),
            "uncertainty": float(uncertainty), "finished": _now(),
        })
        self.update("exploring", "running")

    def update(self, status: str, reason: str, **activity) -> None:
        """Record the loop's state (``activity``: jobs in flight, finished... in
        async mode; the last one given is kept)."""
        self.activity = {**getattr(self, "activity", {}), **activity}
        self.record["status"] = {
            "state": status, "reason": reason, "updated": _now(),
            "n_results": int(self.med.n_evaluated), "n_queued": len(self.med.queue),
            **self.activity,
        }
        if self.save:
            atomic_write(self.directory / STATE_FILE, dump_toml(self.record))


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _toml_clean(settings: dict) -> dict:
    """Drop ``None`` values and anything TOML cannot hold (with a warning)."""
    clean = {}
    for key, value in settings.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = _toml_clean(value)
        try:
            dump_toml({key: value})
        except TypeError:
            warnings.warn(
                f"exploration setting {key}={value!r} cannot be recorded in {STATE_FILE}; "
                "give it again when resuming.", RuntimeWarning, stacklevel=4,
            )
            continue
        clean[key] = value
    return clean


def load_exploration(directory) -> dict:
    """Read a campaign folder's ``exploration.toml`` (empty dict if none).

    Keys: ``settings`` (the last :func:`explore` arguments), ``batches``
    (start, end, seconds, uncertainty, finished: one per batch, or per block
    of results between refits in asynchronous mode) and ``status`` (state,
    reason, updated, n_results, n_queued; asynchronous mode adds in_flight,
    finished, failed, busy_workers, capacity and eta_seconds).
    """
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        return {}
    return read_toml_record(path, STATE_FORMAT, "exploration record",
                            "delete it to start a fresh record")
