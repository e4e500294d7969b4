"""Run one medeq job in its own process: ``python _jobrunner.py MODE JOB_DIR``.

This file is executed *by path* by the schedulers (not with ``-m``), so that
starting a job does not import the ``medeq`` package and its heavy
dependencies; it only uses the standard library (plus pandas to build the
script's ``parameters`` DataFrame, and cloudpickle in function mode).

Modes
-----
``script``
    ``JOB_DIR/job.json`` holds ``{"script": path, "names": [...],
    "columns": {"value": [...], "min": [...], ...}}``. The user's script is
    executed as ``__main__`` with the lines between ``# MED PARAMETERS START``
    and ``# MED PARAMETERS END`` replaced by ``parameters = <DataFrame>``
    built from those values (integer parameters' values as Python ints);
    line numbers are kept, so tracebacks point at the user's file. The
    script's ``response`` (and optional ``extra``) are saved.
``function``
    ``JOB_DIR/job.json`` holds ``{"function": path to a cloudpickle file,
    "sample": [...]}``; the function is called with the sample as a NumPy
    vector and its return value is saved as the response.

Either way the job writes ``JOB_DIR/result.json`` atomically: ``{"response":
..., "extra": ...}`` on success, ``{"error": "..."}`` (and exit code 1) when
the script or function raised. The traceback goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

START = "# MED PARAMETERS START"
END = "# MED PARAMETERS END"
RESULT = "result.json"
JOB = "job.json"


class DirectiveError(ValueError):
    """The parameters directives are missing or out of order (``lineno`` set)."""

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.lineno = lineno


def find_block(lines: list[str]) -> tuple[int, int]:
    """0-based indices of the START and END directive lines of a script."""
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(START)]
    ends = [i for i, line in enumerate(lines) if line.strip().startswith(END)]
    if not starts:
        raise DirectiveError(f"no '{START}' directive: mark the start of the parameters block.")
    if len(starts) > 1:
        raise DirectiveError(f"'{START}' appears more than once (lines "
                             f"{[i + 1 for i in starts]}); keep exactly one.", starts[1] + 1)
    if not ends:
        raise DirectiveError(f"no '{END}' directive after '{START}' (line {starts[0] + 1}).",
                             starts[0] + 1)
    if len(ends) > 1:
        raise DirectiveError(f"'{END}' appears more than once (lines "
                             f"{[i + 1 for i in ends]}); keep exactly one.", ends[1] + 1)
    if ends[0] < starts[0]:
        raise DirectiveError(f"'{END}' (line {ends[0] + 1}) comes before '{START}' "
                             f"(line {starts[0] + 1}).", ends[0] + 1)
    return starts[0], ends[0]


def injected_source(source: str, name: str = "__medeq_parameters__") -> str:
    """The script with its parameters block replaced by ``parameters = <name>``.

    The block's lines become blank lines, so every other line keeps its number.
    """
    lines = source.splitlines()
    start, end = find_block(lines)
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    body = lines[:start] + [f"{indent}parameters = {name}"] + [""] * (end - start) + lines[end + 1:]
    return "\n".join(body) + "\n"


def _jsonable(value):
    """``json.dumps`` fallback for NumPy scalars/arrays and pandas objects."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json(path: str, payload: dict) -> None:
    """Write ``payload`` as JSON atomically (temporary file + ``os.replace``)."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(payload, file, default=_jsonable)
    os.replace(tmp, path)


def _result(response, extra) -> dict:
    if isinstance(response, dict):
        response = {str(k): v for k, v in response.items()}
    payload = {"response": json.loads(json.dumps(response, default=_jsonable))}
    if extra is not None:
        try:
            payload["extra"] = json.loads(json.dumps(extra, default=_jsonable))
        except (TypeError, ValueError) as err:
            print(f"medeq: `extra` is not JSON serialisable ({err}); saving its repr.",
                  file=sys.stderr)
            payload["extra"] = repr(extra)
    return payload


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this job when its parent process dies.

    Only when the campaign process says so (``MEDEQ_PARENT_PID``), so that a
    campaign killed mid-epoch leaves no orphan jobs behind.
    """
    campaign = os.environ.get("MEDEQ_PARENT_PID", "")
    if not campaign.isdigit() or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    try:
        os.kill(int(campaign), 0)
    except ProcessLookupError:  # the campaign died before prctl took effect
        os._exit(137)
    except PermissionError:
        pass


def _run_script(job: dict, job_dir: str) -> dict:
    import pandas as pd

    path = job["script"]
    with open(path, encoding="utf-8") as file:
        source = file.read()
    parameters = pd.DataFrame(job["columns"], index=job["names"])
    if any(isinstance(v, int) for v in job["columns"]["value"]):
        # keep integer parameters' values Python ints (pandas would make them floats)
        parameters["value"] = pd.Series(job["columns"]["value"], index=job["names"], dtype=object)
    code = compile(injected_source(source), path, "exec")
    namespace = {
        "__name__": "__main__",
        "__file__": path,
        "__builtins__": __builtins__,
        "__medeq_parameters__": parameters,
    }
    sys.argv = [path]
    sys.path.insert(0, os.path.dirname(path))
    try:
        exec(code, namespace)
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise
    if "response" not in namespace:
        raise NameError(f"the script {path} finished without defining `response`.")
    return _result(namespace["response"], namespace.get("extra"))


def _run_function(job: dict, job_dir: str) -> dict:
    import cloudpickle
    import numpy as np

    with open(job["function"], "rb") as file:
        function = cloudpickle.load(file)
    return _result(function(np.asarray(job["sample"], dtype=float)), None)


def main(argv: list[str]) -> int:
    """Entry point; returns the process exit code."""
    if len(argv) != 2 or argv[0] not in ("script", "function"):
        print("usage: python _jobrunner.py {script|function} JOB_DIR", file=sys.stderr)
        return 2
    # Run by path, Python put this package's folder first on sys.path, where its
    # modules (parameters.py, ...) would shadow the user's imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    _die_with_parent()
    mode, job_dir = argv
    with open(os.path.join(job_dir, JOB), encoding="utf-8") as file:
        job = json.load(file)
    result_path = os.path.join(job_dir, RESULT)
    try:
        payload = (_run_script if mode == "script" else _run_function)(job, job_dir)
    except BaseException as err:  # noqa: BLE001 - report anything the user code raised
        tb = err.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next        # the user's frames only
        traceback.print_exception(type(err), err, tb)
        where = ""
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == job.get("script")]
        if frames:
            where = f" (line {frames[-1].lineno} of {frames[-1].filename})"
        write_json(result_path, {"error": f"{type(err).__name__}: {err}{where}"})
        return 1
    finally:
        sys.stdout.flush()
    write_json(result_path, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
