"""Reading a campaign folder's files as untrusted data (:mod:`medeq.storage`).

``setup.toml`` is checked field by field (type, range, known names) and the
CSV files cell by cell, by column name: a problem is a ``ValueError`` naming
the file and the field or line; what can be used with care (a truncated last
line, non-finite values, samples outside the bounds) is used with a warning.
Nothing read here is executed or evaluated.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .fileio import read_toml_record
from .parameters import bounds, validate_parameters
from .record import ORIGINS, variance_columns
from .responses import check_parameter_names, default_names

FORMAT = "medeq-campaign"
FORMAT_VERSION = 1


# ----------------------------------------------------------- setup.toml checks
def read_setup(path: Path) -> dict:
    """``setup.toml`` at ``path``, every field checked (``ValueError`` naming
    the field and what it must be; ``FileNotFoundError`` if it is missing)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.parent} is not a medeq campaign folder: {path.name} is missing."
        )
    setup = read_toml_record(path, FORMAT, "campaign set-up", "the campaign folder is corrupted")
    _check_setup(setup, path)
    return setup


def _field_error(path: Path, field: str, expected: str, value) -> ValueError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return ValueError(f"{path}: field {field!r} must be {expected}; got {shown}. "
                      "Fix or remove it (the campaign folder was edited or is corrupted).")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_setup(setup: dict, path: Path) -> None:
    """Check every field of ``setup.toml``: type, range; errors name the field and file."""
    def need(key, check, expected, required=False, default=None):
        if key not in setup:
            if required:
                raise ValueError(f"{path} has no {key!r} entry; the campaign folder is corrupted.")
            if default is not None:
                setup[key] = default
            return
        if not check(setup[key]):
            raise _field_error(path, key, expected, setup[key])

    need("format_version", lambda v: _is_int(v) and v >= 0, "a non-negative integer", default=FORMAT_VERSION)
    if setup["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"{path} has format version {setup['format_version']}, newer than this medeq "
            f"understands ({FORMAT_VERSION}); upgrade medeq."
        )
    need("seed", lambda v: _is_int(v) and 0 <= v < 2**63, "a non-negative integer", required=True)
    need("verbose", lambda v: _is_int(v) and 0 <= v <= 5, "an integer from 0 to 5")
    need("revision", lambda v: _is_int(v) and v >= 0, "a non-negative integer")
    need("n_results", lambda v: _is_int(v) and v >= 0, "a non-negative integer", default=0)
    need("n_queued", lambda v: _is_int(v) and v >= 0, "a non-negative integer")
    need("parameters", lambda v: isinstance(v, list) and v and all(isinstance(p, dict) for p in v),
         "a non-empty list of tables ([[parameters]])", required=True)
    for i, record in enumerate(setup["parameters"]):
        if not isinstance(record.get("name"), str) or not record["name"]:
            raise _field_error(path, f"parameters[{i}].name", "a non-empty string", record.get("name"))
        for key, value in record.items():
            if not isinstance(value, (str, int, float, bool)):
                raise _field_error(path, f"parameters[{i}].{key}", "a string, number or boolean", value)
    for key in ("response_names", "response_columns"):
        need(key, lambda v: isinstance(v, list) and all(isinstance(n, str) and n for n in v),
             "a list of non-empty strings")
    need("response_units", lambda v: isinstance(v, dict) and all(isinstance(u, str) for u in v.values()),
         "a table of response name = unit (strings)")
    need("epochs", lambda v: isinstance(v, list) and all(isinstance(e, dict) for e in v),
         "a list of tables ([[epochs]])", default=[])
    start = 0
    for i, epoch in enumerate(setup["epochs"]):
        for key in ("start", "end"):
            if not _is_int(epoch.get(key)) or epoch[key] < 0:
                raise _field_error(path, f"epochs[{i}].{key}", "a non-negative integer", epoch.get(key))
        if epoch["start"] != start or epoch["end"] < epoch["start"]:
            raise _field_error(path, f"epochs[{i}]", f"rows {start}:end with end >= {start} "
                               "(epochs are consecutive)", epoch)
        start = epoch["end"]
        epoch.setdefault("origin", "evaluated")
        if epoch["origin"] not in ORIGINS:
            raise _field_error(path, f"epochs[{i}].origin", f"one of {list(ORIGINS)}", epoch["origin"])
    need("sampler", lambda v: isinstance(v, dict), "a table ([sampler])",
         default={"name": "DVASampler", "builtin": True})
    _check_table(setup["sampler"], "sampler", path, {"name": str, "builtin": bool, "pickled": bool,
                                                     "settings": dict})
    need("scheduler", lambda v: isinstance(v, dict), "a table ([scheduler])")
    if "scheduler" in setup:
        _check_table(setup["scheduler"], "scheduler", path, {"name": str, "settings": dict})
    need("script", lambda v: isinstance(v, dict) and isinstance(v.get("path"), str) and v["path"],
         "a table with a 'path' string ([script] path = ...)")


def _check_table(table: dict, field: str, path: Path, types: dict) -> None:
    for key, kind in types.items():
        if key in table and not (isinstance(table[key], kind) and not (kind is not bool and isinstance(table[key], bool))):
            raise _field_error(path, f"{field}.{key}", f"a {kind.__name__.replace('dict', 'table')}", table[key])


