"""Asynchronous exploration: keep every slot of the scheduler busy.

:func:`explore_async` is the loop :func:`medeq.explore` runs when the
scheduler has a :attr:`~medeq.schedulers.Scheduler.capacity` above 1:

1. submit queued samples, then new ones, until ``capacity`` jobs are in
   flight, and keep :data:`SPARE` more sample queued, so that a slot that
   frees gets its next job at once. New samples are picked with the
   campaign's sampler (``med.sample(k)`` for ``k`` free slots: an optimised
   design at the start, usually one at a time later) while the samples in
   flight sit in the queue, so the sampler treats them as pending (DVA
   counts queued points as planned);
2. wait for the first job to end, record it, save the campaign and the
   exploration record, and condition the surrogates on it with their
   current hyperparameters;
3. check the stopping conditions, refill the free slots, and refit the
   hyperparameters once the results have grown enough since the last fit
   (:func:`refit_due`) - after refilling, so the workers are busy meanwhile.

Epochs: one per block of results between two refits. The budget counts
the jobs in flight, so it is never overshot. When a condition holds, no new
job is submitted and the jobs in flight are awaited, or cancelled with
``cancel_on_stop`` (their samples stay queued and run first on resume).
A job whose result is already on disk (a campaign killed after the job
ended but before the result was recorded) is not run again.
"""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .responses import Outcome
from .schedulers.base import Job, finish_job, function_payload, prepare_job, saved_outcome
from . import _jobrunner
from .scripts import job_id, screen_outcomes, script_digest

logger = logging.getLogger(__name__)

#: Refit the hyperparameters once the results grew by this fraction since the last fit...
REFIT_GROWTH = 0.25
#: Seconds between two checks of the conditions and the progress while jobs run.
TICK = 2.0
#: Samples picked ahead and kept queued, so a freed slot gets its next job at once.
SPARE = 1


def refit_due(n: int, n_fitted: int, capacity: int) -> bool:
    """Whether to refit the hyperparameters with ``n`` results, last fitted with ``n_fitted``.

    Once the results grew by :data:`REFIT_GROWTH` (the hyperparameters
    change little when a few percent more data arrive), and at least every
    ``capacity`` results (as often as batch mode's batches of ``capacity``).
    """
    step = max(1, min(capacity, math.ceil(REFIT_GROWTH * n_fitted)))
    return n - n_fitted >= step


@dataclass
class Activity:
    """What an asynchronous exploration is doing (progress bar, ``medeq show``)."""

    in_flight: int = 0
    finished: int = 0
    failed: int = 0
    capacity: int = 1
    durations: list = field(default_factory=list)

    @property
    def busy(self) -> int:
        """Workers busy (jobs in flight, at most the capacity)."""
        return min(self.in_flight, self.capacity)

    def eta(self, left: int | None, ages: list[float]) -> float | None:
        """Estimated seconds left: ``left`` jobs to submit, plus the jobs in flight
        (aged ``ages`` seconds), at the mean duration so far on ``capacity`` slots."""
        if left is None or not self.durations:
            return None
        mean = float(np.mean(self.durations))
        work = left * mean + sum(max(mean - age, 0.0) for age in ages)
        return work / max(self.capacity, 1)

    def record(self, eta: float | None) -> dict:
        record = {"in_flight": self.in_flight, "finished": self.finished, "failed": self.failed,
                  "busy_workers": self.busy, "capacity": self.capacity}
        if eta is not None:
            record["eta_seconds"] = round(eta, 1)
        return record


