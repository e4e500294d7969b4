"""The campaign folder: a :class:`~medeq.record.CampaignRecord` and its set-up as files.

This module turns a record (plus the :class:`CampaignSetup`: parameters,
seed, sampler, scheduler...) into files and back; it knows nothing of
``MED``.

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
extra epoch. Loading never executes code from the folder: CSV files are read
by column name and checked, ``setup.toml`` field by field
(:mod:`medeq.folder_checks`), equations with
the whitelist parser of :mod:`medeq.discovery.parsing`; a pickled custom
sampler is read only with ``allow_pickle=True`` and the scheduler's command
settings are used only with ``trust_settings=True``. Writers hold the
folder's lock (:mod:`medeq.lock`).
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass
from pathlib import Path


import numpy as np
import pandas as pd

from . import __version__
from .fileio import atomic_write, dump_toml, read_toml, read_toml_record
from .folder_checks import (FORMAT, FORMAT_VERSION, parameters_from, read_response_columns, read_setup,
                            read_table, warn_values)
from .lock import CampaignChanged, CampaignLocked, writer_lock
from .record import CampaignRecord, Epoch, variance_columns
from .responses import default_names
from .samplers import BUILTIN_SAMPLERS, DVASampler

__all__ = ["MEDPaths", "CampaignSetup", "LoadedCampaign", "save_campaign", "load_campaign",
           "atomic_write", "read_toml_record", "variance_columns", "folder_for", "read_revision",
           "writer_lock", "CampaignLocked", "CampaignChanged", "load_script"]

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
.medeq-writer.lock, .medeq-writer.json
               the writer lock (one process writes at a time) and who holds it.

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


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g", lineterminator="\n")
    return buffer.getvalue()


# ------------------------------------------------------------------- saving
@dataclass
class CampaignSetup:
    """What ``setup.toml`` holds besides the record: the campaign's set-up."""

    parameters: pd.DataFrame
    seed: int
    verbose: int = 3
    response_names: list[str] | None = None
    response_units: dict[str, str] | None = None
    sampler: object = None
    scheduler: object = None
    script_path: str | None = None


def folder_for(directory, seed: int) -> Path:
    """The campaign folder to write: ``directory``, default ``med_seed<seed>``."""
    directory = Path(directory if directory is not None else f"med_seed{seed}")
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"cannot save the campaign to {str(directory)!r}: it is a file, not a folder.")
    return directory


