"""The public scheduler interface: run jobs (OS processes) and report each one.

A scheduler knows jobs and files, never the surrogate or the sampler. A
:class:`Job` is "run ``python <args...>`` in ``directory``, with stdout and
stderr going to ``directory/stdout.log`` and ``directory/stderr.log``"; the
job writes its own ``result.json`` there. To plug in another engine,
subclass :class:`Scheduler` and implement :meth:`Scheduler.run_jobs` (or the
asynchronous :meth:`~Scheduler.submit` / :meth:`~Scheduler.completed` /
:meth:`~Scheduler.cancel` and :attr:`~Scheduler.capacity`); the
Python-function path (:meth:`Scheduler.map`) and the script path
(:func:`medeq.scripts.run_script_jobs`) then work through it unchanged.

>>> import subprocess, sys
>>> class SerialScheduler(Scheduler):
...     def run_jobs(self, jobs, on_finish):
...         for i, job in enumerate(jobs):
...             with open(job.stdout, "w") as out, open(job.stderr, "w") as err:
...                 code = subprocess.call([sys.executable, *job.args],
...                                        cwd=job.directory, stdout=out, stderr=err)
...             on_finish(i, JobStatus(code))
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import signal
import sys
import sysconfig
import tempfile
import threading
import time
from abc import ABC
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .. import _jobrunner
from ..responses import EvaluationInterrupted, Outcome

logger = logging.getLogger(__name__)

#: The job bootstrap, run by path so that a job does not import medeq itself.
RUNNER = str(Path(_jobrunner.__file__).resolve())
STDOUT = _jobrunner.STDOUT
STDERR = _jobrunner.STDERR
#: Default cap on each of a job's logs (bytes); past it the oldest output is
#: dropped and the tail kept. Set ``medeq.schedulers.base.LOG_CAP`` to change it
#: (``0`` or ``None``: no cap).
LOG_CAP = _jobrunner.LOG_CAP
#: A running job is reported (once per batch) when the scheduler has no time
#: limit and it has run ``OVERRUN_FACTOR`` times longer than the median
#: finished job, and at least ``OVERRUN_MIN`` seconds.
OVERRUN_FACTOR = 10.0
OVERRUN_MIN = 10.0
#: Seconds between two checks for such jobs.
WATCH_INTERVAL = 1.0


@dataclass(frozen=True)
class Job:
    """One job: run ``python *args`` with ``directory`` as working directory.

    Attributes
    ----------
    id : str
        Stable identifier (used in names shown to the user and to engines).
    args : tuple[str, ...]
        Arguments after the Python executable.
    directory : Path
        Existing working directory; logs go to :attr:`stdout` / :attr:`stderr`.
    """

    id: str
    args: tuple[str, ...]
    directory: Path

    @property
    def stdout(self) -> Path:
        return self.directory / STDOUT

    @property
    def stderr(self) -> Path:
        return self.directory / STDERR


@dataclass(frozen=True)
class JobStatus:
    """How a job ended, as the scheduler saw it.

    Attributes
    ----------
    returncode : int or None
        Process exit code (negative: killed by that signal); ``None`` if unknown.
    error : str or None
        Scheduler-level failure (timed out, cancelled, lost), ``None`` otherwise.
    """

    returncode: int | None
    error: str | None = None


def prepare_job(job_id: str, directory: Path, mode: str, payload: dict) -> Job:
    """A job running the bootstrap (``mode`` "script" or "function") in ``directory``.

    Creates the folder, writes ``job.json`` (with the log cap :data:`LOG_CAP`)
    and removes a stale ``result.json`` and ``started`` marker.
    """
    directory = Path(directory).absolute()   # the job runs with it as working directory
    directory.mkdir(parents=True, exist_ok=True)
    for stale in (_jobrunner.RESULT, _jobrunner.STARTED):
        (directory / stale).unlink(missing_ok=True)
    _jobrunner.write_json(str(directory / _jobrunner.JOB), {**payload, "log_cap": LOG_CAP or 0})
    return Job(id=job_id, args=(RUNNER, mode, str(directory)), directory=directory)


def python_command(python_executable: str | Sequence[str]) -> list[str]:
    """The command prefix for a ``python_executable`` given as a path or argv list."""
    if isinstance(python_executable, (str, os.PathLike)):
        command = [os.fspath(python_executable)]
    else:
        command = [os.fspath(part) for part in python_executable]
    if not command or not all(command):
        raise ValueError(
            f"python_executable must be a path or a non-empty list of arguments; got "
            f"{python_executable!r}."
        )
    return command


def describe_exit(returncode: int | None) -> str:
    """Human description of an exit code (``killed by SIGKILL``, ``exit code 3``)."""
    if returncode is None:
        return "ended without an exit status"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def read_result(directory: Path) -> dict | None:
    """The job's ``result.json`` as a dict, or ``None`` if absent / unreadable."""
    try:
        with open(Path(directory) / _jobrunner.RESULT, encoding="utf-8") as file:
            result = json.load(file)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def saved_outcome(directory: Path, script_sha256: str | None = None) -> Outcome | None:
    """The successful outcome saved in ``directory/result.json``, or ``None``.

    With ``script_sha256``, only a result produced by exactly that script text
    counts (a result of an edited script, or one saved without a hash, is
    ``None``: the job must run again).
    """
    result = read_result(directory)
    if result is None or "response" not in result:
        return None
    if script_sha256 is not None and result.get("script_sha256") != script_sha256:
        return None
    return Outcome(value=result["response"], extra=result.get("extra"), logs=str(directory))