class JobMaker:
    """Jobs for samples: the campaign's script, or ``f`` run by the job runner.

    Job folders are named by sample (:func:`medeq.scripts.job_id`): the
    script's in ``outputs/``, a function's in ``outputs/calls-<hash of f>/``
    (a temporary folder when the campaign has none).
    """

    def __init__(self, med, f):
        self.job_id = job_id
        self.temporary = self.digest = None
        if f is None:
            self.root = Path(med.paths.outputs)
            self.mode, self.payload = "script", med.script.job_payload
            self.digest = script_digest(med.script.path)    # results of this script text only
        else:
            payload = function_payload(f)
            if med.paths is not None:
                self.root = Path(med.paths.outputs) / f"calls-{hashlib.sha1(payload).hexdigest()[:12]}"
            else:
                self.root = self.temporary = Path(tempfile.mkdtemp(
                    prefix="medeq-explore-", dir=med.scheduler._scratch_root()))
            self.root.mkdir(parents=True, exist_ok=True)
            function = self.root / "function.pkl"
            function.write_bytes(payload)
            self.mode = "function"
            self.payload = lambda sample: {"function": str(function), "sample": sample.tolist()}
        self.root.mkdir(parents=True, exist_ok=True)

    def make(self, sample: np.ndarray) -> Job | Outcome:
        """The job for ``sample``, or its outcome if a previous run left one on disk."""
        jid = self.job_id(sample)
        previous = saved_outcome(self.root / jid, script_sha256=self.digest)
        if previous is not None:
            return previous
        return prepare_job(jid, self.root / jid, self.mode, self.payload(sample))

    def screen(self, med, outcome: Outcome) -> Outcome:
        """A script job's outcome, failed if its response does not have the form of
        the campaign's earlier results (see :func:`medeq.scripts.screen_outcomes`)."""
        if self.mode != "script" or outcome.failed or med.responses is None:
            return outcome
        screened = screen_outcomes({0: outcome}, med.response_names, med.responses.shape[1])[0]
        if screened is not outcome and outcome.logs:       # rejected: never reuse it
            _jobrunner.write_json(str(Path(outcome.logs) / _jobrunner.RESULT),
                                  {"error": screened.error, "rejected_response": outcome.value})
        return screened

    def close(self, failed: bool) -> None:
        if self.temporary is not None and not failed:
            shutil.rmtree(self.temporary, ignore_errors=True)
        elif self.temporary is not None:
            logger.warning("some calls failed; logs kept in %s", self.temporary)


