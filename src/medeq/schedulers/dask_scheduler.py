"""Run jobs on a ``dask.distributed`` cluster (local, dask-jobqueue, Kubernetes)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from typing import Any, Callable, Sequence

import numpy as np

from ..responses import EvaluationInterrupted, Outcome
from .base import Job, JobStatus, Scheduler, python_command

logger = logging.getLogger(__name__)

# On each worker: scheduler token -> job directory -> running job process (so cancel can kill it).
_RUNNING: dict[str, dict[str, subprocess.Popen]] = {}
_LOCK = threading.Lock()


def _run_job(command: list[str], directory: str, stdout: str, stderr: str,
             timeout: float | None, token: str) -> tuple[int | None, str | None]:
    """Dask task: run one job as a subprocess of the worker; return (code, error)."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(command, cwd=directory, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=err, start_new_session=True)
    with _LOCK:
        _RUNNING.setdefault(token, {})[directory] = process
    try:
        return process.wait(timeout=timeout), None
    except subprocess.TimeoutExpired:
        _kill(process)
        return process.wait(), f"timed out after {timeout} s (DaskScheduler timeout)"
    finally:
        with _LOCK:
            if _RUNNING.get(token, {}).get(directory) is process:
                del _RUNNING[token][directory]


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_jobs(token: str, directories: list[str] | None = None) -> int:
    """Run on every worker to cancel: kill those jobs' processes (default: all of ``token``)."""
    with _LOCK:
        running = _RUNNING.get(token, {})
        chosen = list(running) if directories is None else [d for d in directories if d in running]
        processes = [running.pop(d) for d in chosen]
    for process in processes:
        _kill(process)
    return len(processes)


class DaskScheduler(Scheduler):
    """Run jobs on a Dask cluster, one task per job.

    Parameters
    ----------
    client : None, str or distributed.Client
        ``None`` starts a ``LocalCluster`` (one single-threaded worker process
        per core) on first use; a string is a scheduler address
        (``"tcp://host:8786"``); or pass a ``Client`` of any cluster, e.g. from
        ``dask_jobqueue.SLURMCluster`` / ``PBSCluster`` or ``dask_kubernetes``.
    python_executable : str or list[str], optional
        Interpreter on the workers for script jobs; default ``sys.executable``.
    timeout : float, optional
        Seconds after which a script job's process is killed and the job
        failed (:meth:`map` calls run inside the workers and are not timed).

    Script jobs run as a subprocess of a worker, so a crashing script never
    kills the worker; workers must see the campaign folder (a shared
    filesystem, as on HPC clusters or with a shared volume on Kubernetes).
    :meth:`map` sends Python functions through Dask itself and needs no
    shared filesystem. Ctrl-C cancels the futures and kills running jobs.

    :attr:`capacity` is the cluster's worker threads, read at each call, so
    it grows (and shrinks) with an adaptive cluster.

    >>> DaskScheduler("tcp://127.0.0.1:8786")
    DaskScheduler(client='tcp://127.0.0.1:8786')
    """

    def __init__(self, client=None, python_executable: str | Sequence[str] = sys.executable,
                 timeout: float | None = None):
        if client is not None and not isinstance(client, str) and not hasattr(client, "submit"):
            raise TypeError(f"client must be None, a scheduler address or a distributed.Client; "
                            f"got {client!r}.")
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None; got {timeout!r}.")
        self._client_arg = client
        self._client = client if hasattr(client, "submit") else None
        self._cluster = None
        self.python_executable = python_executable
        self.command = python_command(python_executable)
        self.timeout = timeout
        self._token = uuid.uuid4().hex
        self._futures: dict = {}          # future -> job

    @property
    def client(self):
        """The ``distributed.Client`` (connecting or starting a LocalCluster on first use)."""
        if self._client is None:
            from distributed import Client, LocalCluster

            if self._client_arg is None:
                self._cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                                             processes=True, dashboard_address=":0")
                self._client = Client(self._cluster)
            else:
                self._client = Client(self._client_arg)
        return self._client

    @property
    def capacity(self) -> int:
        """Worker threads of the cluster now (the cores, before a default cluster starts)."""
        if self._client is None and self._client_arg is None:
            return os.cpu_count() or 1
        return max(1, sum(self.client.nthreads().values()))     # asks the scheduler now

    def close(self) -> None:
        """Close the client and the LocalCluster this scheduler started (if any)."""
        if self._cluster is not None:
            self._client.close()
            self._cluster.close()
            self._client = self._cluster = None
        elif self._client is not None and self._client_arg is not self._client:
            self._client.close()
            self._client = None

    # --------------------------------------------------------- asynchronous interface
    def submit(self, job: Job) -> None:
        """Run ``job`` as a subprocess inside one Dask task."""
        future = self.client.submit(
            _run_job, [*self.command, *job.args], str(job.directory), str(job.stdout),
            str(job.stderr), self.timeout, self._token,
            key=f"medeq-{job.id}-{uuid.uuid4().hex[:8]}", pure=False)
        self._futures[future] = job

    def completed(self, timeout: float | None = None) -> list[tuple[Job, JobStatus]]:
        """Jobs whose futures finished (see :meth:`Scheduler.completed`)."""
        from distributed import as_completed

        if not self._futures:
            return []
        ended = []
        try:
            stream = as_completed(list(self._futures), timeout=timeout)
            first = next(stream, None)
        except TimeoutError:             # distributed raises the builtin on timeout
            return []
        except BaseException:
            self.cancel()
            raise
        for future in [first] + [f for f in list(self._futures) if f is not first and f.done()]:
            if future is None or future not in self._futures:
                continue
            job = self._futures.pop(future)
            try:
                code, error = future.result()
            except Exception as err:     # the worker died or the task was lost
                code, error = None, f"Dask task failed: {type(err).__name__}: {err}"
            ended.append((job, JobStatus(code, error)))
        return ended

    def cancel(self, jobs: Sequence[Job] | None = None) -> None:
        """Cancel the futures and kill the jobs' processes on the workers."""
        chosen = set(self._futures.values()) if jobs is None else set(jobs)
        futures = [f for f, job in self._futures.items() if job in chosen]
        if not futures:
            return
        for future in futures:
            del self._futures[future]
        client = self.client
        client.cancel(futures)
        try:
            client.run(_kill_jobs, self._token, [str(job.directory) for job in chosen])
        except Exception as err:  # noqa: BLE001 - best effort while interrupting
            logger.warning("could not kill running jobs on the Dask workers: %s", err)

    def map(self, f: Callable[[np.ndarray], Any], samples, directory=None) -> list[Outcome]:
        """Evaluate ``f(sample)`` for every row of ``samples`` as Dask tasks.

        Exceptions become failed outcomes; Ctrl-C cancels outstanding tasks
        and raises ``EvaluationInterrupted`` with the finished ones.
        ``directory`` is accepted for interface compatibility and unused.
        """
        from distributed import as_completed

        points = np.asarray(samples, dtype=float)
        points = points.reshape(1, -1) if points.ndim == 1 else points
        client = self.client
        futures = {client.submit(f, point.copy(), pure=False): i for i, point in enumerate(points)}
        outcomes: dict[int, Outcome] = {}
        try:
            for future in as_completed(futures):
                try:
                    outcomes[futures[future]] = Outcome(value=future.result())
                except Exception as err:
                    outcomes[futures[future]] = Outcome(error=f"{type(err).__name__}: {err}")
        except KeyboardInterrupt:
            client.cancel(list(futures))
            raise EvaluationInterrupted(outcomes, "evaluation interrupted (Ctrl-C)") from None
        return [outcomes[i] for i in range(len(points))]
