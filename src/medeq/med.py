"""The ``MED`` campaign: a thin facade over samplers, evaluation, surrogate,
discovery, storage and views.

``MED`` holds the campaign's set-up (parameters, sampler, scheduler, seed)
and one :class:`~medeq.record.CampaignRecord` (samples, responses,
variances, epochs, equations), and delegates every piece of work to the
module that owns it.
"""

from __future__ import annotations

import copy
import functools
import os
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd

from . import arguments
from . import responses as resp
from .evaluation import evaluate_in_process, warn_failures
from .lock import CampaignChanged, writer_lock
from .parameters import (
    as_points,
    bounds,
    distinct_points,
    from_unit,
    to_unit,
    validate_parameters,
)
from .record import CampaignRecord
from .samplers import DVASampler
from .storage import CampaignSetup, folder_for, load_campaign, load_script, read_revision, save_campaign
from .surrogate import condition_surrogates, fit_surrogates

#: Tolerance on sampler output outside the unit cube before it is an error.
UNIT_TOLERANCE = 1e-9


def _writes(method):
    """Run ``method`` holding the campaign folder's writer lock (when there is a folder)."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._writing():
            return method(self, *args, **kwargs)

    return locked


class MED:
    """Autonomously explore system responses and discover underlying laws.

    Parameters
    ----------
    parameters : pd.DataFrame or str or os.PathLike
        Free parameters (see :func:`medeq.create_parameters`), or the path to
        a simulation script defining them between ``# MED PARAMETERS START``
        and ``# MED PARAMETERS END`` (script mode).
    response_names : list[str], optional
        Names of the responses; default ``response`` / ``response0..``.
    sampler : class or object, default DVASampler
        Any object with ``.sample(n, med)`` returning points in the unit
        cube; a class is constructed as ``cls(d, seed=seed)``.
    scheduler : medeq.Scheduler, optional
        Runs evaluations in parallel. ``None``: a Python function is
        evaluated in this process, and a script on a ``LocalScheduler``.
    seed : int, optional
        Random seed; drawn and recorded when not given.
    verbose : int, default 3
        0 is silent; higher prints more summaries (0 to 5).
    response_units : list[str] or dict, optional
        Physical units of the responses (pint syntax, e.g. ``["uN"]`` or
        ``{"F": "uN"}``). With units on every parameter too, ``discover``
        uses dimensional analysis.

    Examples
    --------
    >>> import medeq
    >>> parameters = medeq.create_parameters(["A", "B"], [-5., -5.], [10., 10.])
    >>> med = medeq.MED(parameters, seed=42)
    >>> samples = med.sample(5)
    >>> med.evaluate(lambda x: x[0] + x[1])
    """

    def __init__(
        self,
        parameters,
        response_names=None,
        sampler=DVASampler,
        scheduler=None,
        seed: int | None = None,
        verbose: int = 3,
        response_units=None,
    ):
        self.script = None
        if isinstance(parameters, (str, os.PathLike)):
            from .scripts import Script

            self.script = Script.load(parameters)
            parameters = self.script.parameters
            if scheduler is None:
                from .schedulers import LocalScheduler

                scheduler = LocalScheduler()
        self.parameters = validate_parameters(parameters)
        resp.check_parameter_names(self.parameters.index)
        self.response_names = resp.check_names(response_names, list(self.parameters.index))
        self.response_units = resp.check_response_units(response_units, self.response_names)
        self.seed = arguments.check_seed(seed)
        self.verbose = arguments.check_verbose(verbose)
        self.sampler = arguments.build_sampler(sampler, len(self.parameters), self.seed)
        self.scheduler = arguments.check_scheduler(scheduler)

        self.record = CampaignRecord.empty(len(self.parameters))
        self.gp = None
        self.paths = None
        self._revision = 0  # of the folder's setup.toml this campaign last read or wrote

    # ------------------------------------------------------------------ state
    @property
    def parameter_names(self) -> list[str]:
        return list(self.parameters.index)

    @property
    def n_evaluated(self) -> int:
        return self.record.n_evaluated

    @property
    def samples(self) -> np.ndarray:
        """Every sample (M, P) in real units: the evaluated ones, then the queue."""
        return self.record.samples

    @samples.setter
    def samples(self, value) -> None:
        self.record = self.record.with_samples(value)

    @property
    def queue(self) -> np.ndarray:
        """Samples generated but not evaluated yet, in real units."""
        return self.record.queue

    @property
    def evaluated(self) -> np.ndarray:
        """Evaluated samples (N, P), in real units."""
        return self.record.evaluated

    @property
    def responses(self) -> np.ndarray | None:
        """Responses of the evaluated samples (N, K), ``None`` before any result."""
        return self.record.responses

    @property
    def measured_variances(self) -> np.ndarray | None:
        """Variances given by the user (N, K), NaN where none was given."""
        return self.record.variances

    @property
    def epochs(self) -> list[tuple[int, int]]:
        """Row ranges ``(start, end)`` of the evaluated samples added together."""
        return [epoch.rows for epoch in self.record.epochs]

    @property
    def epoch_origins(self) -> list[str]:
        """How each epoch's results came: ``evaluated``, ``augmented`` or ``recovered``."""
        return [epoch.origin for epoch in self.record.epochs]

    @property
    def sr(self) -> dict:
        """Discovered equations: response name -> hall of fame."""
        return self.record.equations

    @sr.setter
    def sr(self, value: dict) -> None:
        self.record = self.record.with_equations(value)

    @property
    def names(self) -> list[str]:
        """Response names in use: the given ones, else ``response``/``response0..``."""
        k = 0 if self.responses is None else self.responses.shape[1]
        if self.response_names is not None:
            return list(self.response_names)
        return resp.default_names(k) if k else []

    @property
    def variances(self) -> np.ndarray | None:
        """Measurement-noise variance of every result (N, K).

        Where the user gave a variance (``evaluate``/``augment`` with
        ``variances=``) it is used as is; elsewhere it is the noise level the
        response's surrogate fitted (in response units squared), or NaN while
        there is no surrogate. The surrogate models a result with a given
        variance ``v`` as noisy with ``v`` plus the fitted level; the standard
        deviation of :meth:`predict` is the uncertainty of the true response,
        without measurement noise.
        """
        if self.responses is None:
            return None
        out = self.measured_variances.copy()
        for k, model in enumerate(self.gp or []):
            if model is not None:
                missing = np.isnan(out[:, k])
                out[missing, k] = model.noise_variance
        return out

    @property
    def results(self) -> pd.DataFrame:
        """Evaluated samples with their variance and response columns."""
        return self.record.results_frame(self.parameter_names, self.names, self.variances)

    @contextmanager
    def _transaction(self):
        """Restore every attribute if the block fails: no half-applied call."""
        saved = dict(self.__dict__)  # methods assign new objects, never mutate in place
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    @contextmanager
    def _writing(self):
        """Hold the writer lock of the campaign's folder for the block.

        Another process writing the folder raises ``CampaignLocked`` (naming
        it); a folder saved by another process since this campaign read it
        raises :class:`CampaignChanged`: nothing is overwritten.
        """
        if self.paths is None:
            yield
            return
        self.paths.directory.mkdir(parents=True, exist_ok=True)  # (re-created if removed)
        with writer_lock(self.paths.directory) as lock:
            if lock.depth == 1:
                self._check_revision(lock)
            yield

    def _check_revision(self, lock) -> None:
        """Refuse to overwrite a folder another process saved since this campaign read it.

        (Campaigns of this process sharing a folder are the user's choice:
        the last one written wins, as for any file.)
        """
        directory = lock.directory
        on_disk = read_revision(directory)
        if on_disk is not None and on_disk not in (self._revision, lock.written):
            raise CampaignChanged(
                f"the campaign folder {directory} was saved by another process since this "
                f"campaign was loaded or saved (revision {self._revision}, now {on_disk}); "
                "load it again with MED.load to continue from what is on disk."
            )

    # --------------------------------------------------------------- sampling
    @_writes
    def sample(self, n: int) -> np.ndarray:
        """Generate ``n`` new samples, add them to ``samples`` and the queue.

        Returns the new samples in real units, shaped ``(n, P)``: log-scaled
        parameters spread over their decades, integer parameters integral
        and, while unused integer combinations remain, no sample repeated
        (see :func:`medeq.parameters.distinct_points`).
        """
        if isinstance(n, (bool, np.bool_)) or int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer number of samples; got {n!r}.")
        n = int(n)
        unit = self._checked_sampler_output(self.sampler.sample(n, self), n)
        new = distinct_points(from_unit(unit, self.parameters), self.samples, self.parameters)
        self.record = self.record.with_queue(np.vstack([self.queue, new]))
        self._autosave()
        return new.copy()

    def _checked_sampler_output(self, unit, n: int) -> np.ndarray:
        d = len(self.parameters)
        what = f"sampler {self.sampler!r} returned"
        try:
            unit = np.asarray(unit, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{what} {type(unit).__name__}, not numbers; expected an ({n}, {d}) array.") from None
        if unit.shape != (n, d):
            raise ValueError(f"{what} an array of shape {unit.shape}; expected ({n}, {d}).")
        if not np.isfinite(unit).all():
            raise ValueError(f"{what} non-finite values; samples must lie in the unit cube [0, 1]^{d}.")
        if unit.min() < -UNIT_TOLERANCE or unit.max() > 1 + UNIT_TOLERANCE:
            raise ValueError(
                f"{what} values in [{unit.min():.4g}, {unit.max():.4g}]; samples must lie in "
                f"the unit cube [0, 1]^{d} (medeq scales them to the bounds)."
            )
        return np.clip(unit, 0.0, 1.0)

    def set_response_units(self, units) -> None:
        """Declare (or change) the responses' physical units: a list aligned
        with the responses or a dict name -> unit (pint syntax)."""
        names = self.response_names or (self.names or None)
        self.response_units = resp.check_response_units(units, names)
        self._autosave()

    # ------------------------------------------------------------- evaluation
    @_writes
    def evaluate(self, f=None, variances=None) -> None:
        """Evaluate the queued samples.

        Parameters
        ----------
        f : array-like, callable or None
            * responses for the queue, ``(n,)`` or ``(n, K)`` (run your
              experiments on ``med.queue``, then feed the numbers back);
            * a function taking one sample vector and returning a float, a
              list of floats, or a dict name -> float;
            * ``None`` in script mode: the script runs once per sample on the
              campaign's scheduler.
        variances : array-like, optional
            Known measurement-noise variances, shaped like the responses.

        Notes
        -----
        A function that raises on one sample gives NaN for that sample (with a
        warning naming the error); the others are kept. If every sample
        fails, nothing is recorded and the first error is raised. On Ctrl-C,
        the finished samples are recorded and the rest stay queued.
        """
        queue = self.queue
        if len(queue) == 0:
            warnings.warn(
                "the queue is empty: nothing to evaluate; call med.sample(n) first.",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        if f is None and self.script is None:
            raise ValueError(
                "evaluate() needs the responses for the queue (array-like) or a function "
                "f(sample) -> response; only a campaign created from a script evaluates "
                "with no argument."
            )
        if variances is not None:  # before any (expensive) evaluation runs
            resp.check_variances(variances, (len(queue), None))
        if f is None or callable(f):
            self._evaluate_outcomes(f, queue, variances)
        else:
            with self._transaction():
                values = resp.as_response_array(f, len(queue))
                self._record(np.arange(len(queue)), values, variances, "evaluated")
        self._autosave()

    def _evaluate_outcomes(self, f, queue: np.ndarray, variances) -> None:
        try:
            outcomes = self._run_evaluations(f, queue)
        except resp.EvaluationInterrupted as stop:
            if stop.finished:
                order = np.array(sorted(stop.finished))
                finished = [stop.finished[i] for i in order]
                subset = None if variances is None else np.asarray(variances, float)[order]
                try:
                    self._record_outcomes(order, finished, subset)
                except (ValueError, RuntimeError) as err:
                    warnings.warn(f"interrupted: the finished samples were not recorded ({err}).",
                                  RuntimeWarning, stacklevel=3)
                self._autosave()
            raise
        self._record_outcomes(np.arange(len(queue)), outcomes, variances)

    def _run_evaluations(self, f, queue: np.ndarray) -> list:
        if f is None:
            from .scripts import run_script_jobs

            if self.paths is None:
                self.save()
            known = self.responses is not None    # earlier results fix the response form
            return run_script_jobs(
                self.script, self.scheduler, queue, self.parameter_names,
                self.paths.outputs, verbose=self.verbose,
                response_names=self.response_names if known else None,
                n_responses=self.responses.shape[1] if known else None,
            )
        if self.scheduler is not None:
            logs = None if self.paths is None else self.paths.outputs / f"calls-epoch{len(self.epochs)}"
            return self.scheduler.map(f, queue, directory=logs)
        return evaluate_in_process(f, queue, verbose=self.verbose)

    def _record_outcomes(self, order, outcomes, variances, origin: str = "evaluated") -> None:
        with self._transaction():
            values, dict_names = resp.outcomes_to_array(outcomes)
            if dict_names is not None:
                values = self._align_dict_names(values, dict_names)
            self._record(order, values, variances, origin)
        warn_failures(outcomes, order)

    def _align_dict_names(self, values: np.ndarray, keys: list[str]) -> np.ndarray:
        if self.response_names is None:
            if self.responses is not None and self.responses.shape[1] != len(keys):
                raise ValueError(
                    f"the responses have keys {keys} but earlier results have "
                    f"{self.responses.shape[1]} unnamed response(s)."
                )
            self.response_names = resp.check_names(keys, self.parameter_names)
            return values
        if set(keys) != set(self.response_names):
            raise ValueError(
                f"the responses have keys {keys}, but this campaign's response_names are "
                f"{self.response_names}; return the same names (or create the MED "
                "without response_names)."
            )
        return values[:, [keys.index(name) for name in self.response_names]]

    def _record(self, order: np.ndarray, values: np.ndarray, variances, origin: str) -> None:
        """Move queue rows ``order`` (with ``values``) to the evaluated block."""
        queue = self.queue
        rest = np.setdiff1d(np.arange(len(queue)), order)
        self._append_results(queue[order], values, variances, origin, queue[rest])

    def _record_finished(self, rows, outcomes, new_epoch: bool, refit: bool) -> None:
        """Record outcomes of queue ``rows`` as their jobs end (asynchronous exploration).

        ``new_epoch`` starts an epoch, else the last one grows; ``refit``
        refits the surrogates, else they are conditioned on the new results
        with their current hyperparameters. Failed outcomes are NaN rows,
        also when all failed, once earlier results fix the responses. Saves.
        """
        rows = np.asarray(rows, int)
        with self._transaction():
            if self.responses is not None and all(o.failed for o in outcomes):
                values, dict_names = np.full((len(rows), self.responses.shape[1]), np.nan), None
            else:
                values, dict_names = resp.outcomes_to_array(outcomes)
            if dict_names is not None:
                values = self._align_dict_names(values, dict_names)
            queue = self.queue
            rest = np.setdiff1d(np.arange(len(queue)), rows)
            self._append_results(queue[rows], values, None, "evaluated", queue[rest],
                                 extend=not new_epoch, refit=refit)
        warn_failures(outcomes, rows)
        self._autosave()

    def _append_results(self, points, values, variances, origin: str, queue,
                        extend: bool = False, refit: bool = True) -> None:
        """Add ``points`` with ``values`` as a new epoch (``extend``: to the last
        one) and refit (else condition the surrogates); ``queue`` stays queued."""
        measured = resp.check_variances(variances, values.shape)
        record = self.record.append_epoch(points, values, measured, origin, queue, extend=extend)
        k = values.shape[1]
        self.response_names = resp.check_names(
            resp.reconcile_names(self.response_names, k), self.parameter_names)
        self.response_units = resp.align_units(
            self.response_units, self.response_names or resp.default_names(k))
        self.record = record
        if refit or self.gp is None or any(model is None for model in self.gp):
            self.refit()
        else:
            unit = to_unit(points, self.parameters)
            self.gp = condition_surrogates(self.gp, unit, values, measured)

    @_writes
    def augment(self, samples, responses, variances=None) -> None:
        """Add historical, already evaluated samples with their responses.

        They are inserted after the evaluated samples and before the queue.
        Points outside the parameter bounds are accepted with a warning.
        """
        points = as_points(samples, self.parameters, "samples")
        with self._transaction():
            values = resp.as_response_array(responses, len(points))
            lower, upper = bounds(self.parameters)
            outside = np.nonzero(((points < lower) | (points > upper)).any(axis=1))[0]
            if len(outside):
                warnings.warn(
                    f"augment: {len(outside)} sample(s) lie outside the parameter bounds "
                    f"(rows {outside[:10].tolist()}); they are kept.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._append_results(points, values, variances, "augmented", self.queue)
        self._autosave()

    def refit(self) -> None:
        """Refit the surrogate of every response on the evaluated samples."""
        unit = to_unit(self.evaluated, self.parameters)
        self.gp = fit_surrogates(unit, self.responses, self.measured_variances, self.seed)

    # ------------------------------------------------------------- prediction
    def response_index(self, response=None) -> int:
        """Index of a response given by name or index (``None``: the only one)."""
        names = self.names
        if not names:
            raise ValueError("there are no results yet: evaluate some samples first.")
        if response is None:
            if len(names) > 1:
                raise ValueError(
                    f"this campaign has {len(names)} responses {names}: choose one with "
                    "response=<name or index>."
                )
            return 0
        return arguments.name_index(response, names, "response")

    def predict(self, x, response=None, return_std: bool = True, equation=None):
        """Predict responses at points ``x`` given in real units.

        Parameters
        ----------
        x : pd.DataFrame or array-like
            One row per point: a DataFrame with the parameter columns, an
            ``(n, P)`` array, or a single point of length ``P``.
        response : str or int, optional
            Which response; ``None`` predicts all of them.
        return_std : bool, default True
            Also return the surrogate's standard deviation.
        equation : Equation, int, str, optional
            Evaluate a discovered equation instead of the surrogate: a row
            of the response's hall of fame, ``"best"``, or an expression.

        Returns
        -------
        mean or (mean, std)
            ``(n,)`` arrays for one response, ``(n, K)`` for all of them.
        """
        points = as_points(x, self.parameters)
        if equation is not None:
            from .discovery import resolve_equation

            name = self.names[self.response_index(response)] if self.names else None
            found = resolve_equation(self.sr.get(name), equation, self.parameter_names)
            return found.evaluate(points)
        if self.gp is None:
            raise RuntimeError(
                f"no surrogate yet: it needs at least 2 evaluated results with finite "
                f"responses; this campaign has {self.n_evaluated}."
            )
        indices = [self.response_index(response)] if response is not None else range(len(self.gp))
        unit = to_unit(points, self.parameters)
        means, stds = [], []
        for k in indices:
            if self.gp[k] is None:
                raise RuntimeError(
                    f"response {self.names[k]!r} has fewer than 2 finite results: no surrogate."
                )
            mean, std = self.gp[k].predict(unit, return_std=True)
            means.append(mean)
            stds.append(std)
        mean, std = np.column_stack(means), np.column_stack(stds)
        if len(means) == 1:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    # -------------------------------------------------------------- discovery
    @_writes
    def discover(self, response=None, **kwargs):
        """Discover closed-form equations for a response (symbolic regression).

        Takes the reference's arguments - ``binary_operators``,
        ``unary_operators``, ``maxsize``, ``maxdepth``, ``niterations``,
        ``populations``, ``parsimony``, ``constraints``,
        ``nested_constraints``, ``denoise``, ``select_k_features``,
        ``turbo``, ``equation_file``, ``progress`` - plus
        ``dimensional_analysis`` (``"auto"``: search dimensionless groups
        when every parameter and the response have units; ``True``, ``False``),
        ``timeout_in_seconds`` (default 60), ``backend`` (``"operon"``, or
        ``"pysr"`` where Julia is installed), ``linear_seeds`` and the
        backend's own options (Operon: ``restarts``, ``stop_nmse``,
        ``population_size``...); see
        :func:`medeq.discovery.discover_campaign`.

        Returns the hall of fame (a list of equations with a ``.frame``
        DataFrame and a ``.best`` choice), also stored in ``med.sr[name]``
        and saved with the campaign.

        Examples
        --------
        >>> med.discover(binary_operators=["+", "*"])  # doctest: +SKIP
        """
        from .discovery import discover_campaign

        name, hall_of_fame = discover_campaign(self, response, **kwargs)
        self.sr = {**self.sr, name: hall_of_fame}
        self._autosave()
        return hall_of_fame

    # ----------------------------------------------------------------- subset
    def subset(self, select) -> MED:
        """A new campaign holding only the selected evaluated samples.

        ``select`` is a boolean mask, indices or a slice over the evaluated
        samples; rows keep their order and epochs. Same parameters, sampler
        and seed; no queue.
        """
        n = self.n_evaluated
        indices = arguments.selection(select, n)
        new = copy.copy(self)
        new.sampler = copy.deepcopy(self.sampler)
        new.record = self.record.subset(indices)
        new.paths = None
        new.refit()
        return new

    # ---------------------------------------------------------------- storage
    @_writes
    def save(self, directory=None, pickle_sampler: bool = False):
        """Save the campaign to a folder (default ``med_seed<seed>``).

        The folder is plain and language-agnostic: ``setup.toml``,
        ``results.csv``, ``queue.csv``, ``equations.csv`` and a readme. A
        custom sampler is pickled only with ``pickle_sampler=True``.
        Returns the folder's paths.
        """
        target = folder_for(directory, self.seed)
        target.mkdir(parents=True, exist_ok=True)
        with writer_lock(target) as lock:
            own = self.paths is not None and self.paths.directory == target.resolve()
            if own and lock.depth == 1:
                self._check_revision(lock)
            revision = (read_revision(target) or 0) + 1
            setup = CampaignSetup(
                parameters=self.parameters, seed=self.seed, verbose=self.verbose,
                response_names=self.response_names, response_units=self.response_units,
                sampler=self.sampler,
                scheduler=self.scheduler,
                script_path=None if self.script is None else str(self.script.path),
            )
            self.paths = save_campaign(target, self.record, setup, self.names,
                                       pickle_sampler=pickle_sampler, revision=revision)
            self._revision = lock.written = revision
        return self.paths

    @staticmethod
    def load(dirpath, allow_pickle: bool = False, trust_settings: bool = False) -> MED:
        """Load a campaign saved with :meth:`save`; nothing in the folder is executed.

        Loading is reading: it needs no lock and writes nothing. Results
        that finished after the last save (rows of ``results.csv`` beyond
        the saved count, and finished script jobs in ``outputs/``) are merged
        at once as a ``recovered`` epoch and written with the next save.

        Parameters
        ----------
        allow_pickle : bool, default False
            Required to load a pickled custom sampler (unpickling runs code).
        trust_settings : bool, default False
            Use the scheduler's command settings saved in the folder
            (``python_executable``, a Dask address); without it they are
            left out with a warning - settings from a folder are not commands.
        """
        loaded = load_campaign(dirpath, allow_pickle=allow_pickle, trust_settings=trust_settings)
        setup = loaded.setup
        med = MED(setup.parameters, response_names=setup.response_names, sampler=DVASampler,
                  seed=setup.seed, verbose=setup.verbose, response_units=setup.response_units)
        med.sampler = setup.sampler
        med.scheduler = setup.scheduler
        if setup.script_path is not None:
            med.script = load_script(setup.script_path, setup.parameters)
            if med.scheduler is None:
                from .schedulers import LocalScheduler

                med.scheduler = LocalScheduler()
        med.record = loaded.record
        med.paths = loaded.paths
        med._revision = loaded.revision
        med.refit()
        med._recover_finished_jobs()
        return med

    def _recover_finished_jobs(self) -> None:
        """Merge queued samples whose script job finished after the last save."""
        if self.script is None or self.paths is None or len(self.queue) == 0:
            return
        from .scripts import finished_outcomes

        found = finished_outcomes(self.script, self.queue, self.paths.outputs)
        if not found:
            return
        order = np.array(sorted(found))
        try:
            self._record_outcomes(order, [found[i] for i in order], None, origin="recovered")
        except (ValueError, RuntimeError) as err:
            warnings.warn(f"{len(order)} finished job(s) in {self.paths.outputs} could not be "
                          f"recovered ({err}); they stay queued.", RuntimeWarning, stacklevel=3)
            return
        warnings.warn(
            f"recovered {len(order)} result(s) of script jobs in {self.paths.outputs} that "
            "finished after the last save; they are saved with the campaign's next write.",
            RuntimeWarning, stacklevel=3)

    @contextmanager
    def _saving_once(self):
        """Within the block, save once at its end instead of after every change."""
        if "_held_saves" in self.__dict__:
            yield
            return
        self._held_saves = 0
        try:
            yield
        finally:
            if self.__dict__.pop("_held_saves", 0):
                self._autosave()

    def _autosave(self) -> None:
        """Keep a campaign that has a folder in sync with it."""
        if "_held_saves" in self.__dict__:
            self._held_saves += 1
            return
        if self.paths is not None:
            self.save(self.paths.directory, pickle_sampler=self.paths.sampler_pickled)

    # ------------------------------------------------------------------ views
    def plot_samples(self, colors=None, marker_size: int = 10, **kwargs):
        """Plot the samples by epoch (see :func:`medeq.plots.plot_samples`)."""
        from .plots import plot_samples

        return plot_samples(self, colors=colors, marker_size=marker_size, **kwargs)

    def plot_response(self, f=None, colors=None, response=None, **kwargs):
        """Surrogate mean, uncertainty and optionally the true ``f`` over two parameters."""
        from .plots import plot_response

        return plot_response(self, f=f, colors=colors, response=response, **kwargs)

    def plot_gp(self, response=0, resolution=(32, 32), verbose: bool = True, **kwargs):
        """Interactive 2-D slices of the surrogate's mean and uncertainty."""
        from .plots import plot_gp

        return plot_gp(self, response=response, resolution=resolution, verbose=verbose, **kwargs)

    def sensitivity(self, algorithm: str = "rbd_fast", response=None, shorten: bool = True,
                    verbose: bool = True, **kwargs) -> pd.DataFrame:
        """Global sensitivity of a response to each parameter (SALib)."""
        from .sensitivity import sensitivity

        return sensitivity(self, algorithm, response=response, shorten=shorten,
                           verbose=verbose, **kwargs)

    def report(self, path="report.html", **kwargs):
        """Write a self-contained HTML report of the campaign; returns its path."""
        from .report import write_report

        return write_report(self, path, **kwargs)

    @_writes
    def explore(self, f=None, **kwargs):
        """Run the autonomous sample-evaluate-refit loop (see :func:`medeq.explore`)."""
        from .exploration import explore

        return explore(self, f, **kwargs)

    # ------------------------------------------------------------------- repr
    def __repr__(self) -> str:
        line = "-" * 39
        responses = (
            "NoneType" if self.responses is None
            else f"np.ndarray[{self.responses.shape}, {self.responses.dtype}]"
        )
        parts = [
            f"MED(seed={self.seed})",
            line,
            f"parameters = \n{self.parameters}",
            f"response_names = {self.response_names}",
            *([f"response_units = {self.response_units}"] if self.response_units else []),
            line,
        ]
        if self.script is not None:
            parts.append(f"script = {self.script.path}")
            parts.append(f"scheduler = {self.scheduler!r}")
        elif self.scheduler is not None:
            parts.append(f"scheduler = {self.scheduler!r}")
        parts += [
            f"sampler = {self.sampler!r}",
            f"samples = np.ndarray[{self.samples.shape}, {self.samples.dtype}]",
            f"responses = {responses}",
            f"epochs = list[{len(self.epochs)}, tuple[int, int]]",
        ]
        return "\n".join(parts)