def save_campaign(directory: Path, record: CampaignRecord, setup: CampaignSetup,
                  names: list[str], pickle_sampler: bool = False, revision: int = 0) -> MEDPaths:
    """Write ``record`` and ``setup`` to the folder ``directory`` (created if needed).

    ``names`` are the response columns in use; ``revision`` is stored in
    ``setup.toml`` so that a writer can tell whether another process saved
    the folder since it read it.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = MEDPaths(directory.resolve())
    parameter_names = list(setup.parameters.index)

    sampler_table, sampler_bytes = _sampler_record(setup.sampler, pickle_sampler)
    paths.sampler_pickled = sampler_bytes is not None
    atomic_write(paths.results, _csv(record.results_frame(parameter_names, names)))
    atomic_write(paths.queue, _csv(pd.DataFrame(record.queue, columns=parameter_names)))
    if record.equations:
        frames = [hof.to_frame().assign(response=name) for name, hof in record.equations.items()]
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
    atomic_write(paths.setup, dump_toml(_setup_table(record, setup, names, sampler_table, revision)))
    return paths


def _setup_table(record: CampaignRecord, setup: CampaignSetup, names: list[str],
                 sampler_table: dict, revision: int) -> dict:
    table = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "medeq_version": __version__,
        "revision": int(revision),
        "seed": setup.seed,
        "verbose": setup.verbose,
        "n_results": record.n_evaluated,
        "n_queued": len(record.queue),
        "parameters": [_parameter_record(name, row) for name, row in setup.parameters.iterrows()],
        "response_columns": list(names),
        "epochs": [{"start": e.start, "end": e.end, "origin": e.origin} for e in record.epochs],
        "sampler": sampler_table,
    }
    if setup.response_names is not None:
        table["response_names"] = list(setup.response_names)
    if setup.response_units:
        table["response_units"] = dict(setup.response_units)
    if setup.scheduler is not None:
        table["scheduler"] = _scheduler_record(setup.scheduler)
    if setup.script_path is not None:
        table["script"] = {"path": str(setup.script_path)}
    return table


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
@dataclass
class LoadedCampaign:
    """A campaign folder read back: its set-up, its record, where it is."""

    setup: CampaignSetup
    record: CampaignRecord
    paths: MEDPaths
    revision: int


def load_campaign(dirpath, allow_pickle: bool = False, trust_settings: bool = False) -> LoadedCampaign:
    """Read a folder written by :func:`save_campaign`; nothing in it is executed.

    Every file is checked: a problem is a ``ValueError`` naming the file
    (and the field or row); data that can be used with care (a truncated last
    line, non-finite values, samples outside the bounds, an unreadable
    equation) is used or dropped with a warning.

    Parameters
    ----------
    allow_pickle : bool, default False
        Unpickle a custom sampler saved with the campaign (this runs code).
    trust_settings : bool, default False
        Rebuild the scheduler with the command settings saved in the folder
        (``python_executable``, a Dask address, extra ``sbatch`` options);
        without it they are left out, with a warning, because the folder may
        come from anyone.
    """
    paths = MEDPaths(Path(dirpath).resolve())
    if not paths.directory.is_dir():
        raise FileNotFoundError(f"no campaign folder at {str(dirpath)!r}.")
    setup = read_setup(paths.setup)
    parameters = parameters_from(setup, paths.setup)
    names = list(parameters.index)
    response_columns = read_response_columns(setup, paths.setup)
    results, response_columns = read_table(paths.results, names, response_columns, results=True)
    queue, _ = read_table(paths.queue, names, [], results=False)
    warn_values(paths.results, results, names, parameters)
    warn_values(paths.queue, queue, names, parameters)

    evaluated = results[names].to_numpy(float)
    queued = queue[names].to_numpy(float)
    epochs = [Epoch(e["start"], e["end"], e["origin"]) for e in setup["epochs"]]
    n_saved = setup["n_results"]
    if len(results) < n_saved:
        raise ValueError(
            f"{paths.results} has {len(results)} rows but {paths.setup} records {n_saved} "
            "results: the folder is corrupted."
        )
    if (epochs[-1].end if epochs else 0) != n_saved:
        raise ValueError(f"{paths.setup}: field 'epochs' covers {epochs[-1].end if epochs else 0} "
                         f"rows but 'n_results' is {n_saved}; the folder is corrupted.")
    recovered = len(results) - n_saved
    if recovered:
        warnings.warn(
            f"{paths.results} has {recovered} result(s) written after the last "
            f"complete save; recovering them as a new epoch.", RuntimeWarning, stacklevel=3,
        )
        epochs.append(Epoch(n_saved, len(results), "recovered"))
        done = {tuple(row) for row in evaluated[n_saved:]}
        queued = np.array([row for row in queued if tuple(row) not in done]).reshape(-1, len(names))
    k = len(response_columns)
    if len(results) and k:
        responses = results[response_columns].to_numpy(float)
        variances = results[variance_columns(response_columns)].to_numpy(float)
    else:
        responses = variances = None
        evaluated = evaluated[:0]
        epochs = []
    try:
        record = CampaignRecord(evaluated, responses, variances, queued, tuple(epochs),
                                _load_equations(paths.equations, names))
    except ValueError as err:
        raise ValueError(f"{paths.setup} and {paths.results} disagree: {err}") from None

    response_names = setup.get("response_names")
    if response_names is None and k and response_columns != default_names(k):
        response_names = response_columns
    campaign = CampaignSetup(
        parameters=parameters, seed=setup["seed"], verbose=setup.get("verbose", 3),
        response_names=response_names, response_units=setup.get("response_units"),
        sampler=_load_sampler(setup, paths, len(names), allow_pickle),
        scheduler=_load_scheduler(setup.get("scheduler"), paths.setup, trust_settings),
        script_path=setup.get("script", {}).get("path"),
    )
    paths.sampler_pickled = bool(setup["sampler"].get("pickled", False))
    return LoadedCampaign(campaign, record, paths, setup.get("revision", 0))


def read_revision(directory) -> int | None:
    """The ``revision`` saved in a campaign folder's ``setup.toml`` (``None``: no folder)."""
    path = MEDPaths(Path(directory)).setup
    if not path.is_file():
        return None
    try:
        revision = read_toml(path, "the campaign folder is corrupted").get("revision", 0)
    except ValueError:
        return None
    return revision if isinstance(revision, int) else None


# ------------------------------------------------------------ sampler, scheduler
def _load_sampler(setup: dict, paths: MEDPaths, d: int, allow_pickle: bool):
    table = setup["sampler"]
    seed = setup["seed"]
    if table.get("builtin", True):
        cls = BUILTIN_SAMPLERS.get(table.get("name"))
        if cls is None:
            raise ValueError(
                f"{paths.setup}: field 'sampler.name' names an unknown sampler "
                f"{table.get('name')!r}; built-in samplers are {sorted(BUILTIN_SAMPLERS)}."
            )
        try:
            return cls(d, seed=seed, **table.get("settings", {}))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{paths.setup}: field 'sampler.settings' is invalid for "
                             f"{cls.__name__}: {err}") from None
    if table.get("pickled"):
        if not allow_pickle:
            raise ValueError(
                f"{paths.directory} holds a pickled custom sampler ({table.get('name')}) in "
                f"{SAMPLER_PICKLE}; unpickling runs code, so load it only from a folder you "
                "trust, with MED.load(..., allow_pickle=True)."
            )
        import cloudpickle

        return cloudpickle.loads(paths.sampler.read_bytes())
    warnings.warn(
        f"the campaign used a custom sampler ({table.get('name')}) that was not saved; using "
        "DVASampler instead. Set med.sampler to yours, or save with pickle_sampler=True.",
        RuntimeWarning,
        stacklevel=3,
    )
    return DVASampler(d, seed=seed)


