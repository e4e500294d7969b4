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
from typing import Sequence

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
    thread per process wakes the scheduler, no polling) it is reported and
    the next submitted job starts. :attr:`capacity` is ``max_workers``.
    Ctrl-C terminates the running jobs.

    >>> LocalScheduler(max_workers=2, timeout=60)
    LocalScheduler(max_workers=2, timeout=60)
    """

    def __init__(self, max_workers: int | None = None,
                 python_executable: str | Sequence[str] = sys.executable,
                 timeout: float | None = None):
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
        self._waiting: collections.deque[Job] = collections.deque()
        self._running: dict[Job, subprocess.Popen] = {}
        self._ended: queue.SimpleQueue = queue.SimpleQueue()
        self._deadlines: dict[Job, float] = {}      # job -> when to signal it next
        self._timed_out: set[Job] = set()

    @property
    def capacity(self) -> int:
        """Processes run at once: ``max_workers``."""
        return self.max_workers

    def submit(self, job: Job) -> None:
        """Start ``job`` now if a worker is free, else when one frees."""
        self._waiting.append(job)
        self._fill()

    def completed(self, timeout: float | None = None) -> list[tuple[Job, JobStatus]]:
        """Jobs that ended (see :meth:`Scheduler.completed`); frees their workers at once."""
        until = None if timeout is None else time.monotonic() + timeout
        ended = []
        try:
            while self._running and not ended:
                wait = None if until is None else until - time.monotonic()
                if self._deadlines:
                    nearest = min(self._deadlines.values()) - time.monotonic()
                    wait = nearest if wait is None else min(wait, nearest)
                try:
                    item = self._ended.get(timeout=None if wait is None else max(0.0, wait))
                except queue.Empty:
                    self._expire()
                    if until is not None and time.monotonic() >= until:
                        break
                    continue
                while True:
                    self._collect(item, ended)
                    try:
                        item = self._ended.get_nowait()
                    except queue.Empty:
                        break
                self._fill()                # keep the workers busy, then report
        except BaseException:
            self.cancel()
            raise
        return ended

    def cancel(self, jobs: Sequence[Job] | None = None) -> None:
        """Drop queued jobs and terminate running ones (SIGTERM, SIGKILL after 2 s)."""
        chosen = set(self._waiting) | set(self._running) if jobs is None else set(jobs)
        self._waiting = collections.deque(j for j in self._waiting if j not in chosen)
        stopping = {job: self._running.pop(job) for job in list(self._running) if job in chosen}
        for job in stopping:
            self._deadlines.pop(job, None)
            self._timed_out.discard(job)
        self._stop(stopping)
        self._fill()

    def _fill(self) -> None:
        env = None
        while self._waiting and len(self._running) < self.max_workers:
            env = env or dict(os.environ, MEDEQ_PARENT_PID=str(os.getpid()))
            job = self._waiting.popleft()
            self._start(job, env)
            if self.timeout is not None:
                self._deadlines[job] = time.monotonic() + self.timeout

    def _start(self, job: Job, env: dict) -> None:
        with open(job.stdout, "wb") as out, open(job.stderr, "wb") as err:
            try:
                process = subprocess.Popen(
                    [*self.command, *job.args], cwd=job.directory, stdin=subprocess.DEVNULL,
                    stdout=out, stderr=err, env=env, start_new_session=True,
                )
            except OSError as error:
                raise RuntimeError(f"could not start job {job.id} with {self.command!r}: {error}; "
                                   "check python_executable.") from error
        self._running[job] = process
        ended = self._ended
        threading.Thread(target=lambda: ended.put((job, process, process.wait())), daemon=True).start()

    def _collect(self, item, ended: list) -> None:
        job, process, returncode = item
        if self._running.get(job) is not process:      # cancelled meanwhile
            return
        del self._running[job]
        self._deadlines.pop(job, None)
        error = None
        if job in self._timed_out:
            self._timed_out.discard(job)
            error = f"timed out after {self.timeout} s (LocalScheduler timeout)"
        ended.append((job, JobStatus(returncode, error)))

    def _expire(self) -> None:
        now = time.monotonic()
        for job, deadline in list(self._deadlines.items()):
            if deadline > now:
                continue
            if job in self._timed_out:           # SIGTERM was not enough
                _signal_group(self._running[job], signal.SIGKILL)
                del self._deadlines[job]
            else:
                logger.info("job %s timed out; terminating it", job.id)
                self._timed_out.add(job)
                _signal_group(self._running[job], signal.SIGTERM)
                self._deadlines[job] = now + GRACE

    @staticmethod
    def _stop(running: dict[Job, subprocess.Popen]) -> None:
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