def finish_job(job: Job, status: JobStatus) -> Outcome:
    """Turn a finished job into an :class:`Outcome`, saving the error if the job could not.

    A job whose ``result.json`` holds a response succeeded; otherwise the
    reason (the script's exception, the scheduler's timeout, the exit
    signal) is written to ``result.json`` so the folder tells the whole story.
    """
    saved = saved_outcome(job.directory)
    if saved is not None:
        return saved
    result = read_result(job.directory)
    error = (result or {}).get("error") or status.error or (
        "finished without writing result.json" if status.returncode == 0
        else describe_exit(status.returncode))
    if result is None:
        _jobrunner.write_json(str(job.directory / _jobrunner.RESULT),
                              {"error": error, "returncode": status.returncode})
    return Outcome(value=None, error=str(error), logs=str(job.directory))


class OverrunWatch:
    """Warn once when a job runs far longer than the finished ones and nothing will stop it.

    A job's run time counts from the time in its ``started`` marker (written
    by the job when it starts, so queued jobs do not count). While
    ``active``, a thread checks every :data:`WATCH_INTERVAL` seconds whether
    a running job has run :data:`OVERRUN_FACTOR` times longer than the median
    finished job (and at least :data:`OVERRUN_MIN` seconds); the first time
    one has, it logs a warning naming the job(s) and their folders.
    """

    def __init__(self, jobs: Sequence[Job], active: bool):
        self.jobs = list(jobs)
        self.active = active and bool(self.jobs)
        self.started: dict[int, float] = {}
        self.durations: list[float] = []
        self.finished: set[int] = set()
        self.warned = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="medeq-overrun", daemon=True)

    def __enter__(self) -> "OverrunWatch":
        if self.active:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _start_time(self, index: int) -> float | None:
        if index not in self.started:
            try:
                with open(self.jobs[index].directory / _jobrunner.STARTED, encoding="utf-8") as file:
                    self.started[index] = float(json.load(file)["time"])
            except (OSError, ValueError, KeyError, TypeError):
                return None
        return self.started[index]

    def finish(self, index: int) -> None:
        """Record that job ``index`` ended (called as each job is reported)."""
        if not self.active:
            return
        with self._lock:
            self.finished.add(index)
            began = self._start_time(index)
            if began is not None:
                self.durations.append(max(0.0, time.time() - began))

    def check(self) -> list[tuple[Job, float]]:
        """The running jobs past the limit (and log the warning, the first time)."""
        with self._lock:
            if self.warned or not self.durations:
                return []
            now = time.time()
            median = float(np.median(self.durations))
            limit = max(OVERRUN_FACTOR * median, OVERRUN_MIN)
            running = [i for i in range(len(self.jobs)) if i not in self.finished]
            late = [(self.jobs[i], now - self.started[i]) for i in running
                    if self._start_time(i) is not None and now - self.started[i] > limit]
            if not late:
                return []
            self.warned = True
        names = ", ".join(f"{job.id} ({seconds:.0f} s, logs: {job.directory})" for job, seconds in late[:5])
        more = f" and {len(late) - 5} more" if len(late) > 5 else ""
        logger.warning(
            "%d job(s) have run over %.0f times longer than the median finished job (%.3g s) and "
            "no time limit is set, so a hung job would run forever: %s%s. Check their logs; set "
            "a limit (LocalScheduler/DaskScheduler timeout=..., SlurmScheduler time=...) to "
            "fail such jobs automatically.", len(late), OVERRUN_FACTOR, median, names, more)
        return late

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL):
            if self.check():
                return


