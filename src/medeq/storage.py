"""The campaign folder: a plain, language-agnostic record of a ``MED``.

Layout::

    med_seed42/
        setup.toml      format version, seed, parameters, epochs, sampler...
        results.csv     evaluated samples, measured variances, responses
        queue.csv       samples not evaluated yet
        equations.csv   discovered equations (hall of fame per response)
        outputs/        per-job logs and results of script-mode campaigns
        README.txt      what the files are

Every file is written atomically (temporary file + rename), results before
``setup.toml``, so a crash during :func:`save_campaign` leaves a folder that
loads: results written after the last ``setup.toml`` are recovered as an
extra epoch. Loading never executes code from the folder; a pickled custom
sampler is read only with ``allow_pickle=True``.
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
import tomli_w

from . import __version__
from .responses import default_names
from .samplers import BUILTIN_SAMPLERS, DVASampler

FORMAT = "medeq-campaign"
FORMAT_VERSION = 1
SAMPLER_PICKLE = "sampler.pickle"

README = """\
medeq campaign folder (format {format} version {version})

setup.toml     campaign set-up: seed, parameters and bounds, response names,
               epochs (row ranges of results.csv, with their origin), sampler
               and scheduler by name and settings.
results.csv    one row per evaluated sample: the parameter values, the
               measurement-noise variance given by the user for each response
               (empty when not given: medeq then uses the surrogate's fitted
               noise level) and the responses (empty = failed / NaN).
queue.csv      samples generated but not evaluated yet.
equations.csv  discovered equations: one row per equation of each response's
               hall of fame (complexity, loss, score, equation).
outputs/       script-mode jobs: one folder per job with its logs and result.
exploration.toml  the exploration loop's settings, batches and status
               (medeq run / med.explore), when it was used.

