"""Global sensitivity analysis of a campaign's responses (SALib).

Only SALib's *sampler-agnostic* methods are offered: they work on whatever
samples the campaign evaluated (adaptive, Latin, historical...), with no
special design to draw first.

>>> med.sensitivity("rbd_fast")          # first-order indices S1
>>> med.sensitivity("hdmr", shorten=False) # also the interaction terms
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import logging
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .parameters import bounds, transform

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Method:
    """A SALib analysis usable on any samples.

    Attributes
    ----------
    summary : str
        One line on what it measures.
    columns : list[str]
        Columns kept by ``shorten=True`` (the headline index first).
    minimum : callable
        ``(d, kwargs) -> int``: fewest samples it needs.
    """

    summary: str
    columns: list[str]
    minimum: Callable[[int, dict], int] = field(compare=False)


#: The accepted algorithms, by name.
METHODS: dict[str, Method] = {
    "rbd_fast": Method(
        "first-order index S1 (random balance designs FAST)", ["S1", "S1_conf"],
        lambda d, kw: 2 * int(kw.get("M", 10)) + 1,
    ),
    "delta": Method(
        "moment-independent delta index and first-order index S1 (Borgonovo)",
        ["delta_raw", "delta_raw_conf", "S1", "S1_conf"], lambda d, kw: 20,
    ),
    "pawn": Method(
        "PAWN: statistics of Kolmogorov-Smirnov distances between conditional and "
        "unconditional output distributions", ["median", "mean", "maximum", "CV"],
        lambda d, kw: 2 * int(kw.get("S", 10)),
    ),
    "hdmr": Method(
        "high-dimensional model representation: first-order, interaction and total indices",
        ["ST", "ST_conf", "S", "S_conf"], lambda d, kw: 300,
    ),
    "enhanced_hdmr": Method(
        "enhanced HDMR (extended bases): first-order, interaction and total indices",
        ["ST", "ST_conf", "S", "S_conf"], lambda d, kw: 300,
    ),
    "discrepancy": Method(
        "discrepancy-based index: how much each input's projection departs from uniform "
        "when ordered by the output", ["s_discrepancy"], lambda d, kw: max(10, d + 2),
    ),
}


def sensitivity(med, algorithm: str = "rbd_fast", response=None, shorten: bool = True,
                verbose: bool = True, **kwargs) -> pd.DataFrame:
    """Global sensitivity of the responses to each parameter, from the evaluated samples.

    Parameters
    ----------
    med : medeq.MED
        The campaign; its evaluated samples with finite responses are used,
        in the space the campaign is designed in (``log10`` of log-scaled
        parameters), so the indices measure sensitivity over their decades.
    algorithm : str, default "rbd_fast"
        One of ``"rbd_fast"``, ``"delta"``, ``"pawn"``, ``"hdmr"``,
        ``"enhanced_hdmr"``, ``"discrepancy"`` (SALib's sampler-agnostic
        methods).
    response : str or int, optional
        One response; ``None`` analyses every response.
    shorten : bool, default True
        Keep one row per parameter and the headline indices (with their
        confidence intervals). ``False`` keeps everything SALib returns,
        e.g. HDMR's interaction terms as extra rows ``"A/B"``.
    verbose : bool, default True
        Print the table.
    **kwargs
        Passed to the SALib method (e.g. ``M=6`` for ``rbd_fast``, ``S=8``
        for ``pawn``); ``seed`` defaults to the campaign's seed.

    Returns
    -------
    pd.DataFrame
        Indexed by parameter (or term); with several responses the index has
        an outer ``response`` level. ``frame.attrs`` holds the algorithm and
        the number of samples used.

    Raises
    ------
    ValueError
        For an unknown algorithm (naming the accepted ones), an unknown
        keyword argument, or too few evaluated samples.
    """
    method = check_algorithm(algorithm)
    if med.responses is None:
        raise ValueError(
            f"sensitivity needs evaluated samples; this campaign has none. Sample and "
            f"evaluate at least {method.minimum(len(med.parameter_names), kwargs)} first."
        )
    analyze = importlib.import_module(f"SALib.analyze.{algorithm}").analyze
    kwargs = _check_kwargs(algorithm, analyze, kwargs, med.seed)
    ks = range(len(med.names)) if response is None else [med.response_index(response)]
    frames, counts, skipped = {}, {}, {}
    for k in ks:
        try:
            frames[med.names[k]], counts[med.names[k]] = _analyse(
                med, k, algorithm, method, analyze, kwargs, shorten)
        except ValueError as err:
            if len(ks) == 1:
                raise
            skipped[med.names[k]] = str(err)  # one response must not hide the others
            warnings.warn(f"sensitivity: response {med.names[k]!r} skipped: {err}",
                          RuntimeWarning, stacklevel=2)
    if not frames:
        raise ValueError("no response could be analysed: " + "; ".join(skipped.values()))
    first = next(iter(frames.values()))
    frame = first if len(frames) == 1 else pd.concat(
        frames, names=["response", first.index.name])
    frame.attrs.update({"algorithm": algorithm, "samples": counts, "skipped": skipped})
    if verbose:
        used = ", ".join(f"{name}: {n}" for name, n in counts.items())
        print(f"Sensitivity ({algorithm}: {method.summary}); samples used {used}\n{frame}")
    return frame


def check_algorithm(algorithm) -> Method:
    """The :class:`Method` called ``algorithm``; ``ValueError`` naming the accepted ones."""
    if algorithm not in METHODS:
        raise ValueError(
            f"unknown sensitivity algorithm {algorithm!r}; accepted (SALib methods that "
            f"work on any samples): {sorted(METHODS)}."
        )
    return METHODS[algorithm]


def _check_kwargs(algorithm: str, analyze, kwargs: dict, seed: int) -> dict:
    accepted = [p for p in inspect.signature(analyze).parameters
                if p not in ("problem", "X", "Y", "print_to_console")]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown argument(s) {unknown} for the {algorithm!r} algorithm; it accepts "
            f"{accepted}."
        )
    return {"seed": seed, **kwargs}


def _analyse(med, k: int, algorithm: str, method: Method, analyze, kwargs: dict,
             shorten: bool) -> tuple[pd.DataFrame, int]:
    """One response: run SALib on its finite results, return a tidy frame."""
    names = med.parameter_names
    y = med.responses[:, k]
    keep = np.isfinite(y)
    x, y = med.evaluated[keep], y[keep]
    needed = method.minimum(len(names), kwargs)
    if len(y) < needed:
        raise ValueError(
            f"the {algorithm!r} sensitivity analysis needs at least {needed} evaluated samples "
            f"with finite {med.names[k]!r} responses; this campaign has {len(y)}. Evaluate "
            f"more samples, or use a method that needs fewer: "
            f"{_fewer(len(names), len(y))}."
        )
    if np.ptp(y) == 0:
        raise ValueError(
            f"response {med.names[k]!r} is constant over its {len(y)} samples; sensitivity "
            "indices are undefined."
        )
    # In the space the campaign is designed in: log10 of log-scaled parameters.
    x = transform(x, med.parameters)
    low, high = transform(np.vstack(bounds(med.parameters)), med.parameters)
    low, high = np.minimum(low, x.min(axis=0)), np.maximum(high, x.max(axis=0))
    problem = {"num_vars": len(names), "names": list(names),
               "bounds": np.column_stack([low, high]).tolist()}
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        result = analyze(problem, x, y, print_to_console=False, **kwargs)
    notes = [printed.getvalue().strip()] + [str(w.message) for w in caught]
    if any(notes):
        logger.info("SALib %s on %r noted:\n%s", algorithm, med.names[k],
                    "\n".join(n for n in notes if n))
    frame = result.to_df()
    frame.index = pd.Index([str(i) for i in frame.index], name="parameter")
    if shorten:
        frame = frame.loc[[n for n in names if n in frame.index],
                          [c for c in method.columns if c in frame.columns]]
    if shorten and frame.isna().all(axis=None):
        warnings.warn(
            f"the {algorithm!r} analysis of {med.names[k]!r} gave no finite index from "
            f"{len(y)} samples; evaluate more samples.", RuntimeWarning, stacklevel=4,
        )
    return frame, int(len(y))


def _fewer(d: int, n: int) -> list[str]:
    usable = [name for name, m in METHODS.items() if m.minimum(d, {}) <= n]
    return usable or [f"none yet (the least demanding needs "
                      f"{min(m.minimum(d, {}) for m in METHODS.values())})"]
