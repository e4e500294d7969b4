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

Each job runs the whole script as its own process in ``outputs/<job_id>/``
(see :mod:`medeq._jobrunner`). Every statement of the parameters block is
kept; only ``parameters`` is rebound to that sample's values (passed as JSON)
right after the block's last assignment to it. A block that is just
``import medeq`` and ``parameters = medeq.create_parameters(...)`` is not run
at all, so such jobs never import medeq.

A job's result is reused (e.g. when a campaign resumes) only if it came from
the same script text (its SHA-256) and the same sample. A job whose
``response`` is not a number, a flat list of numbers or a dict name ->
number, or whose response does not match the others' (other dict keys,
another count), fails like a crash: NaN, with its logs kept, and it runs
again on the next evaluation instead of being reused.
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
from .responses import EvaluationInterrupted, Outcome, outcome_values
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
        try:
            _jobrunner.job_code(source, str(path))   # what every job will run
        except _jobrunner.DirectiveError as err:
            raise ScriptError(path, err.lineno, str(err)) from None
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


def script_digest(path) -> str:
    """SHA-256 (hex) of the script file as it is now: the key of its job results."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as err:
        raise FileNotFoundError(f"cannot read the simulation script {path} ({err}); put it back "
                                "or load the campaign where it exists.") from None


def job_id(sample) -> str:
    """A stable id for a sample: the first 16 hex digits of the SHA-1 of its float64 values.

    >>> job_id([1.0, 2.0]) == job_id(np.array([1, 2]))
    True
    """
    values = np.ascontiguousarray(np.asarray(sample, dtype="<f8").ravel())
    return hashlib.sha1(values.tobytes()).hexdigest()[:16]


def finished_outcomes(script: Script, samples, outputs_dir) -> dict[int, Outcome]:
    """Successful outcomes already saved in ``outputs_dir`` for rows of ``samples``
    by this very script text (as :func:`run_script_jobs` reuses them).

    Reads ``result.json`` files only: nothing is run.
    """
    outputs = Path(outputs_dir)
    digest = script_digest(script.path)
    found = {}
    for i, point in enumerate(np.asarray(samples, dtype=float).reshape(-1, len(script.parameters))):
        outcome = saved_outcome(outputs / job_id(point), script_sha256=digest)
        if outcome is not None:
            found[i] = outcome
    return found


def run_script_jobs(
    script: Script,
    scheduler: Scheduler,
    samples,
    parameter_names: Sequence[str],
    outputs_dir,
    verbose: int = 1,
    response_names: Sequence[str] | None = None,
    n_responses: int | None = None,
) -> list[Outcome]:
    """Run ``script`` once per sample through ``scheduler``; one Outcome per sample.

    Samples that already have a successful ``outputs_dir/<job_id>/result.json``
    from the same script text (e.g. finished before the campaign was killed)
    are not run again; after the script is edited they all run again. Each
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
    response_names, n_responses : optional
        What the campaign's earlier results look like (dict keys, number of
        responses). A job whose response does not match them - or, without
        them, does not match what most jobs of this batch returned - fails
        (NaN) instead of failing the whole batch.

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
    digest = script_digest(script.path)
    ids = [job_id(point) for point in points]
    outcomes: dict[str, Outcome] = {}
    jobs: list[Job] = []
    queued: set[str] = set()
    for jid, point in zip(ids, points):
        if jid in outcomes or jid in queued:
            continue
        directory = outputs / jid
        previous = saved_outcome(directory, script_sha256=digest)
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
    for jid, outcome in screen_outcomes({jid: outcomes[jid] for jid in dict.fromkeys(ids)},
                                        response_names, n_responses).items():
        if outcome is not outcomes[jid]:         # rejected: never reuse it
            _jobrunner.write_json(str(outputs / jid / _jobrunner.RESULT),
                                  {"error": outcome.error, "rejected_response": outcomes[jid].value})
            outcomes[jid] = outcome
    result = [outcomes[jid] for jid in ids]
    _summarise(result, ids, script, verbose)
    return result


def _most_common(values: list):
    """The most frequent of ``values`` (the first seen on a tie)."""
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(counts, key=counts.get)


def screen_outcomes(outcomes: dict, response_names=None, n_responses=None) -> dict:
    """Fail the successful outcomes that are not valid or not like the others.

    Every response must have the same number of values and, if it is a
    dict, the same keys (lists and dicts of the same length mix, as in
    :func:`medeq.responses.outcomes_to_array`). The expected number is
    ``n_responses`` when given (the campaign's earlier results), else the
    most common one; the expected keys are ``response_names`` when both are
    given, else the most common key set. Returns a copy of ``outcomes`` with
    the others replaced by failed outcomes saying why.
    """
    forms, screened = {}, dict(outcomes)
    for key, outcome in outcomes.items():
        if outcome.failed:
            continue
        try:
            values, names = outcome_values(outcome.value, "response")
        except ValueError as err:
            screened[key] = Outcome(error=f"invalid response: {err}", logs=outcome.logs)
            continue
        forms[key] = (len(values), None if names is None else tuple(sorted(names)))
    if not forms:
        return screened
    k = int(n_responses) if n_responses is not None else _most_common([f[0] for f in forms.values()])
    if response_names is not None and n_responses is not None:
        names = tuple(sorted(response_names))
    else:
        dicts = [f[1] for f in forms.values() if f[1] is not None and f[0] == k]
        names = _most_common(dicts) if dicts else None
    wanted = f"{k} value(s)" + (f" with the keys {list(names)}" if names is not None else "")
    for key, (count, keys) in forms.items():
        if count == k and (keys is None or names is None or keys == names):
            continue
        got = f"{count} value(s)" + (f" with the keys {list(keys)}" if keys is not None else "")
        screened[key] = Outcome(error=f"the response has {got}, but {wanted} were expected (as "
                                      "the other results); every job must return the same form",
                                logs=outcomes[key].logs)
    return screened


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
