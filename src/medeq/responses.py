"""Responses coming back from an evaluation: validation and normalisation.

Whatever evaluates the queue - the user's numbers, a Python function, a
simulation script run by a scheduler - ends up here as either an array of
numbers or a list of :class:`Outcome`, one per sample, and leaves as a clean
``(n, K)`` float array plus the response names.
"""

from __future__ import annotations

import numbers
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .parameters import check_unit, missing_unit


@dataclass
class Outcome:
    """What one evaluation of one sample produced.

    Attributes
    ----------
    value : float, list[float], dict[str, float] or None
        The raw response; ``None`` when the evaluation failed.
    error : str or None
        Why the evaluation failed (short message), ``None`` on success.
    extra : Any
        Optional extra data the evaluation returned (saved alongside).
    logs : str or None
        Where the evaluation's logs are kept, if anywhere.
    """

    value: Any = None
    error: str | None = None
    extra: Any = None
    logs: str | None = None

    @property
    def failed(self) -> bool:
        return self.value is None


class EvaluationInterrupted(KeyboardInterrupt):
    """Raised by an evaluator stopped by Ctrl-C, carrying what had finished.

    Attributes
    ----------
    finished : dict[int, Outcome]
        Index in the evaluated batch -> outcome, for every finished sample.
    """

    def __init__(self, finished: dict[int, Outcome], message: str = "interrupted"):
        super().__init__(message)
        self.finished = dict(finished)


def default_names(k: int) -> list[str]:
    """Response names used when none were given: ``response`` or ``response0..``."""
    return ["response"] if k == 1 else [f"response{i}" for i in range(k)]


def reconcile_names(names: Sequence[str] | None, k: int) -> list[str] | None:
    """Pad (``responseK``) or trim ``names`` to ``k`` entries, warning if needed."""
    if names is None:
        return None
    names = list(names)
    if len(names) == k:
        return names
    warnings.warn(
        f"{len(names)} response names {names} were given for {k} responses; "
        + ("padding with default names." if len(names) < k else "trimming the extra names."),
        RuntimeWarning,
        stacklevel=3,
    )
    if len(names) > k:
        return names[:k]
    return names + [f"response{i}" for i in range(len(names), k)]


def check_names(names, parameter_names=()) -> list[str] | None:
    """Validate response names: unique, non-empty, no clash with other columns.

    A response may not share its name with a parameter or a variance column
    of the results table.
    """
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    names = [str(n) for n in names]
    if any(not n.strip() for n in names):
        raise ValueError(f"response_names must be non-empty strings; got {names}.")
    if len(set(names)) != len(names):
        raise ValueError(f"response_names must be unique; got {names}.")
    taken = set(parameter_names) | {"variance"} | {f"variance_{n}" for n in names}
    clash = sorted(set(names) & taken)
    if clash:
        raise ValueError(
            f"response names {clash} clash with the parameters {list(parameter_names)} or the "
            "variance columns of the results; rename the responses."
        )
    return names


#: Result-table columns that medeq generates: no parameter may take these names.
GENERATED_COLUMN = re.compile(r"^(response\d*|variance(_.*)?)$")


def check_parameter_names(parameter_names: Sequence[str]) -> None:
    """Reject parameter names that clash with the generated results columns.

    The results table has a column per parameter, then ``variance`` /
    ``variance_<response>`` and ``response`` / ``response0..`` columns; a
    parameter with one of those names would overwrite results.
    """
    clash = [str(n) for n in parameter_names if GENERATED_COLUMN.match(str(n))]
    if clash:
        raise ValueError(
            f"parameter name(s) {clash} clash with the columns medeq generates for the results "
            "('response', 'response<k>', 'variance', 'variance_<name>'); rename the parameter(s)."
        )


def check_response_units(units, names: Sequence[str] | None) -> dict[str, str] | None:
    """Validate response units: a list aligned with the responses, or a dict
    name -> unit; returns a dict name -> unit (``None`` when no units).

    With no response names yet, a list is keyed by the default names
    (``response`` or ``response0..``); :func:`align_units` renames them when
    the responses get their names.
    """
    if units is None:
        return None
    if isinstance(units, str):
        raise ValueError(
            f"response_units must be a list (one unit per response) or a dict name -> unit; "
            f"got the single string {units!r}; use [{units!r}] for one response."
        )
    if isinstance(units, Mapping):
        given = {str(k): v for k, v in units.items()}
        if names is not None:
            unknown = sorted(set(given) - set(names))
            if unknown:
                raise ValueError(
                    f"response_units names {unknown}, which are not responses; the responses "
                    f"are {list(names)}."
                )
    else:
        units = list(units)
        keys = list(names) if names is not None else default_names(len(units))
        if len(units) != len(keys):
            raise ValueError(
                f"response_units has {len(units)} entries for the {len(keys)} responses "
                f"{keys}; give one unit per response (or a dict name -> unit)."
            )
        given = dict(zip(keys, units))
    return {name: check_unit(unit, f"response {name!r}")
            for name, unit in given.items() if not missing_unit(unit)} or None


