"""Free parameters: creation, validation and unit-cube scaling.

A campaign's parameters are a :class:`pandas.DataFrame` indexed by name with
the columns ``value``, ``min`` and ``max`` (plus any extra columns). Everything
else in medeq works in the unit cube ``[0, 1]^d``; this module converts
between the two.

Physical units (the ``units`` column, and response units) are parsed with
``pint``: ``"Pa*s"`` or ``"Pa s"``, ``"mm/s"``, ``"uN"``, ``"J/K"``; ``"1"`` or
``""`` is dimensionless. An angle (``rad``, ``deg``) is dimensionless too, as
in the SI: dimensional analysis puts an angle in a group of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("value", "min", "max")
#: The recognised column of physical units (pint syntax).
UNITS_COLUMN = "units"


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
        Extra columns. ``units=["Pa*s", "mm", "mm/s"]`` is recognised: every
        entry must be a unit ``pint`` knows (``"1"`` or ``""``:
        dimensionless; ``"rad"``: an angle); an unknown unit is a
        ``ValueError`` naming the parameter.

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
    if UNITS_COLUMN in frame.columns:
        frame[UNITS_COLUMN] = [
            None if missing_unit(unit) else check_unit(unit, f"parameter {name!r}")
            for name, unit in frame[UNITS_COLUMN].items()
        ]
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


# ------------------------------------------------------------------- units
_REGISTRY = None


def unit_registry():
    """The one ``pint.UnitRegistry`` of medeq, created on first use (importing
    pint and building a registry takes most of a second, which ``medeq --help``
    and campaigns without units should not pay)."""
    global _REGISTRY
    if _REGISTRY is None:
        import pint

        _REGISTRY = pint.UnitRegistry()
    return _REGISTRY


def missing_unit(unit) -> bool:
    """Whether a units entry is absent (``None`` or NaN), as opposed to ``""``."""
    return unit is None or (isinstance(unit, float) and math.isnan(unit))


def check_unit(unit, what: str) -> str:
    """``unit`` as a stripped string after checking that pint knows it.

    ``what`` names the owner in the error, e.g. ``"parameter 'R'"``.
    """
    if not isinstance(unit, str):
        raise ValueError(
            f"{what} has the unit {unit!r}, which is not a string; write units as text "
            "such as 'm', 'mm/s', 'Pa*s' or '1' (dimensionless)."
        )
    text = unit.strip()
    parse_unit(text, what)
    return text


def parse_unit(unit: str, what: str = "a quantity"):
    """The ``pint.Unit`` of ``unit`` (``""`` and ``"1"``: dimensionless).

    Raises ``ValueError`` naming ``what`` and the unit string when pint does
    not know it. pint parses the text with its own grammar; nothing is
    evaluated as Python.
    """
    registry = unit_registry()
    text = str(unit).strip()
    if text in ("", "1"):
        return registry.dimensionless
    try:
        return registry.parse_units(text)
    except Exception as err:  # noqa: BLE001 - pint raises many types for bad text
        reason = f" ({err})" if str(err) else ""
        raise ValueError(
            f"{what} has the unit {text!r}, which pint does not understand{reason}; use a "
            "unit such as 'm', 'mm/s', 'Pa*s', 'uN', 'rad', or '1' for dimensionless."
        ) from None


def unit_dimensions(unit: str) -> dict[str, Fraction]:
    """Exponents of the SI base dimensions of ``unit``: ``"Pa*s"`` ->
    ``{"[mass]": 1, "[length]": -1, "[time]": -1}`` (angles are dimensionless)."""
    dimensionality = parse_unit(unit).dimensionality
    return {str(k): Fraction(v).limit_denominator(1000) for k, v in dimensionality.items() if v}


def si_factor(unit: str) -> float | None:
    """Value in SI base units of one ``unit`` (``"mm"`` -> 0.001, ``"deg"`` ->
    pi/180); ``None`` for a unit with an offset (``degC``), which is not a
    plain multiple of its SI unit."""
    registry = unit_registry()
    parsed = parse_unit(unit)
    zero = registry.Quantity(0.0, parsed).to_base_units().magnitude
    if zero != 0:
        return None
    return float(registry.Quantity(1.0, parsed).to_base_units().magnitude)


def parameter_units(parameters: pd.DataFrame) -> list[str | None]:
    """The unit of every parameter (``None`` where none was declared)."""
    if UNITS_COLUMN not in parameters.columns:
        return [None] * len(parameters)
    return [None if missing_unit(u) else str(u) for u in parameters[UNITS_COLUMN]]


def label(name: str, unit: str | None) -> str:
    """Axis label of a quantity: ``"R [mm]"``, or the bare name without a unit."""
    if unit is None or str(unit).strip() == "":
        return str(name)
    return f"{name} [{unit}]"