def collect(scheduler: "Scheduler", jobs: Sequence[Job],
            on_outcome: Callable[[int, Outcome], None] | None = None) -> list[Outcome]:
    """Run ``jobs`` through ``scheduler`` and return one outcome per job, in order.

    On Ctrl-C the scheduler cancels what is outstanding and this raises
    :class:`~medeq.responses.EvaluationInterrupted` with the finished outcomes.
    When the scheduler has no time limit, a job running far longer than the
    finished ones is reported once (see :class:`OverrunWatch`).
    """
    outcomes: dict[int, Outcome] = {}
    watch = OverrunWatch(jobs, active=getattr(scheduler, "time_limit", None) is None)

    def on_finish(index: int, status: JobStatus) -> None:
        watch.finish(index)
        outcome = finish_job(jobs[index], status)
        outcomes[index] = outcome
        if on_outcome is not None:
            on_outcome(index, outcome)

    if jobs:
        try:
            with watch:
                scheduler.run_jobs(list(jobs), on_finish)
        except KeyboardInterrupt:
            raise EvaluationInterrupted(outcomes, "evaluation interrupted (Ctrl-C)") from None
    missing = [jobs[i].id for i in range(len(jobs)) if i not in outcomes]
    if missing:
        raise RuntimeError(
            f"{type(scheduler).__name__}.run_jobs returned without reporting the job(s) "
            f"{missing[:5]}; a scheduler must call on_finish once for every job."
        )
    return [outcomes[i] for i in range(len(jobs))]


def _by_value(function) -> list:
    """Modules of ``function`` that a fresh interpreter may not import (pickled by value)."""
    name = getattr(function, "__module__", None)
    module = sys.modules.get(name) if name else None
    path = getattr(module, "__file__", None)
    if module is None or name == "__main__" or path is None:
        return []
    installed = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    if any(Path(path).resolve().is_relative_to(Path(root).resolve()) for root in installed):
        return []
    return [module]


def function_payload(f: Callable) -> bytes:
    """``f`` pickled with cloudpickle for a job process (local modules by value)."""
    import cloudpickle

    if not callable(f):
        raise TypeError(f"f must be a callable f(sample) -> response; got {f!r}.")
    modules = _by_value(f)
    try:
        for module in modules:
            cloudpickle.register_pickle_by_value(module)
        return cloudpickle.dumps(f)
    except Exception as err:
        raise TypeError(f"f ({f!r}) cannot be pickled to run in other processes: {err}; "
                        "use a module-level function or evaluate without a scheduler.") from err
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)


def _plain(value) -> bool:
    """Whether ``value`` is plain data a campaign folder can keep (TOML)."""
    if isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _given_arguments(cls, args, kwargs) -> dict:
    """The constructor arguments exactly as given (``**options`` flattened)."""
    try:
        bound = inspect.signature(cls).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {}
    given = {}
    for name, value in bound.arguments.items():
        kind = inspect.signature(cls).parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            given.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            given[name] = value
    return given


