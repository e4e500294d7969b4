"""Progress of long work: a bar on a terminal, plain lines elsewhere.

One helper for everything that takes a while (sampling optimisation, the
evaluation of a batch, equation discovery, an exploration campaign):

* ``verbose <= 0``: silent;
* the stream is a terminal: a ``tqdm`` progress bar;
* otherwise (a log file, a pipe, a batch job): a plain line such as
  ``evaluating: 3/8 (38%), 12.1 s elapsed, ~20.2 s left`` at most every
  ``interval`` seconds, and always a last one when the work is done.

Examples
--------
>>> from medeq.progress import Progress
>>> with Progress(total=3, desc="evaluating", verbose=0) as bar:
...     for _ in range(3):
...         bar.update()
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")

#: Accepted values of ``mode``.
MODES = ("auto", "bar", "lines", "off")


class Progress:
    """Report the progress of ``total`` steps of work.

    Parameters
    ----------
    total : int, optional
        Number of steps; ``None`` when unknown (counts without percentages).
    desc : str, default ""
        What is being done, e.g. ``"evaluating"``.
    verbose : int, default 1
        ``0`` (or less) is silent.
    stream : file-like, optional
        Where to write; default ``sys.stderr``.
    interval : float, default 10.0
        Minimum seconds between two plain lines (bars refresh on their own).
    mode : {"auto", "bar", "lines", "off"}, default "auto"
        ``"auto"`` picks a bar on a terminal and plain lines otherwise.
    unit : str, default ""
        Name of one step, shown after the counts (e.g. ``"evaluations"``).
    initial : int, default 0
        Steps already done before this call (e.g. when resuming).
    delay : float, default 0.0
        Show nothing until this many seconds have passed, so that quick work
        stays quiet.
    """

    def __init__(
        self,
        total: int | None = None,
        desc: str = "",
        verbose: int = 1,
        stream: TextIO | None = None,
        interval: float = 10.0,
        mode: str = "auto",
        unit: str = "",
        initial: int = 0,
        delay: float = 0.0,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}.")
        if total is not None and (int(total) != total or total < 0):
            raise ValueError(f"total must be a non-negative integer or None; got {total!r}.")
        self.total = None if total is None else int(total)
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = float(interval)
        self.delay = float(delay)
        self.n = int(initial)
        self._initial = self.n
        self.postfix = ""
        self.mode = _resolve_mode(mode, verbose, self.stream)
        self._start = time.monotonic()
        self._last_line = None
        self._reported = self.n
        self._closed = False
        self._own_eta = True
        self._bar = None
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, file=self.stream, unit=unit or "it",
                             initial=self.n, dynamic_ncols=True, leave=True,
                             delay=self.delay)

    # ----------------------------------------------------------------- public
    def update(self, n: int = 1, postfix: str | None = None) -> None:
        """Advance by ``n`` steps; ``postfix`` is a short status shown after."""
        self.n += n
        if postfix is not None:
            self.postfix = postfix
        if self._bar is not None:
            if postfix is not None:
                self._bar.set_postfix_str(postfix, refresh=False)
            self._bar.update(n)
        elif self.mode == "lines" and self.elapsed >= self.delay:
            done = self.total is not None and self.n >= self.total
            now = time.monotonic()
            if done or self._last_line is None or now - self._last_line >= self.interval:
                self._line()

    def set_activity(self, activity: dict) -> None:
        """Show what runs (jobs in flight, finished, failed, busy workers, time
        left; see :func:`format_activity`) after the counts."""
        self.postfix = format_activity(activity)
        self._own_eta = activity.get("eta_seconds") is None
        if self._bar is not None:
            self._bar.set_postfix_str(self.postfix, refresh=True)

    def write(self, message: str) -> None:
        """Write a message line without breaking the bar (nothing when silent)."""
        if self.mode == "off":
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            self.stream.write(message + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Finish: close the bar, or write the last plain line if not yet written."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines" and self._reported != self.n and self.elapsed >= self.delay:
            self._line()

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self._start

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- helpers
    def _line(self) -> None:
        self._last_line = time.monotonic()
        self._reported = self.n
        self.stream.write(self.format_line() + "\n")
        self.stream.flush()

    def format_line(self) -> str:
        """The plain progress line for the current state."""
        elapsed = self.elapsed
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            counts = f"{self.n}/{self.total}{unit} ({100 * self.n / self.total:.0f}%)"
        else:
            counts = f"{self.n}{unit}"
        timing = f"{elapsed:.1f} s elapsed"
        done = self.n - self._initial
        if self._own_eta and self.total and done > 0 and self.n < self.total:
            timing += f", ~{elapsed * (self.total - self.n) / done:.1f} s left"
        parts = [f"{self.desc}: {counts}" if self.desc else counts, timing]
        if self.postfix:
            parts.append(self.postfix)
        return ", ".join(parts)


def format_activity(activity: dict) -> str:
    """One line for the jobs of an asynchronous exploration.

    >>> format_activity({"in_flight": 8, "finished": 40, "failed": 1, "busy_workers": 8,
    ...                  "capacity": 8, "eta_seconds": 12.3})
    '8 in flight, 40 finished, 1 failed, 8/8 workers busy, ~12 s left'
    """
    parts = [f"{activity.get('in_flight', 0)} in flight", f"{activity.get('finished', 0)} finished",
             f"{activity.get('failed', 0)} failed",
             f"{activity.get('busy_workers', 0)}/{activity.get('capacity', '?')} workers busy"]
    eta = activity.get("eta_seconds")
    if eta is not None:
        parts.append(f"~{eta:.0f} s left")
    return ", ".join(parts)


def track(iterable: Iterable[T], total: int | None = None, desc: str = "",
          verbose: int = 1, **kwargs) -> Iterator[T]:
    """Yield from ``iterable`` while reporting progress (see :class:`Progress`).

    Examples
    --------
    >>> from medeq.progress import track
    >>> [x for x in track(range(3), desc="squares", verbose=0)]
    [0, 1, 2]
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    with Progress(total=total, desc=desc, verbose=verbose, **kwargs) as bar:
        for item in iterable:
            yield item
            bar.update()


def _resolve_mode(mode: str, verbose, stream) -> str:
    if not verbose or verbose <= 0 or mode == "off":
        return "off"
    if mode != "auto":
        return mode
    isatty = getattr(stream, "isatty", None)
    try:
        return "bar" if isatty is not None and isatty() else "lines"
    except (ValueError, OSError):  # closed or detached stream
        return "lines"
