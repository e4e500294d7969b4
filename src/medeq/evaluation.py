"""Evaluating queued samples with a Python function, in this process.

Turns each call into an :class:`~medeq.responses.Outcome`: an exception on
one sample becomes a failed outcome (NaN response) instead of losing the
others, and Ctrl-C hands back what had finished.
"""

from __future__ import annotations

import traceback
import warnings

import numpy as np

from . import responses as resp
from .progress import Progress


def evaluate_in_process(f, samples: np.ndarray, verbose: int = 0) -> list:
    """Call ``f`` on every sample here; an exception becomes a failed Outcome."""
    outcomes: list[resp.Outcome] = []
    try:
        with Progress(total=len(samples), desc="evaluating", unit="samples",
                      verbose=verbose, delay=2.0) as progress:
            for sample in samples:
                try:
                    outcomes.append(resp.Outcome(value=f(sample.copy())))
                except Exception as err:  # noqa: BLE001 - one bad sample must not lose the rest
                    where = traceback.extract_tb(err.__traceback__)[-1]
                    outcomes.append(resp.Outcome(
                        error=f"{type(err).__name__}: {err} ({where.filename}:{where.lineno})"
                    ))
                progress.update()
    except KeyboardInterrupt:
        raise resp.EvaluationInterrupted(dict(enumerate(outcomes))) from None
    return outcomes


def warn_failures(outcomes, order) -> None:
    failed = [(int(i), o) for i, o in zip(order, outcomes) if o.failed]
    if not failed:
        return
    lines = [f"  queue row {i}: {o.error}" + (f" (logs: {o.logs})" if o.logs else "")
             for i, o in failed[:10]]
    more = f"\n  ... and {len(failed) - 10} more" if len(failed) > 10 else ""
    warnings.warn(
        f"{len(failed)} of {len(outcomes)} evaluation(s) failed; their responses are NaN:\n"
        + "\n".join(lines) + more,
        RuntimeWarning,
        stacklevel=4,
    )
