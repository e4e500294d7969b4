"""Simulation scripts: parse a user script, run one job per sample, collect results.

A MED script is a standalone Python file that defines its free parameters
between ``# MED PARAMETERS START`` and ``# MED PARAMETERS END`` (a
``parameters`` DataFrame, usually from :func:`medeq.create_parameters`) and
assigns ``response`` - a number, a list of numbers or a dict name -> number
(an optional ``extra`` is saved alongside):

.. code-block:: python

    # MED PARAMETERS START
    import medeq
    parameters = medeq.create_parameters(["A", "B"], [-5., -5.], [10., 10.])
    # MED PARAMETERS END

    values = parameters["value"]
    response = values["A"] ** 2 + values["B"] ** 2

Each job runs the whole script as its own process, with the block replaced
by that sample's values (passed as JSON), in ``outputs/<job_id>/``; see
:mod:`medeq._jobrunner`.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import _jobrunner
from ._jobrunner import END, START
from .parameters import is_integer, validate_parameters
from .responses import EvaluationInterrupted, Outcome
from .schedulers.base import Job, Scheduler, collect, prepare_job, saved_outcome

logger = logging.getLogger(__name__)


class ScriptError(ValueError):
    """A simulation script that medeq cannot use; the message names file and line."""

    def __init__(self, path: Path, lineno: int | None, problem: str):
        where = f"{path}, line {lineno}" if lineno else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.lineno = lineno


def _assigns_response(tree: ast.AST) -> bool:
    """Whether the script binds the name ``response`` anywhere (not executed)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "response" and isinstance(node.ctx, ast.Store):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((alias.asname or alias.name.split(".")[0]) == "response" for alias in node.names):
                return True
    return False


def _block_error_line(err: BaseException, path: Path, default: int) -> int:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
    return frames[-1].lineno if frames else default


@dataclass(frozen=True, eq=False)
class Script:
    """A parsed MED simulation script.

    Attributes
    ----------
    path : Path
        Absolute path of the script.
    source : str
        Its text when loaded.
    parameters : pd.DataFrame
        The validated free parameters its block defines.
    block : tuple[int, int]
        1-based line numbers of the START and END directives.
    """

    path: Path
    source: str
    parameters: pd.DataFrame
    block: tuple[int, int]

    @classmethod
    def load(cls, path) -> "Script":
        """Read and check a script; only its parameters block is executed.

        Raises
        ------
        FileNotFoundError
            If ``path`` is not a file.
        ScriptError
            Syntax errors, missing or misplaced directives, a block that
            fails or defines no valid ``parameters``, no ``response``.
        """
        path, source, lines, start, end = cls._read(path)
        parameters = cls._block_parameters(path, lines, start, end)
        return cls(path=path, source=source, parameters=parameters, block=(start + 1, end + 1))

    @classmethod
    def from_saved(cls, path, parameters: pd.DataFrame) -> "Script":
        """Check a script without executing anything, with known ``parameters``.

        Used when loading a campaign: its parameters come from the campaign
        folder, so no code runs on load.
        """
        path, source, _, start, end = cls._read(path)
        return cls(path=path, source=source, parameters=validate_parameters(parameters),
                   block=(start + 1, end + 1))

    @staticmethod
    def _read(path) -> tuple[Path, str, list[str], int, int]:
        """Read, parse and locate the parameters block (nothing executed)."""
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"simulation script {path} does not exist (or is not a file).")
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ScriptError(path, None, f"is not UTF-8 text ({err}).") from None
        try:
            tree = ast.parse(source, filename=str(path))
        except SyntaxError as err:
            raise ScriptError(path, err.lineno, f"syntax error: {err.msg}.") from None
        lines = source.splitlines()
        try:
            start, end = _jobrunner.find_block(lines)
        except _jobrunner.DirectiveError as err:
            raise ScriptError(path, err.lineno, str(err)) from None
        if not _assigns_response(tree):
            raise ScriptError(
                path, None,
                "never assigns `response`; set it to the simulated output (a number, a list "
                "of numbers or a dict name -> number).",
            )
        return path, source, lines, start, end

    @staticmethod
    def _block_parameters(path: Path, lines: list[str], start: int, end: int) -> pd.DataFrame:
        """Execute the lines between the directives in a fresh namespace."""
        block = textwrap.dedent("\n".join(lines[start + 1:end]))
        # Leading newlines keep the script's line numbers in tracebacks.
        code = compile("\n" * (start + 1) + block, str(path), "exec")
        namespace = {"__name__": "__medeq_parameters__", "__file__": str(path)}
        try:
            exec(code, namespace)
        except Exception as err:
            line = _block_error_line(err, path, start + 1)
            raise ScriptError(path, line, f"the parameters block raised "
                                          f"{type(err).__name__}: {err}") from err
        if "parameters" not in namespace:
            raise ScriptError(
                path, start + 1,
                f"the block between '{START}' (line {start + 1}) and '{END}' (line {end + 1}) "
                "does not define `parameters`; use medeq.create_parameters(...).",
            )
        try:
            return validate_parameters(namespace["parameters"])
        except (TypeError, ValueError) as err:
            raise ScriptError(path, start + 1, f"invalid `parameters`: {err}") from None

    def job_payload(self, sample: np.ndarray) -> dict:
        """The ``job.json`` content for one sample (values in real units;
        integer parameters as JSON integers)."""
        integer = is_integer(self.parameters)
        columns = {"value": [int(v) if whole and float(v).is_integer() else float(v)
                             for v, whole in zip(sample, integer)]}
        for column in self.parameters.columns:
            if column != "value":
                columns[column] = [_plain(v) for v in self.parameters[column]]
        return {"script": str(self.path), "names": list(self.parameters.index), "columns": columns}