Load it in Python with `medeq.MED.load("<this folder>")`; any CSV reader works.
"""


@dataclass
class MEDPaths:
    """Paths of a campaign folder."""

    directory: Path
    sampler_pickled: bool = False

    @property
    def setup(self) -> Path:
        return self.directory / "setup.toml"

    @property
    def results(self) -> Path:
        return self.directory / "results.csv"

    @property
    def queue(self) -> Path:
        return self.directory / "queue.csv"

    @property
    def equations(self) -> Path:
        return self.directory / "equations.csv"

    @property
    def outputs(self) -> Path:
        return self.directory / "outputs"

    @property
    def readme(self) -> Path:
        return self.directory / "README.txt"

    @property
    def sampler(self) -> Path:
        return self.directory / SAMPLER_PICKLE


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 -> the usual file mode
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g", lineterminator="\n")
    return buffer.getvalue()


def variance_columns(names: list[str]) -> list[str]:
    """Names of the variance columns for the given responses."""
    return ["variance"] if len(names) == 1 else [f"variance_{n}" for n in names]


# ------------------------------------------------------------------- saving
def save_campaign(med, directory=None, pickle_sampler: bool = False) -> MEDPaths:
    """Write ``med`` to ``directory`` (default ``med_seed<seed>``)."""
    directory = Path(directory if directory is not None else f"med_seed{med.seed}")
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"cannot save the campaign to {str(directory)!r}: it is a file, not a folder.")
    directory.mkdir(parents=True, exist_ok=True)
    paths = MEDPaths(directory.resolve())

    sampler_table, sampler_bytes = _sampler_record(med.sampler, pickle_sampler)
    paths.sampler_pickled = sampler_bytes is not None
    atomic_write(paths.results, _csv(results_frame(med, med.measured_variances)))
    atomic_write(paths.queue, _csv(pd.DataFrame(med.queue, columns=med.parameter_names)))
    if med.sr:
        frames = [hof.to_frame().assign(response=name) for name, hof in med.sr.items()]
        equations = pd.concat(frames, ignore_index=True)
        atomic_write(paths.equations, _csv(equations[["response"] + [c for c in equations if c != "response"]]))
    elif paths.equations.exists():
        paths.equations.unlink()
    if sampler_bytes is not None:
        atomic_write(paths.sampler, sampler_bytes)
    elif paths.sampler.exists():
        paths.sampler.unlink()
    if not paths.readme.exists():
        atomic_write(paths.readme, README.format(format=FORMAT, version=FORMAT_VERSION))
    atomic_write(paths.setup, tomli_w.dumps(_setup(med, sampler_table)))
    return paths


def results_frame(med, variances) -> pd.DataFrame:
    """Evaluated samples, then ``variances`` (N, K) and responses, one column each."""
    frame = pd.DataFrame(med.evaluated, columns=med.parameter_names)
    if med.responses is None:
        return frame
    names = med.names
    for label, column in zip(variance_columns(names), variances.T):
        frame[label] = column
    for name, column in zip(names, med.responses.T):
        frame[name] = column
    return frame


def _setup(med, sampler_table: dict) -> dict:
    setup = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "medeq_version": __version__,
        "seed": med.seed,
        "verbose": med.verbose,
        "n_results": med.n_evaluated,
        "n_queued": len(med.queue),
        "parameters": [_parameter_record(name, row) for name, row in med.parameters.iterrows()],
        "epochs": [
            {"start": int(a), "end": int(b), "origin": origin}
            for (a, b), origin in zip(med.epochs, med.epoch_origins)
        ],
        "sampler": sampler_table,
    }
    if med.response_names is not None:
        setup["response_names"] = list(med.response_names)
    if getattr(med, "response_units", None):
        setup["response_units"] = dict(med.response_units)
    if med.scheduler is not None:
        setup["scheduler"] = _scheduler_record(med.scheduler)
    if med.script is not None:
        setup["script"] = {"path": str(med.script.path)}
    return setup


def _parameter_record(name, row) -> dict:
    record = {"name": str(name)}
    for column, value in row.items():
        if isinstance(value, (bool, np.bool_)):
            record[column] = bool(value)
        elif isinstance(value, (int, np.integer)):
            record[column] = int(value)
        elif isinstance(value, (float, np.floating)):
            if np.isfinite(value):
                record[column] = float(value)
        elif value is not None and not (isinstance(value, float) and np.isnan(value)):
            record[column] = str(value)
    return record


def _sampler_record(sampler, pickle_sampler: bool) -> tuple[dict, bytes | None]:
    name = type(sampler).__name__
    if BUILTIN_SAMPLERS.get(name) is type(sampler):
        return {"name": name, "settings": sampler.settings(), "builtin": True}, None
    table = {"name": name, "builtin": False, "pickled": bool(pickle_sampler)}
    if not pickle_sampler:
        return table, None
    import cloudpickle

    return table, cloudpickle.dumps(sampler)


def _scheduler_record(scheduler) -> dict:
    settings = scheduler.settings() if callable(getattr(scheduler, "settings", None)) else {}
    return {"name": type(scheduler).__name__, "settings": settings}


# ------------------------------------------------------------------ loading
def load_campaign(dirpath, allow_pickle: bool = False):
    """Rebuild a ``MED`` from a folder written by :func:`save_campaign`."""
    from .med import MED

    paths = MEDPaths(Path(dirpath).resolve())
    if not paths.directory.is_dir():
        raise FileNotFoundError(f"no campaign folder at {str(dirpath)!r}.")
    setup = _read_setup(paths.setup)
    parameters = _parameters_from(setup, paths.setup)
    names = list(parameters.index)
    results = _read_csv(paths.results, names)
    queue = _read_csv(paths.queue, names)

    med = MED(parameters, response_names=setup.get("response_names"),
              sampler=DVASampler, seed=setup["seed"], verbose=setup.get("verbose", 3),
              response_units=setup.get("response_units"))
    med.sampler = _load_sampler(setup, paths, len(names), allow_pickle)
    med.scheduler = _load_scheduler(setup.get("scheduler"))
    if "script" in setup:
        med.script = _load_script(setup["script"]["path"], parameters)
        if med.scheduler is None:
            from .schedulers import LocalScheduler

            med.scheduler = LocalScheduler()

    evaluated = results[names].to_numpy(float)
    med.epochs = [(int(e["start"]), int(e["end"])) for e in setup.get("epochs", [])]
    med.epoch_origins = [str(e.get("origin", "evaluated")) for e in setup.get("epochs", [])]
    k = (len(results.columns) - len(names)) // 2  # a variance and a response column each
    queued = queue[names].to_numpy(float)
    n_saved = int(setup.get("n_results", 0))
    if len(results) < n_saved:
        raise ValueError(
            f"{paths.results} has {len(results)} rows but {paths.setup} records {n_saved} "
            "results: the folder is corrupted."
        )
    if len(results) > n_saved:
        warnings.warn(
            f"{paths.results} has {len(results) - n_saved} result(s) written after the last "
            f"complete save; recovering them as a new epoch.", RuntimeWarning, stacklevel=3,
        )
        med.epochs.append((n_saved, len(results)))
        med.epoch_origins.append("evaluated")
        recovered = {tuple(row) for row in evaluated[n_saved:]}
        queued = np.array([row for row in queued if tuple(row) not in recovered]).reshape(-1, len(names))
    if len(results) and k:
        response_cols = [c for c in results.columns if c not in names][-k:]
        variance_cols = [c for c in results.columns if c not in names][:-k]
        med.responses = results[response_cols].to_numpy(float)
        med.measured_variances = results[variance_cols].to_numpy(float)
        if med.response_names is None and response_cols != default_names(k):
            med.response_names = response_cols
    med.samples = np.vstack([evaluated, queued]) if len(results) else queued
    med.sr = _load_equations(paths.equations, names)
    med.paths = MEDPaths(paths.directory,
                         sampler_pickled=bool(setup.get("sampler", {}).get("pickled", False)))
    med.refit()
    return med


def read_toml_record(path: Path, fmt: str, what: str, remedy: str) -> dict:
    """Read a TOML file whose ``format`` key must be ``fmt``; clear errors otherwise.

    ``what`` names the record in errors ("campaign set-up"); ``remedy`` says
    what to do about an unreadable file.
    """
    try:
        record = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid TOML ({err}); {remedy}.") from None
    if record.get("format") != fmt:
        raise ValueError(f"{path} is not a medeq {what} (format = {record.get('format')!r}).")
    return record


def _read_setup(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.parent} is not a medeq campaign folder: {path.name} is missing."
        )
    setup = read_toml_record(path, FORMAT, "campaign set-up", "the campaign folder is corrupted")
    if setup.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} has format version {setup['format_version']}, newer than this medeq "
            f"understands ({FORMAT_VERSION}); upgrade medeq."
        )
    for key in ("seed", "parameters"):
        if key not in setup:
            raise ValueError(f"{path} has no {key!r} entry; the campaign folder is corrupted.")
    return setup


def _parameters_from(setup: dict, path: Path) -> pd.DataFrame:
    from .parameters import validate_parameters

    try:
        records = setup["parameters"]
        frame = pd.DataFrame(records).set_index("name")
        frame.index.name = None
        return validate_parameters(frame)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path} has invalid parameters: {err}") from None


def _read_csv(path: Path, names: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; the campaign folder is incomplete.")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=names, dtype=float)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a readable CSV file ({err}).") from None
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the parameter column(s) {missing}; the folder is corrupted.")
    try:
        frame = frame.astype(float)
    except ValueError as err:
        raise ValueError(f"{path} has non-numeric values ({err}).") from None
    return frame


def _load_sampler(setup: dict, paths: MEDPaths, d: int, allow_pickle: bool):
    table = setup.get("sampler", {"name": "DVASampler", "builtin": True})
    seed = setup["seed"]
    if table.get("builtin", True):
        cls = BUILTIN_SAMPLERS.get(table.get("name"))
        if cls is None:
            raise ValueError(
                f"{paths.setup} names an unknown sampler {table.get('name')!r}; built-in "
                f"samplers are {sorted(BUILTIN_SAMPLERS)}."
            )
        return cls(d, seed=seed, **table.get("settings", {}))
    if table.get("pickled"):
        if not allow_pickle:
            raise ValueError(
                f"{paths.directory} holds a pickled custom sampler ({table['name']}) in "
                f"{SAMPLER_PICKLE}; unpickling runs code, so load it only from a folder you "
                "trust, with MED.load(..., allow_pickle=True)."
            )
        import cloudpickle

        return cloudpickle.loads(paths.sampler.read_bytes())
    warnings.warn(
        f"the campaign used a custom sampler ({table['name']}) that was not saved; using "
        "DVASampler instead. Set med.sampler to yours, or save with pickle_sampler=True.",
        RuntimeWarning,
        stacklevel=3,
    )
    return DVASampler(d, seed=seed)


def _load_scheduler(table: dict | None):
    if table is None:
        return None
    from . import schedulers

    cls = schedulers.BUILTIN_SCHEDULERS.get(table.get("name"))
    if cls is None:
        warnings.warn(
            f"the campaign used a custom scheduler ({table.get('name')}) that cannot be "
            "restored; set med.scheduler before evaluating.", RuntimeWarning, stacklevel=3,
        )
        return None
    return cls(**table.get("settings", {}))


def _load_script(path: str, parameters: pd.DataFrame):
    """The campaign's script, checked but not executed (parameters from the folder)."""
    from .scripts import Script

    if not Path(path).is_file():
        warnings.warn(
            f"the campaign's script {path} is missing; evaluate() will need it back "
            "(or evaluate with a function).", RuntimeWarning, stacklevel=3,
        )
        return None
    return Script.from_saved(path, parameters)


def _load_equations(path: Path, names: list[str]) -> dict:
    if not path.is_file():
        return {}
    from .discovery import HallOfFame

    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not a readable CSV file ({err}).") from None
    if "response" not in frame.columns:
        raise ValueError(f"{path} has no 'response' column; the folder is corrupted.")
    return {
        str(name): HallOfFame.from_frame(group.drop(columns="response").reset_index(drop=True), names)
        for name, group in frame.groupby("response", sort=False)
    }