#: Scheduler settings safe to take from a folder (numbers, names, SLURM resource
#: requests); any other one (a command, an address, sbatch options such as
#: ``export`` or ``chdir``) needs ``trust_settings=True``.
PLAIN_SETTINGS = ("max_workers", "timeout", "poll_interval", "job_name", "max_parallel",
                  "partition", "time", "account", "qos", "mem", "mem_per_cpu", "cpus_per_task",
                  "nodes", "ntasks", "gres", "constraint")


def _load_scheduler(table: dict | None, path: Path, trust_settings: bool):
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
    settings = dict(table.get("settings", {}))
    if not trust_settings:
        untrusted = {key: value for key, value in settings.items()
                     if key not in PLAIN_SETTINGS and not _harmless(key, value)}
        for key in untrusted:
            settings.pop(key)
        if untrusted:
            warnings.warn(
                f"{path}: scheduler settings {sorted(untrusted)} ({_brief(untrusted)}) are a command "
                "line or an address taken from the folder; they are not used. Settings from a "
                "folder are not commands: load with MED.load(..., trust_settings=True) (medeq run "
                "--trust-settings) to use them, or give the scheduler again.",
                RuntimeWarning, stacklevel=3,
            )
    try:
        return cls(**settings)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: field 'scheduler.settings' is invalid for {cls.__name__}: "
                         f"{err}") from None


def _harmless(key: str, value) -> bool:
    """A command setting equal to what this process would use anyway."""
    import sys

    return key == "python_executable" and value == sys.executable


def _brief(settings: dict) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in settings.items())
    return text if len(text) <= 120 else text[:117] + "..."


def load_script(path: str | None, parameters: pd.DataFrame):
    """The campaign's script, checked but not executed (parameters from the folder)."""
    from .scripts import Script

    if path is None:
        return None
    if not Path(path).is_file():
        warnings.warn(
            f"the campaign's script {path} is missing; evaluate() will need it back "
            "(or evaluate with a function).", RuntimeWarning, stacklevel=3,
        )
        return None
    return Script.from_saved(path, parameters)


# ------------------------------------------------------------------ equations
def _load_equations(path: Path, names: list[str]) -> dict:
    """Halls of fame from ``equations.csv``; a rejected equation is dropped with a warning."""
    if not path.is_file():
        return {}
    from .discovery import Equation, HallOfFame
    from .discovery.equations import COLUMNS, FLOOR_COLUMN, read_flag

    try:
        frame = pd.read_csv(path, dtype={"response": str, "equation": str}, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path} is not a readable CSV file ({err}).") from None
    with path.open(encoding="utf-8", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    duplicated = sorted({h for h in header if header.count(h) > 1})
    required = ["response", *COLUMNS]
    missing = [c for c in required if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in (*required, FLOOR_COLUMN)]
    if missing or unknown or duplicated:
        raise ValueError(f"{path} must have the columns {required} (and optionally "
                         f"{FLOOR_COLUMN!r}), once each; "
                         + (f"missing {missing}. " if missing else "")
                         + (f"unknown {unknown}. " if unknown else "")
                         + (f"duplicated {duplicated}." if duplicated else ""))
    halls: dict[str, list] = {}
    for i, row in frame.iterrows():
        line = i + 2
        try:
            numbers = {key: float(row[key]) if str(row[key]).strip() else float("nan")
                       for key in ("complexity", "loss", "score")}
            complexity = int(numbers["complexity"]) if np.isfinite(numbers["complexity"]) else None
            at_floor = read_flag(row[FLOOR_COLUMN]) if FLOOR_COLUMN in frame.columns else None
            equation = Equation(str(row["equation"]), names, loss=numbers["loss"],
                                score=numbers["score"], complexity=complexity, at_floor=at_floor)
        except (ValueError, TypeError, OverflowError) as err:
            warnings.warn(f"{path}, line {line}: equation dropped: {err}", RuntimeWarning, stacklevel=4)
            continue
        halls.setdefault(str(row["response"]), []).append(equation)
    return {name: HallOfFame(equations, names) for name, equations in halls.items()}