def parameters_from(setup: dict, path: Path) -> pd.DataFrame:
    """The parameters table of a checked ``setup`` (read from ``path``), validated."""
    try:
        frame = pd.DataFrame(setup["parameters"]).set_index("name")
        frame.index.name = None
        parameters = validate_parameters(frame)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: field 'parameters' is invalid: {err}") from None
    try:
        check_parameter_names(list(parameters.index))
    except ValueError as err:
        raise ValueError(f"{path}: field 'parameters': {err}") from None
    return parameters


def read_response_columns(setup: dict, path: Path) -> list[str] | None:
    """The response columns results.csv must have (``None``: infer default names)."""
    columns = setup.get("response_columns", setup.get("response_names"))
    if columns is not None and len(set(columns)) != len(columns):
        raise _field_error(path, "response_columns", "unique names", columns)
    return columns


# ------------------------------------------------------------------- CSV files
def read_table(path: Path, names: list[str], responses: list[str] | None,
               results: bool) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV file by column name: the parameter columns and, for a
    ``results`` table, a variance and a response column per response.

    ``responses=None`` accepts the default response names for any number of
    responses. Unknown, missing or duplicated columns are errors naming the
    file; a truncated last line is dropped with a warning. Empty cells are NaN.
    Returns the table and the response columns found.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; the campaign folder is incomplete.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not a readable CSV file ({err}).") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise ValueError(f"{path} is not a readable CSV file ({err}).") from None
    if not rows:
        return pd.DataFrame(columns=names, dtype=float), []
    header = [h.strip() for h in rows[0]]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise ValueError(f"{path} has duplicated column(s) {duplicated}; each column must appear once.")
    missing = [n for n in names if n not in header]
    if missing:
        raise ValueError(f"{path} lacks the parameter column(s) {missing}; the folder is corrupted.")
    extra = [h for h in header if h not in names]
    if not results:
        responses = []
    elif responses is None:            # default names, as many as the columns say
        responses = default_names(len(extra) // 2) if len(extra) >= 2 else []
    responses = list(responses)
    if results and rows[1:] and not responses:
        raise ValueError(f"{path} has rows but no response columns; the folder is corrupted.")
    # A results table with no results yet may leave the response columns out.
    expected = variance_columns(responses) + responses if extra or rows[1:] else []
    unknown = [h for h in extra if h not in expected]
    if unknown:
        raise ValueError(
            f"{path} has unknown column(s) {unknown}; the columns must be the parameters {names}"
            + (f", the variances {variance_columns(responses)} and the responses {responses}."
               if responses else ".")
        )
    absent = [h for h in expected if h not in header]
    if absent:
        raise ValueError(f"{path} lacks the column(s) {absent}; the folder is corrupted.")
    body = rows[1:]
    if body and not text.endswith(("\n", "\r")):
        # medeq ends every line; a last line without its end was cut while written.
        warnings.warn(f"{path}: the last line ({len(body) + 1}) is truncated (no line end, "
                      f"{len(body[-1])} of {len(header)} values); dropping it. If it is complete, "
                      "end it with a newline.", RuntimeWarning, stacklevel=4)
        body = body[:-1]
    values = np.empty((len(body), len(header)))
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {i + 2}: {len(row)} values for {len(header)} columns.")
        for j, cell in enumerate(row):
            cell = cell.strip()
            try:
                values[i, j] = float(cell) if cell else np.nan
            except ValueError:
                raise ValueError(f"{path}, line {i + 2}, column {header[j]!r}: non-numeric "
                                 f"value {cell[:40]!r}.") from None
    return pd.DataFrame(values, columns=header), responses if expected else []


def warn_values(path: Path, frame: pd.DataFrame, names: list[str], parameters: pd.DataFrame) -> None:
    """Warn about non-finite values and samples outside the bounds (kept as they are)."""
    if not len(frame):
        return
    points = frame[names].to_numpy(float)
    bad = np.nonzero(~np.isfinite(points).all(axis=1))[0]
    if len(bad):
        warnings.warn(f"{path}: {len(bad)} row(s) have non-finite parameter values (lines "
                      f"{(bad[:10] + 2).tolist()}); the surrogate leaves them out.",
                      RuntimeWarning, stacklevel=4)
    others = [c for c in frame.columns if c not in names]
    if others:
        infinite = np.nonzero(np.isinf(frame[others].to_numpy(float)).any(axis=1))[0]
        if len(infinite):
            warnings.warn(f"{path}: {len(infinite)} row(s) have infinite responses or variances "
                          f"(lines {(infinite[:10] + 2).tolist()}).", RuntimeWarning, stacklevel=4)
    lower, upper = bounds(parameters)
    with np.errstate(invalid="ignore"):
        outside = np.nonzero(((points < lower) | (points > upper)).any(axis=1))[0]
    if len(outside):
        warnings.warn(f"{path}: {len(outside)} row(s) lie outside the parameter bounds (lines "
                      f"{(outside[:10] + 2).tolist()}); they are kept.", RuntimeWarning, stacklevel=4)