def _plain(value):
    """A JSON-friendly version of a DataFrame cell."""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def job_id(sample) -> str:
    """A stable id for a sample: the first 16 hex digits of the SHA-1 of its float64 values.

    >>> job_id([1.0, 2.0]) == job_id(np.array([1, 2]))
    True
    """
    values = np.ascontiguousarray(np.asarray(sample, dtype="<f8").ravel())
    return hashlib.sha1(values.tobytes()).hexdigest()[:16]


def run_script_jobs(
    script: Script,
    scheduler: Scheduler,
    samples,
    parameter_names: Sequence[str],
    outputs_dir,
    verbose: int = 1,
) -> list[Outcome]:
    """Run ``script`` once per sample through ``scheduler``; one Outcome per sample.

    Samples that already have a successful ``outputs_dir/<job_id>/result.json``
    (e.g. finished before the campaign was killed) are not run again. Each
    job's ``job.json``, ``stdout.log``, ``stderr.log`` and ``result.json``
    live in ``outputs_dir/<job_id>/``, written as the job runs and ends.
    Failed jobs give ``Outcome(value=None, error=..., logs=<folder>)``; a
    summary of failures is printed at ``verbose >= 1``.

    Parameters
    ----------
    script : Script
    scheduler : Scheduler
    samples : (n, P) array_like
        Parameter values in real units, columns in ``parameter_names`` order.
    parameter_names : list[str]
        Must match the script's parameters.
    outputs_dir : path
        The campaign's ``outputs`` folder (created if needed).
    verbose : int
        0 silent; 1 failure summary; 2 also counts of reused/run jobs.

    Raises
    ------
    EvaluationInterrupted
        On Ctrl-C, after cancelling outstanding jobs; ``.finished`` maps
        sample index -> Outcome for every sample with a result.
    """
    names = list(parameter_names)
    if names != list(script.parameters.index):
        raise ValueError(
            f"parameter_names {names} do not match the script's parameters "
            f"{list(script.parameters.index)} ({script.path})."
        )
    points = np.asarray(samples, dtype=float)
    points = points.reshape(1, -1) if points.ndim == 1 else points
    if points.ndim != 2 or points.shape[1] != len(names):
        raise ValueError(f"samples must be shaped (n, {len(names)}) for the parameters {names}; "
                         f"got shape {np.shape(samples)}.")
    outputs = Path(outputs_dir)
    outputs.mkdir(parents=True, exist_ok=True)
    ids = [job_id(point) for point in points]
    outcomes: dict[str, Outcome] = {}
    jobs: list[Job] = []
    queued: set[str] = set()
    for jid, point in zip(ids, points):
        if jid in outcomes or jid in queued:
            continue
        directory = outputs / jid
        previous = saved_outcome(directory)
        if previous is not None:
            outcomes[jid] = previous
            continue
        jobs.append(prepare_job(jid, directory, "script", script.job_payload(point)))
        queued.add(jid)
    if verbose >= 2 and outcomes:
        print(f"medeq: reusing {len(outcomes)} finished result(s) from {outputs}; "
              f"running {len(jobs)} job(s).")
    logger.info("running %d job(s) of %s with %r", len(jobs), script.path.name, scheduler)

    def by_sample() -> dict[int, Outcome]:
        return {i: outcomes[jid] for i, jid in enumerate(ids) if jid in outcomes}

    try:
        collect(scheduler, jobs, on_outcome=lambda i, outcome: outcomes.__setitem__(jobs[i].id, outcome))
    except EvaluationInterrupted:
        finished = by_sample()
        if verbose >= 1:
            print(f"medeq: interrupted; {len(finished)} of {len(points)} sample(s) have results "
                  f"(kept in {outputs}); the rest stay queued.")
        raise EvaluationInterrupted(finished, "script jobs interrupted (Ctrl-C)") from None
    result = [outcomes[jid] for jid in ids]
    _summarise(result, ids, script, verbose)
    return result


def _summarise(outcomes: list[Outcome], ids: list[str], script: Script, verbose: int) -> None:
    failed = {jid: o for jid, o in zip(ids, outcomes) if o.failed}
    if not failed:
        return
    lines = [f"medeq: {len(failed)} of {len(set(ids))} job(s) of {script.path.name} failed "
             "(their responses are NaN):"]
    for jid, outcome in list(failed.items())[:10]:
        lines.append(f"  {jid}: {outcome.error}  [logs: {outcome.logs}]")
    if len(failed) > 10:
        lines.append(f"  ... and {len(failed) - 10} more; see result.json in each job folder.")
    if verbose >= 1:
        print("\n".join(lines))
    else:
        logger.info("\n".join(lines))