class Scheduler(ABC):
    """Runs jobs - one OS process each - and reports each one as it ends.

    Two ways to write a scheduler:

    * the asynchronous interface - :attr:`capacity`, :meth:`submit`,
      :meth:`completed` and :meth:`cancel` - which the built-in schedulers
      implement; :meth:`run_jobs` is then built on it, and an asynchronous
      exploration keeps ``capacity`` jobs in flight;
    * or only :meth:`run_jobs` (a batch at a time, as in the example above);
      the asynchronous interface then runs the submitted jobs as one batch
      when :meth:`completed` is called, and ``capacity`` is 1.

    :meth:`map` (Python functions) and script campaigns work with either.
    The constructor arguments are kept as given: :meth:`settings` and
    ``repr`` show them, and a campaign folder rebuilds the scheduler with
    ``cls(**settings)``.
    """

    def __new__(cls, *args, **kwargs):
        if cls.run_jobs is Scheduler.run_jobs and cls.submit is Scheduler.submit:
            raise TypeError(f"{cls.__name__} must implement run_jobs(jobs, on_finish), or "
                            "submit/completed/cancel (see medeq.schedulers.Scheduler).")
        self = super().__new__(cls)
        self._given = _given_arguments(cls, args, kwargs)
        return self

    # ------------------------------------------------------ asynchronous interface
    @property
    def capacity(self) -> int:
        """How many jobs this scheduler runs at once (at least 1)."""
        return 1

    def submit(self, job: Job) -> None:
        """Start ``job``, or queue it until a slot frees; :meth:`completed` reports its end.

        More than :attr:`capacity` jobs may be submitted: the scheduler runs
        at most ``capacity`` of them at once. This default (for schedulers
        implementing only :meth:`run_jobs`) keeps the job for :meth:`completed`.
        """
        self.__dict__.setdefault("_submitted", []).append(job)

    def completed(self, timeout: float | None = None) -> list[tuple[Job, JobStatus]]:
        """Jobs that ended since the last call, as ``(job, status)`` pairs.

        Waits until at least one job ends, or ``timeout`` seconds pass (then
        the list may be empty); returns at once, empty, when nothing is in
        flight. Call it from the thread that submits. This default runs the
        submitted jobs through :meth:`run_jobs`, as one batch.
        """
        jobs, self._submitted = list(self.__dict__.get("_submitted", [])), []
        ended: list[tuple[Job, JobStatus]] = []
        if jobs:
            self.run_jobs(jobs, lambda index, status: ended.append((jobs[index], status)))
        return ended

    def cancel(self, jobs: Sequence[Job] | None = None) -> None:
        """Stop the given jobs (default: every job in flight); they are not reported."""
        if jobs is None:
            self.__dict__["_submitted"] = []
        else:
            self.__dict__["_submitted"] = [j for j in self.__dict__.get("_submitted", [])
                                           if j not in set(jobs)]

    # ------------------------------------------------------------- batch interface
    def run_jobs(self, jobs: Sequence[Job], on_finish: Callable[[int, JobStatus], None]) -> None:
        """Run every job and call ``on_finish(index, status)`` as each one ends.

        ``on_finish`` must be called from the calling thread, once per job.
        Each job runs ``python *job.args`` in ``job.directory`` with stdout
        and stderr written to ``job.stdout`` / ``job.stderr``. On
        ``KeyboardInterrupt`` cancel the outstanding jobs, then re-raise it.
        This default submits them all and reports them as :meth:`completed`
        hands them back.
        """
        indices: dict[Job, list[int]] = {}
        for index, job in enumerate(jobs):
            indices.setdefault(job, []).append(index)
        remaining = set(indices)
        for job in indices:
            self.submit(job)
        try:
            while remaining:
                for job, status in self.completed():
                    if job in remaining:
                        remaining.discard(job)
                        for index in indices[job]:
                            on_finish(index, status)
        except BaseException:
            if remaining:
                self.cancel(list(remaining))
            raise

    def map(self, f: Callable[[np.ndarray], Any], samples, directory=None) -> list[Outcome]:
        """Evaluate ``f(sample)`` for every row of ``samples`` in parallel jobs.

        ``f`` is shipped with cloudpickle; each call runs in its own process,
        so a crash or a timeout only fails that sample (``Outcome.value`` is
        ``None`` and ``Outcome.error`` says why).

        Parameters
        ----------
        f : callable
            Picklable function of one 1-D NumPy sample returning a number, a
            list of numbers or a dict name -> number.
        samples : (n, P) array_like
            The samples, in real units.
        directory : path, optional
            Where to keep the per-call folders (logs, results). By default a
            temporary folder, deleted afterwards unless a call failed.

        Returns
        -------
        list[Outcome]
            One per sample, in order. Ctrl-C raises ``EvaluationInterrupted``.
        """
        points = np.asarray(samples, dtype=float)
        points = points.reshape(1, -1) if points.ndim == 1 else points
        if points.ndim != 2:
            raise ValueError(f"samples must be shaped (n, P); got shape {np.shape(samples)}.")
        payload = function_payload(f)
        owned = directory is None
        root = Path(tempfile.mkdtemp(prefix="medeq-map-", dir=self._scratch_root())) if owned \
            else Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        function_path = root / "function.pkl"
        function_path.write_bytes(payload)
        jobs = [prepare_job(f"call{i}", root / f"{i:06d}", "function",
                            {"function": str(function_path), "sample": point.tolist()})
                for i, point in enumerate(points)]
        try:
            outcomes = collect(self, jobs)
        except BaseException as err:
            finished = getattr(err, "finished", {}).values()
            if owned and not any(o.failed for o in finished):  # keep failed calls' logs
                shutil.rmtree(root, ignore_errors=True)
            raise
        failed = [o for o in outcomes if o.failed]
        if owned and not failed:
            shutil.rmtree(root, ignore_errors=True)
        elif failed:
            logger.warning("%d of %d calls failed; logs kept in %s", len(failed), len(jobs), root)
        return outcomes

    @property
    def time_limit(self):
        """The per-job time limit (``timeout`` when the scheduler has one), ``None`` if none."""
        return getattr(self, "timeout", None)

    def _scratch_root(self) -> str | None:
        """Parent folder for :meth:`map`'s temporary folder (``None``: system temp)."""
        return None

    def settings(self) -> dict:
        """Constructor arguments as given, to rebuild this scheduler with ``cls(**settings)``.

        Arguments left out are not pinned (a campaign loaded on another
        machine uses that machine's Python and cores); values that are not
        plain data (a live Dask ``Client``) are left out as well.
        """
        return {k: v for k, v in self.__dict__.get("_given", {}).items() if _plain(v)}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.get("_given", {}).items())
        return f"{type(self).__name__}({arguments})"
