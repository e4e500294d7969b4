"""Free parameters: creation, validation and unit-cube scaling.

A campaign's parameters are a :class:`pandas.DataFrame` indexed by name with
the columns ``value``, ``min`` and ``max`` (plus any extra columns such as
``units``). Everything else in medeq works in the unit cube ``[0, 1]^d``;
this module converts between the two.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("value", "min", "max")


def create_parameters(
    variables: Sequence[str],
    minimums: Sequence[float],
    maximums: Sequence[float],
    values: Sequence[float] | None = None,
    **kwargs: Sequence,
) -> pd.DataFrame:
    """Create the DataFrame of free parameters to explore.

    Parameters
    ----------
    variables : list[str]
        Unique, non-empty parameter names.
    minimums, maximums : list[float]
        Finite bounds, with ``minimum < maximum`` for every parameter.
    values : list[float], optional
        Nominal values (default: the middle of each range); must lie within
        the bounds.
    **kwargs : list
        Extra columns, e.g. ``units=["m", "s"]``.

    Returns
    -------
    pd.DataFrame
        Index = names; columns ``value``, ``min``, ``max`` and the extras.

    Examples
    --------
    >>> import medeq
    >>> medeq.create_parameters(["A", "B"], [-5., -5.], [10., 10.])
       value  min   max
    A    2.5 -5.0  10.0
    B    2.5 -5.0  10.0
    """
    if isinstance(variables, str):
        raise ValueError(
            f"variables must be a list of names, got the single string {variables!r}; "
            f"use [{variables!r}] for one parameter."
        )
    names = list(variables)
    n = len(names)
    columns = {"min": minimums, "max": maximums, **kwargs}
    if values is not None:
        columns = {"value": values, **columns}
    for label, column in columns.items():
        if isinstance(column, str) or np.ndim(column) != 1 or len(column) != n:
            length = len(column) if np.ndim(column) == 1 else f"shape {np.shape(column)}"
            raise ValueError(
                f"{label} must have one entry per variable ({n}: {names}); got {length}."
            )
    lower = _as_floats(minimums, "minimums")
    upper = _as_floats(maximums, "maximums")
    nominal = (lower + upper) / 2 if values is None else _as_floats(values, "values")
    frame = pd.DataFrame({"value": nominal, "min": lower, "max": upper}, index=names)
    for label, column in kwargs.items():
        if label in REQUIRED_COLUMNS:
            raise ValueError(f"extra column {label!r} clashes with a required column.")
        frame[label] = list(column)
    return validate_parameters(frame)


def _as_floats(column, label: str) -> np.ndarray:
    try:
        return np.asarray(column, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{label} must be numbers; got {list(column)!r}.") from None


def validate_parameters(parameters: pd.DataFrame) -> pd.DataFrame:
    """Check a parameters DataFrame and return a clean copy.

    Raises ``ValueError`` naming the offending parameter for: missing
    columns, no parameters, empty or duplicate names, non-finite bounds,
    ``min >= max`` and values outside the bounds.
    """
    if not isinstance(parameters, pd.DataFrame):
        raise TypeError(
            "parameters must be a pandas DataFrame (see medeq.create_parameters) or the "
            f"path to a simulation script; got {type(parameters).__name__}."
        )
    missing = [c for c in ("min", "max") if c not in parameters.columns]
    if missing:
        raise ValueError(
            f"parameters is missing the column(s) {missing}; it needs 'value', 'min', 'max' "
            "(use medeq.create_parameters)."
        )
    if len(parameters) == 0:
        raise ValueError("parameters has no rows: give at least one free parameter.")
    frame = parameters.copy()
    frame.index = [str(name) for name in frame.index]
    names = list(frame.index)
    empty = [name for name in names if not name.strip()]
    if empty:
        raise ValueError(f"parameter names must be non-empty; got {names}.")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"parameter names must be unique; {duplicated} appear more than once.")
    for column in REQUIRED_COLUMNS:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    if "value" not in frame.columns:
        frame.insert(0, "value", (frame["min"] + frame["max"]) / 2)
    frame = frame[list(REQUIRED_COLUMNS) + [c for c in frame.columns if c not in REQUIRED_COLUMNS]]
    for name, row in frame.iterrows():
        if not (np.isfinite(row["min"]) and np.isfinite(row["max"])):
            raise ValueError(
                f"parameter {name!r} has non-finite bounds [{row['min']}, {row['max']}]; "
                "give finite minimum and maximum."
            )
        if row["min"] >= row["max"]:
            raise ValueError(
                f"parameter {name!r} has min >= max ({row['min']} >= {row['max']}); "
                "the minimum must be strictly smaller than the maximum."
            )
        if not (row["min"] <= row["value"] <= row["max"]):
            raise ValueError(
                f"parameter {name!r} has value {row['value']} outside its bounds "
                f"[{row['min']}, {row['max']}]."
            )
    return frame


def bounds(parameters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds as float arrays."""
    return parameters["min"].to_numpy(float), parameters["max"].to_numpy(float)


def to_unit(x, parameters: pd.DataFrame) -> np.ndarray:
    """Scale points in real units to the unit cube (``(n, d)`` array)."""
    lower, upper = bounds(parameters)
    return (np.asarray(x, dtype=float) - lower) / (upper - lower)


def from_unit(u, parameters: pd.DataFrame) -> np.ndarray:
    """Scale points in the unit cube to real units (``(n, d)`` array)."""
    lower, upper = bounds(parameters)
    return lower + np.asarray(u, dtype=float) * (upper - lower)


def as_points(x, parameters: pd.DataFrame, what: str = "x") -> np.ndarray:
    """Validate points in real units as an ``(n, d)`` float array.

    Accepts a DataFrame (columns matched by parameter name), a 2-D array, or
    a single 1-D point.
    """
    names = list(parameters.index)
    if isinstance(x, pd.DataFrame):
        missing = [n for n in names if n not in x.columns]
        if missing:
            raise ValueError(f"{what} is missing the parameter column(s) {missing}.")
        x = x[names].to_numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers; could not convert {type(x).__name__}.") from None
    if arr.ndim == 1 and arr.size == len(names):
        arr = arr[None, :]
    if arr.ndim == 1 and len(names) == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise ValueError(
            f"{what} must be shaped (n, {len(names)}) for the parameters {names}; "
            f"got shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains non-finite values; every coordinate must be finite.")
    return arr
