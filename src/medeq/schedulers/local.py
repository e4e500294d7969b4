"""Run jobs as local OS processes, at most ``max_workers`` at a time."""

from __future__ import annotations

import collections
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Sequence

from .base import Job, JobStatus, Scheduler, python_command

logger = logging.getLogger(__name__)

#: Seconds between SIGTERM and SIGKILL when stopping a job.
GRACE = 2.0


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class LocalScheduler(Scheduler):
    """Run each job as its own process on this machine.

    Parameters
    ----------
    max_workers : int, optional
        Most processes running at once (default: the number of CPU cores).
    python_executable : str or list[str], optional
        Interpreter (or command prefix) running the jobs; default ``sys.executable``.
    timeout : float, optional
        Seconds after which a job's process group is terminated (SIGTERM,
        then SIGKILL after 2 s) and the job counted as failed.

    Each job starts in its own process group; the moment one ends (a waiter
    thread per process wakes the scheduler, no polling) its result is
    collected and the next job starts. Ctrl-C terminates the running jobs.

    >>> LocalScheduler(max_workers=2, timeout=60)  # doctest: +ELLIPSIS
    LocalScheduler(max_workers=2, python_executable='...', timeout=60)
    """

    def __init__(self, max_workers: int | None = None,
                 python_executable: str | Sequence[str] = sys.executable,
                 timeout: float | None = None):
        self._auto_workers = max_workers is None
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be a positive integer; got {max_workers!r}.")
        if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None; got {timeout!r}.")
        self.max_workers = max_workers
        self.python_executable = python_executable
        self.command = python_command(python_executable)
        self.timeout = timeout

    def _arguments(self) -> dict:
        return {"max_workers": self.max_workers, "python_executable": self.python_executable,
                "timeout": self.timeout}

    def settings(self) -> dict:
        """Constructor arguments; ``max_workers`` only if it was given (else: the cores)."""
        settings = super().settings()
        if self._auto_workers:
            settings.pop("max_workers", None)
        return settings

    def run_jobs(self, jobs: Sequence[Job], on_finish: Callable[[int, JobStatus], None]) -> None:
        """Run ``jobs`` in parallel local processes (see :meth:`Scheduler.run_jobs`)."""
        ended: queue.SimpleQueue = queue.SimpleQueue()
        running: dict[int, subprocess.Popen] = {}
        deadlines: dict[int, float] = {}      # index -> when to signal it next
        timed_out: set[int] = set()
        env = dict(os.environ, MEDEQ_PARENT_PID=str(os.getpid()))
        pending = collections.deque(range(len(jobs)))

        def fill() -> None:
            while pending and len(running) < self.max_workers:
                index = pending.popleft()
                self._start(jobs[index], index, running, ended, env)
                if self.timeout is not None:
                    deadlines[index] = time.monotonic() + self.timeout

        try:
            while pending or running:
                fill()
                index, status = self._wait_one(jobs, running, deadlines, timed_out, ended)
                fill()                       # keep the workers busy, then report
                on_finish(index, status)
        except BaseException:
            self._stop(running)
            raise

    def _start(self, job: Job, index: int, running: dict, ended: queue.SimpleQueue, env: dict) -> None:
        with open(job.stdout, "wb") as out, open(job.stderr, "wb") as err:
            try:
                process = subprocess.Popen(
                    [*self.command, *job.args], cwd=job.directory, stdin=subprocess.DEVNULL,
                    stdout=out, stderr=err, env=env, start_new_session=True,
                )
            except OSError as error:
                raise RuntimeError(f"could not start job {job.id} with {self.command!r}: {error}; "
                                   "check python_executable.") from error
        running[index] = process
        threading.Thread(target=lambda: ended.put((index, process.wait())), daemon=True).start()

    def _wait_one(self, jobs, running, deadlines, timed_out, ended) -> tuple[int, JobStatus]:
        """Block until a job ends, signalling jobs past their deadline meanwhile."""
        while True:
            wait = None
            if deadlines:
                wait = max(0.0, min(deadlines.values()) - time.monotonic())
            try:
                index, returncode = ended.get(timeout=wait)
            except queue.Empty:
                self._expire(jobs, running, deadlines, timed_out)
                continue
            del running[index]
            deadlines.pop(index, None)
            error = None
            if index in timed_out:
                error = f"timed out after {self.timeout} s (LocalScheduler timeout)"
            return index, JobStatus(returncode, error)

    @staticmethod
    def _expire(jobs, running, deadlines, timed_out) -> None:
        now = time.monotonic()
        for index, deadline in list(deadlines.items()):
            if deadline > now:
                continue
            if index in timed_out:           # SIGTERM was not enough
                _signal_group(running[index], signal.SIGKILL)
                del deadlines[index]
            else:
                logger.info("job %s timed out; terminating it", jobs[index].id)
                timed_out.add(index)
                _signal_group(running[index], signal.SIGTERM)
                deadlines[index] = now + GRACE

    @staticmethod
    def _stop(running: dict[int, subprocess.Popen]) -> None:
        """Terminate every running job's process group, then make sure they are gone."""
        for process in running.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        for process in running.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
        for process in running.values():
            try:
                process.wait(timeout=GRACE)
            except subprocess.TimeoutExpired:
                logger.warning("job process %d did not exit after SIGKILL", process.pid)