def align_units(units: dict[str, str] | None, names: Sequence[str]) -> dict[str, str] | None:
    """Response units keyed by ``names``: units given by position before the
    responses were named (default names) take the names in order."""
    if not units or set(units) <= set(names):
        return units
    keys = list(units)
    if len(keys) == len(names) and keys == default_names(len(keys)):
        return dict(zip(names, units.values()))
    raise ValueError(
        f"response_units are given for {keys}, but the responses are {list(names)}; "
        "give the units by response name."
    )


def as_response_array(responses, n: int, what: str = "responses") -> np.ndarray:
    """Turn user-given responses into an ``(n, K)`` float array.

    A 1-D array of length ``n`` is one response per sample; an ``(n, K)``
    array has ``K`` responses. Non-finite values become NaN with a warning.
    """
    try:
        arr = np.asarray(responses, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{what} must be numbers shaped (n,) or (n, K); could not convert "
            f"{_short(responses)} to floats ({err})."
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr[:, None]
    elif arr.ndim != 2:
        raise ValueError(f"{what} must be shaped (n,) or (n, K); got shape {arr.shape}.")
    if arr.shape[0] != n:
        raise ValueError(
            f"{what}: expected {n} rows (one per sample), got {arr.shape[0]} "
            f"(shape {arr.shape})."
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{what} must have at least one response column; got shape {arr.shape}.")
    return _flag_non_finite(arr, what)


def _flag_non_finite(arr: np.ndarray, what: str) -> np.ndarray:
    bad = ~np.isfinite(arr)
    if bad.any():
        warnings.warn(
            f"{what}: {int(bad.sum())} non-finite value(s) kept as NaN (rows "
            f"{sorted(set(np.nonzero(bad)[0].tolist()))[:10]}); they are left out of the "
            "surrogate and of equation discovery.",
            RuntimeWarning,
            stacklevel=3,
        )
        arr = arr.copy()
        arr[bad] = np.nan
    return arr


def _to_float(v, where: str) -> float:
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{where}: got the boolean {v!r}; a response must be a number.")
    if not isinstance(v, (numbers.Real, np.number)):
        try:
            v = np.asarray(v, dtype=float)
            if v.ndim == 0:
                return float(v)
        except (TypeError, ValueError):
            pass
        raise ValueError(
            f"{where}: a response must be a number, a list of numbers or a dict "
            f"name -> number; got {_short(v)}."
        )
    return float(v)


def outcome_values(value, where: str) -> tuple[list[float], list[str] | None]:
    """Flatten one raw response into floats, plus its names if it was a dict."""
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"{where}: the response dict is empty.")
        names = [str(k) for k in value]
        return [_to_float(v, where) for v in value.values()], names
    if isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_)):
        return [float(value)], None
    arr = np.asarray(value, dtype=object)
    if arr.ndim == 0:
        return [_to_float(value, where)], None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{where}: a response must be a number, a flat list of numbers or a "
            f"dict name -> number; got {_short(value)}."
        )
    return [_to_float(v, where) for v in arr.tolist()], None


def outcomes_to_array(outcomes: Sequence[Outcome]) -> tuple[np.ndarray, list[str] | None]:
    """Stack outcomes into an ``(n, K)`` array; failed ones become NaN rows.

    Returns the array and the response names implied by dict responses
    (``None`` when responses were not dicts). Raises ``ValueError`` when the
    outcomes disagree on the number of responses or on the dict keys, or
    when every outcome failed.
    """
    rows: list[list[float] | None] = []
    k = None
    dict_names = None
    for i, outcome in enumerate(outcomes):
        if outcome.failed:
            rows.append(None)
            continue
        values, keys = outcome_values(outcome.value, f"sample {i}")
        if keys is not None:
            if dict_names is None:
                dict_names = keys
            elif set(keys) != set(dict_names):
                raise ValueError(
                    f"sample {i} returned response keys {keys}, but an earlier sample "
                    f"returned {dict_names}; every evaluation must return the same keys."
                )
            values = [dict(zip(keys, values))[name] for name in dict_names]
        if k is None:
            k = len(values)
        elif len(values) != k:
            raise ValueError(
                f"sample {i} returned {len(values)} response(s), but an earlier sample "
                f"returned {k}; every evaluation must return the same number."
            )
        rows.append(values)
    if k is None:
        errors = "; ".join(f"sample {i}: {o.error}" for i, o in enumerate(outcomes[:3]))
        raise RuntimeError(f"every evaluation failed ({errors}).")
    succeeded = [i for i, r in enumerate(rows) if r is not None]
    arr = np.full((len(rows), k), np.nan)
    arr[succeeded] = _flag_non_finite(np.array([rows[i] for i in succeeded]), "responses")
    return arr, dict_names


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."



def check_variances(variances, shape) -> np.ndarray:
    """Known measurement-noise variances shaped like the responses ``shape``.

    ``shape[1]`` may be ``None`` (responses not known yet): rows only.

    NaN means "unknown": the surrogate's fitted noise level is used there.
    """
    if variances is None:
        return np.full(shape, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN is allowed: unknown variance
        values = as_response_array(variances, shape[0], "variances")
    if shape[1] is not None and values.shape != shape:
        raise ValueError(f"variances must be shaped like the responses {shape}; got {values.shape}.")
    if (values[np.isfinite(values)] < 0).any():
        raise ValueError("variances must be non-negative (they are squared uncertainties).")
    return values
