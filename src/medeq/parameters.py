"""Free parameters: creation, validation and unit-cube scaling.

A campaign's parameters are a :class:`pandas.DataFrame` indexed by name with
the columns ``value``, ``min`` and ``max`` (plus any extra columns). Everything
else in medeq works in the unit cube ``[0, 1]^d``; this module converts
between the two.

Three optional columns say how a parameter is declared:

* ``scale``: ``"linear"`` (the default) or ``"log"``. A log-scaled
  parameter is mapped to the unit cube through its logarithm, so samplers
  spread it uniformly over its decades and the surrogate learns in
  ``log10`` of it.
* ``integer``: ``True`` for whole-number parameters. The unit interval is cut
  into one equal bin per integer within the bounds (equal bins in the
  logarithm for a log scale); :func:`from_unit` rounds to those integers.
  :func:`distinct_points` keeps a design free of repeated samples while
  unused integer combinations remain.
* ``units``: physical units, parsed with ``pint`` (as are response units):
  ``"Pa*s"`` or ``"Pa s"``, ``"mm/s"``, ``"uN"``, ``"J/K"``; ``"1"`` or ``""``
  is dimensionless. An angle (``rad``, ``deg``) is dimensionless too, as in
  the SI: dimensional analysis puts an angle in a group of its own.

A parameter declared neither way is mapped exactly as before (bitwise).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("value", "min", "max")
#: Accepted entries of the ``scale`` column.
SCALES = ("linear", "log")
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
        Nominal values (default: the middle of each range in its scale, e.g.
        the geometric mean for a log scale); must lie within the bounds.
    **kwargs : list
        Extra columns. Three are understood by every part of medeq:
        ``scale`` (``"linear"`` or ``"log"``, which needs a minimum above 0),
        ``integer`` (``True`` for whole numbers; at least one integer must
        lie within the bounds) and ``units`` (e.g. ``["Pa*s", "mm",
        "mm/s"]``: every entry a unit ``pint`` knows, ``"1"`` or ``""``
        dimensionless, ``"rad"`` an angle; an unknown unit is a
        ``ValueError`` naming the parameter).

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
    >>> medeq.create_parameters(["mu", "n"], [1e-3, 1], [1e3, 8],
    ...                         scale=["log", "linear"], integer=[False, True])
        value    min     max   scale  integer
    mu    1.0  0.001  1000.0     log    False
    n     5.0  1.000     8.0  linear     True
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
    frame = pd.DataFrame({"min": lower, "max": upper}, index=names)
    if values is not None:  # else validate_parameters puts the middle of each range
        frame.insert(0, "value", _as_floats(values, "values"))
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
    ``min >= max``, values outside the bounds, and bad ``scale`` /
    ``integer`` declarations (see :func:`_validate_declarations`).
    A missing ``value`` column is the middle of each range in its scale.
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
    frame = _validate_declarations(frame)
    if "value" not in frame.columns:
        frame.insert(0, "value", _middle(frame))
    frame = frame[list(REQUIRED_COLUMNS) + [c for c in frame.columns if c not in REQUIRED_COLUMNS]]
    for name, row in frame.iterrows():
        if not (row["min"] <= row["value"] <= row["max"]):
            raise ValueError(
                f"parameter {name!r} has value {row['value']} outside its bounds "
                f"[{row['min']}, {row['max']}]."
            )
    _check_integer_values(frame)
    return frame


# ------------------------------------------------------ scale and integer
def _validate_declarations(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise and check the optional ``scale`` and ``integer`` columns.

    ``scale`` entries are ``"linear"`` or ``"log"`` (any case; empty means
    linear) and a log scale needs ``min > 0``; ``integer`` entries are
    booleans (empty means ``False``) and an integer parameter needs an
    integer within its bounds. Each error names the parameter.
    """
    if "scale" in frame.columns:
        frame["scale"] = [_scale_entry(name, v) for name, v in zip(frame.index, frame["scale"])]
        for name, row in frame[frame["scale"] == "log"].iterrows():
            if not row["min"] > 0:
                raise ValueError(
                    f"parameter {name!r} is log-scaled but its minimum is {row['min']}; a log "
                    "scale needs a minimum above 0 (raise the minimum, or use scale='linear')."
                )
    if "integer" in frame.columns:
        frame["integer"] = [_integer_entry(name, v) for name, v in zip(frame.index, frame["integer"])]
        frame["integer"] = frame["integer"].astype(bool)
        for name, row in frame[frame["integer"]].iterrows():
            if np.ceil(row["min"]) > np.floor(row["max"]):
                raise ValueError(
                    f"parameter {name!r} is an integer but no integer lies within its bounds "
                    f"[{row['min']}, {row['max']}]; widen the bounds or use integer=False."
                )
    return frame