def explore_async(med, f, condition, state, log, progress, cancel_on_stop: bool = False) -> str:
    """Run the asynchronous loop until a condition holds; returns why it stopped.

    ``state``, ``log`` and ``progress`` are :func:`medeq.explore`'s loop
    state, exploration record and progress bar.
    """
    scheduler = med.scheduler
    maker = JobMaker(med, f)
    flights: dict[Job, tuple[np.ndarray, float]] = {}     # job -> (sample, submitted)
    found: list[tuple[np.ndarray, Outcome]] = []          # results to record
    held: list[tuple[np.ndarray, Outcome]] = []           # failures before any result
    activity = Activity(capacity=scheduler.capacity)
    n_fitted = med.n_evaluated
    new_epoch = True
    reason = None
    block_start, block_began = med.n_evaluated, time.monotonic()

    def allowed() -> float:
        """Jobs the budget still allows beyond those in flight or waiting to be recorded."""
        left = condition.evaluations_left(state)
        return math.inf if left is None else left - len(flights) - len(found) - len(held)

    def waiting() -> list[np.ndarray]:
        """Queued samples neither in flight nor waiting to be recorded."""
        taken = {job.id for job in flights} | {maker.job_id(s) for s, _ in found + held}
        return [s for s in med.queue if maker.job_id(s) not in taken]

    def submit_queued() -> None:
        """Submit waiting samples while slots are free (no sampling: immediate)."""
        activity.capacity = scheduler.capacity
        for sample in waiting():
            if len(flights) >= activity.capacity or allowed() <= 0:
                break
            job = maker.make(sample)
            if isinstance(job, Outcome):
                logger.info("reusing the result on disk for sample %s", maker.job_id(sample))
                found.append((sample, maker.screen(med, job)))
                continue
            scheduler.submit(job)
            flights[job] = (sample, time.monotonic())

    def pick() -> None:
        """Sample for the free slots plus :data:`SPARE`, with the others pending (one save)."""
        want = min(activity.capacity - len(flights) + SPARE, allowed()) - len(waiting())
        if want > 0:
            med.sample(int(want))

    def record(finished: list[tuple[np.ndarray, Outcome]]) -> None:
        nonlocal new_epoch
        finished = held + finished
        held.clear()
        if med.responses is None and all(o.failed for _, o in finished):
            held.extend(finished)          # nothing fixes the responses' shape yet
            if len(held) >= max(activity.capacity, 1) or not flights:
                errors = "; ".join(o.error or "" for _, o in held[:3])
                raise RuntimeError(f"every evaluation failed ({errors}).")
            return
        queue = med.queue
        rows, outcomes = [], []
        for sample, outcome in finished:
            for row in np.nonzero((queue == sample).all(axis=1))[0]:
                if row not in rows:
                    rows.append(int(row))
                    outcomes.append(outcome)
        activity.finished += len(finished)
        activity.failed += sum(o.failed for _, o in finished)
        if rows:
            before = med.n_evaluated
            med._record_finished(rows, outcomes, new_epoch=new_epoch, refit=False)
            new_epoch = False
            progress.update(med.n_evaluated - before)

    def report() -> None:
        activity.in_flight = len(flights)
        left = condition.evaluations_left(state)
        left = None if left is None else max(left - len(flights), 0)
        now = time.monotonic()
        eta = activity.eta(left, [now - began for _, began in flights.values()])
        status = activity.record(eta)
        log.update("exploring", "running", **status)
        progress.set_activity(status)

    def close_block() -> None:
        nonlocal block_start, block_began
        state.batches += 1
        uncertainty = state.uncertainty()
        log.batch(block_start, med.n_evaluated, time.monotonic() - block_began, uncertainty)
        logger.info("block %d: results %d-%d; uncertainty %.3g", state.batches, block_start,
                    med.n_evaluated, uncertainty)
        block_start, block_began = med.n_evaluated, time.monotonic()

    try:
        queued, left = len(med.queue), condition.evaluations_left(state)
        if queued and left is not None and queued > left:
            warnings.warn(
                f"{queued} samples were already queued but the stopping conditions allow "
                f"{left} more evaluation(s); {left} are evaluated and the rest stay queued.",
                RuntimeWarning, stacklevel=4,
            )
        refit = False
        while True:
            if reason is None:
                reason = condition.check(state)
            if reason is None:
                submit_queued()
                with med._saving_once():        # saved before their jobs are submitted
                    pick()
                submit_queued()
            if found:
                with med._saving_once():
                    record(found[:])
                found.clear()
                refit = refit or refit_due(med.n_evaluated, n_fitted, activity.capacity)
                continue
            if refit and med.n_evaluated >= 2:  # the workers run meanwhile
                med.refit()
                n_fitted, new_epoch, refit = med.n_evaluated, True, False
                close_block()
                continue
            if not flights:
                break
            if reason is not None and cancel_on_stop:
                logger.info("cancelling %d job(s) in flight: %s", len(flights), reason)
                scheduler.cancel(list(flights))
                flights.clear()
                break
            report()
            wake = condition.seconds_left(state) if reason is None else None
            ended = scheduler.completed(timeout=TICK if wake is None else min(TICK, wake + 0.01))
            if not ended:
                continue
            now = time.monotonic()
            for job, status in ended:
                sample, began = flights.pop(job)
                activity.durations.append(now - began)
                found.append((sample, maker.screen(med, finish_job(job, status))))
            if reason is None:
                submit_queued()                # the spare samples go out at once
            with med._saving_once():
                record(found[:])
            found.clear()
            refit = refit or refit_due(med.n_evaluated, n_fitted, activity.capacity)
    except BaseException:
        if flights:
            scheduler.cancel(list(flights))
        maker.close(failed=True)
        raise
    if med.n_evaluated > block_start:
        if med.n_evaluated != n_fitted:
            med.refit()
        close_block()
    activity.in_flight = 0
    log.update("exploring", "running", **activity.record(None))
    maker.close(failed=activity.failed > 0)
    if reason is None:
        reason = condition.check(state) or "stopped: the jobs in flight were cancelled"
    return reason
