"""The campaign record: the plain state of a campaign, and nothing else.

A :class:`CampaignRecord` holds what a campaign has learned and what it has
still to do: the evaluated samples with their responses and measured
variances, the queue, the epochs (each one :class:`Epoch` with its origin)
and the discovered equations. ``MED`` holds one record and delegates to it;
``storage`` turns a record into files and back.

A record is never changed in place: every change returns a new record, so a
failed call leaves the old one untouched.

>>> import numpy as np
>>> record = CampaignRecord.empty(2).with_queue(np.array([[0.0, 1.0], [2.0, 3.0]]))
>>> record = record.append_epoch(np.array([[0.0, 1.0]]), np.array([[5.0]]),
...                              np.array([[np.nan]]), "evaluated", record.queue[1:])
>>> record.n_evaluated, len(record.queue), record.epochs
(1, 1, (Epoch(start=0, end=1, origin='evaluated'),))
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

#: Where an epoch's results came from.
ORIGINS = ("evaluated", "augmented", "recovered")


@dataclass(frozen=True)
class Epoch:
    """Rows ``start:end`` of the evaluated samples, added together, and how."""

    start: int
    end: int
    origin: str = "evaluated"

    def __post_init__(self):
        if not 0 <= self.start <= self.end:
            raise ValueError(f"an epoch must satisfy 0 <= start <= end; got {self.start}, {self.end}.")
        if self.origin not in ORIGINS:
            raise ValueError(f"an epoch's origin must be one of {list(ORIGINS)}; got {self.origin!r}.")

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def rows(self) -> tuple[int, int]:
        """``(start, end)``, the form ``MED.epochs`` lists."""
        return (self.start, self.end)


@dataclass(frozen=True)
class CampaignRecord:
    """Evaluated samples, responses, variances, queue, epochs and equations.

    Attributes
    ----------
    evaluated : np.ndarray
        ``(N, P)`` evaluated samples, in real units.
    responses, variances : np.ndarray or None
        ``(N, K)`` responses and the measured variances (NaN where not
        given); ``None`` before the first result.
    queue : np.ndarray
        ``(Q, P)`` samples generated but not evaluated yet.
    epochs : tuple[Epoch, ...]
        Consecutive row ranges of ``evaluated``.
    equations : dict
        Response name -> hall of fame of discovered equations.
    """

    evaluated: np.ndarray
    responses: np.ndarray | None
    variances: np.ndarray | None
    queue: np.ndarray
    epochs: tuple[Epoch, ...] = ()
    equations: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.evaluated)
        if self.queue.ndim != 2 or self.evaluated.ndim != 2 or self.queue.shape[1] != self.evaluated.shape[1]:
            raise ValueError(f"evaluated {self.evaluated.shape} and queue {self.queue.shape} "
                             "must be 2-D with one column per parameter.")
        if (self.responses is None) != (self.variances is None):
            raise ValueError("responses and variances are both given or both None.")
        if self.responses is not None:
            if self.responses.shape != self.variances.shape or len(self.responses) != n:
                raise ValueError(f"responses {self.responses.shape} and variances "
                                 f"{self.variances.shape} must be ({n}, K).")
        elif n:
            raise ValueError(f"{n} evaluated samples without responses.")
        end = 0
        for epoch in self.epochs:
            if epoch.start != end:
                raise ValueError(f"epochs must be consecutive from row 0; got {list(self.epochs)}.")
            end = epoch.end
        if end != n:
            raise ValueError(f"the epochs cover {end} rows but there are {n} evaluated samples.")

    # ------------------------------------------------------------ building
    @classmethod
    def empty(cls, d: int) -> CampaignRecord:
        """A record with no samples for ``d`` parameters."""
        return cls(np.empty((0, d)), None, None, np.empty((0, d)))

    @property
    def n_evaluated(self) -> int:
        return len(self.evaluated)

    @property
    def n_responses(self) -> int:
        return 0 if self.responses is None else self.responses.shape[1]

    @property
    def samples(self) -> np.ndarray:
        """Evaluated samples, then the queue."""
        return np.vstack([self.evaluated, self.queue])

    def with_queue(self, queue: np.ndarray) -> CampaignRecord:
        """The same record with ``queue`` as its queue."""
        return replace(self, queue=np.asarray(queue, dtype=float).reshape(-1, self.evaluated.shape[1]))

    def with_equations(self, equations: dict) -> CampaignRecord:
        return replace(self, equations=dict(equations))

    def append_epoch(self, points: np.ndarray, values: np.ndarray, variances: np.ndarray,
                     origin: str, queue: np.ndarray, extend: bool = False) -> CampaignRecord:
        """Add ``points`` with ``values`` and ``variances`` as a new epoch (``extend``:
        grow the last epoch if it has the same origin); ``queue`` stays queued."""
        k = values.shape[1]
        if self.responses is not None and self.responses.shape[1] != k:
            raise ValueError(
                f"got {k} response(s) per sample, but earlier results have "
                f"{self.responses.shape[1]}; every epoch must give the same responses."
            )
        n = self.n_evaluated
        if self.responses is None:
            responses, measured = values, variances
        else:
            responses = np.vstack([self.responses, values])
            measured = np.vstack([self.variances, variances])
        return replace(
            self,
            evaluated=np.vstack([self.evaluated, points]),
            responses=responses,
            variances=measured,
            queue=np.asarray(queue, dtype=float).reshape(-1, self.evaluated.shape[1]),
            epochs=self._epochs_with(n, len(values), origin, extend),
        )

    def _epochs_with(self, n: int, count: int, origin: str, extend: bool) -> tuple[Epoch, ...]:
        last = self.epochs[-1] if self.epochs else None
        if extend and last is not None and last.end == n and last.origin == origin:
            return (*self.epochs[:-1], Epoch(last.start, n + count, origin))
        return (*self.epochs, Epoch(n, n + count, origin))

    def subset(self, indices: np.ndarray) -> CampaignRecord:
        """Only the evaluated rows ``indices`` (in order), epochs kept; no queue, no equations."""
        epochs, start = [], 0
        for epoch in self.epochs:
            count = int(((indices >= epoch.start) & (indices < epoch.end)).sum())
            if count:
                epochs.append(Epoch(start, start + count, epoch.origin))
                start += count
        d = self.evaluated.shape[1]
        if self.responses is None or len(indices) == 0:
            return CampaignRecord.empty(d)
        return CampaignRecord(self.evaluated[indices], self.responses[indices],
                              self.variances[indices], np.empty((0, d)), tuple(epochs))

    def with_samples(self, samples: np.ndarray) -> CampaignRecord:
        """Replace every sample (evaluated rows first, then the queue) keeping the results."""
        samples = np.asarray(samples, dtype=float)
        n = self.n_evaluated
        if samples.ndim != 2 or len(samples) < n:
            raise ValueError(f"samples must be (N, P) with at least the {n} evaluated rows; "
                             f"got shape {samples.shape}.")
        return replace(self, evaluated=samples[:n], queue=samples[n:])

    # ------------------------------------------------------------- tables
    def results_frame(self, parameter_names, names, variances=None) -> pd.DataFrame:
        """Evaluated samples, then ``variances`` (N, K; default the measured
        ones) and the responses, one column each, named after ``names``."""
        frame = pd.DataFrame(self.evaluated, columns=list(parameter_names))
        if self.responses is None:
            return frame
        variances = self.variances if variances is None else variances
        for label, column in zip(variance_columns(names), variances.T):
            frame[label] = column
        for name, column in zip(names, self.responses.T):
            frame[name] = column
        return frame


def variance_columns(names: list[str]) -> list[str]:
    """Names of the variance columns for the given responses."""
    return ["variance"] if len(names) == 1 else [f"variance_{n}" for n in names]