def _missing(value) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))


def _scale_entry(name, value) -> str:
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return "linear"
    scale = value.strip().lower() if isinstance(value, str) else value
    if scale not in SCALES:
        raise ValueError(
            f"parameter {name!r} has an unknown scale {value!r}; accepted scales: {list(SCALES)}."
        )
    return scale


def _integer_entry(name, value) -> bool:
    if _missing(value):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer, float, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(
        f"parameter {name!r} has integer={value!r}; use True (whole numbers) or False."
    )


def _check_integer_values(frame: pd.DataFrame) -> None:
    integer = is_integer(frame)
    for name, value in frame["value"][integer].items():
        if value != np.round(value):
            raise ValueError(
                f"parameter {name!r} is an integer but its value is {value}; give a whole "
                "number within its bounds."
            )


def scales(parameters: pd.DataFrame) -> list[str]:
    """The scale of every parameter (``"linear"`` where none is declared)."""
    if "scale" not in parameters.columns:
        return ["linear"] * len(parameters)
    return ["log" if s == "log" else "linear" for s in parameters["scale"]]


def is_log(parameters: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the log-scaled parameters."""
    return np.array([s == "log" for s in scales(parameters)], dtype=bool)


def is_integer(parameters: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the integer parameters."""
    if "integer" not in parameters.columns:
        return np.zeros(len(parameters), dtype=bool)
    return np.array([bool(v) for v in parameters["integer"]], dtype=bool)


def _middle(frame: pd.DataFrame) -> np.ndarray:
    """Nominal default: the middle of each range in its scale."""
    middle = ((frame["min"] + frame["max"]) / 2).to_numpy(float, copy=True)
    special = is_log(frame) | is_integer(frame)
    if special.any():
        centre = from_unit(np.full((1, len(frame)), 0.5), frame)[0]
        middle[special] = centre[special]
    return middle


def transform(x, parameters: pd.DataFrame) -> np.ndarray:
    """Points in the space the campaign is designed and learnt in: ``log10``
    of the log-scaled parameters, the others unchanged."""
    t = np.array(x, dtype=float)
    log = is_log(parameters)
    if log.any():
        t[..., log] = np.log10(t[..., log])
    return t


def untransform(t, parameters: pd.DataFrame) -> np.ndarray:
    """Inverse of :func:`transform` (no rounding)."""
    x = np.array(t, dtype=float)
    log = is_log(parameters)
    if log.any():
        x[..., log] = 10.0 ** x[..., log]
    return x


def transformed_bounds(parameters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the unit cube's image in :func:`transform`'s space.

    An integer parameter spans its integers ``ceil(min) .. floor(max)``
    widened by half a step each side, so every integer gets an equal share
    of the unit interval (in the logarithm for a log scale).
    """
    lower, upper = bounds(parameters)
    integer, log = is_integer(parameters), is_log(parameters)
    if not (integer.any() or log.any()):
        return lower, upper
    lower, upper = lower.copy(), upper.copy()
    lowest, highest = integer_levels(parameters)
    lower[integer], upper[integer] = lowest[integer] - 0.5, highest[integer] + 0.5
    lower[log], upper[log] = np.log10(lower[log]), np.log10(upper[log])
    return lower, upper


def integer_levels(parameters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest integer within the bounds (meaningful for integer parameters)."""
    lower, upper = bounds(parameters)
    return np.ceil(lower), np.floor(upper)


def bounds(parameters: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds as float arrays."""
    return parameters["min"].to_numpy(float), parameters["max"].to_numpy(float)


def to_unit(x, parameters: pd.DataFrame) -> np.ndarray:
    """Scale points in real units to the unit cube (``(n, d)`` array).

    Linear in :func:`transform`'s space: log-scaled parameters map through
    their logarithm, integers to the middle of their bin.
    """
    lower, upper = transformed_bounds(parameters)
    return (transform(x, parameters) - lower) / (upper - lower)


def from_unit(u, parameters: pd.DataFrame) -> np.ndarray:
    """Scale points in the unit cube to real units (``(n, d)`` array).

    Log-scaled parameters are uniform in their logarithm; integer
    parameters are rounded to the integer of their bin. Every declared
    (log or integer) parameter is kept within its bounds.
    """
    lower, upper = transformed_bounds(parameters)
    x = untransform(lower + np.asarray(u, dtype=float) * (upper - lower), parameters)
    integer, log = is_integer(parameters), is_log(parameters)
    if integer.any() or log.any():
        low, high = (b.copy() for b in bounds(parameters))
        lowest, highest = integer_levels(parameters)
        low[integer], high[integer] = lowest[integer], highest[integer]
        x[..., integer] = np.floor(x[..., integer] + 0.5)
        special = integer | log
        x[..., special] = np.clip(x[..., special], low[special], high[special])
    return x


def spaced_values(parameters: pd.DataFrame, k: int, n: int) -> np.ndarray:
    """``n`` values of parameter ``k`` evenly spaced over its bounds in its
    scale (geometrically for a log scale), for grids, axes and sliders.

    An integer parameter gets integers: all of them when there are at most
    ``n``, else the distinct integers nearest the evenly spaced values.
    """
    low, high = float(parameters["min"].iloc[k]), float(parameters["max"].iloc[k])
    if is_log(parameters)[k]:
        values = np.logspace(np.log10(low), np.log10(high), n)
        values[0], values[-1] = low, high
    else:
        values = np.linspace(low, high, n)
    if is_integer(parameters)[k]:
        lowest, highest = np.ceil(low), np.floor(high)
        if highest - lowest + 1 <= n:
            return np.arange(lowest, highest + 1)
        values = np.unique(np.clip(np.floor(values + 0.5), lowest, highest))
    return values


def distinct_points(points, existing, parameters: pd.DataFrame) -> np.ndarray:
    """New samples with no repeat while unused integer combinations remain.

    A row of ``points`` (real units, as :func:`from_unit` gives) equal to a
    row of ``existing`` or to an earlier row of ``points`` - which rounding
    to integers makes likely - is moved to the nearest combination of its
    integer parameters (smallest L1 distance in the unit cube, the other
    parameters kept) that makes it new. When none remains, it stays.
    Without integer parameters, ``points`` is returned unchanged.
    """
    points = np.array(points, dtype=float)
    integer = np.nonzero(is_integer(parameters))[0]
    if not len(integer):
        return points
    taken = {tuple(row) for row in np.asarray(existing, dtype=float).tolist()}
    for i, row in enumerate(points.tolist()):
        if tuple(row) in taken:
            moved = _nearest_unused(np.array(row), integer, taken, parameters)
            if moved is not None:
                points[i] = moved
        taken.add(tuple(points[i].tolist()))
    return points


def _nearest_unused(row: np.ndarray, integer: np.ndarray, taken: set, parameters) -> np.ndarray | None:
    """The row nearest ``row`` (L1 in the unit cube, moving only the
    ``integer`` coordinates within their bounds) that is not in ``taken``.

    Best-first search from ``row`` by one-step moves: the L1 distance is a
    sum over coordinates, so the first free row reached is the nearest, and
    only taken rows are expanded - cheap however many combinations exist.
    """
    lowest, highest = (levels[integer] for levels in integer_levels(parameters))
    lower, upper = (b[integer] for b in transformed_bounds(parameters))
    log = is_log(parameters)[integer]

    def unit(values: np.ndarray) -> np.ndarray:
        t = np.where(log, np.log10(np.maximum(values, 1e-300)), values)
        return (t - lower) / (upper - lower)

    origin = unit(row[integer])
    start = tuple(row[integer].tolist())
    heap, seen = [(0.0, start)], {start}
    while heap:
        _, node = heapq.heappop(heap)
        candidate = row.copy()
        candidate[integer] = node
        if tuple(candidate.tolist()) not in taken:
            return candidate
        for k in range(len(integer)):
            for step in (-1.0, 1.0):
                neighbour = node[:k] + (node[k] + step,) + node[k + 1:]
                if lowest[k] <= neighbour[k] <= highest[k] and neighbour not in seen:
                    seen.add(neighbour)
                    distance = float(np.abs(unit(np.array(neighbour)) - origin).sum())
                    heapq.heappush(heap, (distance, neighbour))
    return None


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
    for k in np.nonzero(is_log(parameters))[0]:
        if (arr[:, k] <= 0).any():
            raise ValueError(
                f"{what} has {names[k]!r} = {arr[:, k].min()!r}, but {names[k]!r} is "
                "log-scaled: its values must be above 0."
            )
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
    return _missing(unit)


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
