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
    executed as ``__main__``; every statement of its parameters block (between
    ``# MED PARAMETERS START`` and ``# MED PARAMETERS END``) is kept, and
    ``parameters`` is rebound to the job's DataFrame (integer parameters'
    values as Python ints) right after the block's last assignment to it
    (see :func:`job_code`). Line numbers are kept, so tracebacks point at the
    user's file. The script's ``response`` (which must be a number, a flat
    list of numbers or a dict name -> number) and optional ``extra`` are
    saved, with the SHA-256 of the script text that ran.
``function``
    ``JOB_DIR/job.json`` holds ``{"function": path to a cloudpickle file,
    "sample": [...]}``; the function is called with the sample as a NumPy
    vector and its return value is saved as the response.

Either way the job writes ``JOB_DIR/result.json`` atomically: ``{"response":
..., "extra": ...}`` on success, ``{"error": "..."}`` (and exit code 1) when
the script or function raised. The traceback goes to stderr. The job first
writes ``JOB_DIR/started`` (so the campaign can tell queued from running
jobs), and its stdout and stderr pass through a pipe into ``stdout.log`` /
``stderr.log`` capped at ``job.json``'s ``log_cap`` bytes each (default
:data:`LOG_CAP`): past the cap the oldest output is dropped, the tail is
kept and a note at the top of the log says how much was dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback

START = "# MED PARAMETERS START"
END = "# MED PARAMETERS END"
RESULT = "result.json"
JOB = "job.json"
STDOUT = "stdout.log"
STDERR = "stderr.log"
#: Written by a job when it starts running (its content: the Unix time).
STARTED = "started"
#: Default cap on each of a job's ``stdout.log`` / ``stderr.log``, in bytes.
LOG_CAP = 10 * 2**20
#: Name under which a job's ``parameters`` DataFrame reaches the script.
INJECTED = "__medeq_parameters__"


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


def _statement_lists(tree):
    """Every list of statements in ``tree`` (module body, bodies of blocks...), outermost first."""
    import ast

    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody", "handlers"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield value
        for case in getattr(node, "cases", ()) or ():
            yield case.body


def _binds(node, name: str) -> bool:
    """Whether ``node`` (a statement) binds ``name`` anywhere in it."""
    import ast

    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub.name == name:
            return True
        if isinstance(sub, (ast.Import, ast.ImportFrom)) and name in _import_names(sub):
            return True
    return False


def _import_names(node) -> list[str]:
    return [alias.asname or alias.name.split(".")[0] for alias in node.names]


def _is_medeq_import(node) -> bool:
    import ast

    if isinstance(node, ast.Import):
        return all(alias.name == "medeq" or alias.name.startswith("medeq.") for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return node.level == 0 and (module == "medeq" or module.startswith("medeq."))
    return False


def _creates_parameters(node, medeq_names: set[str]) -> bool:
    """``parameters = medeq.create_parameters(...)`` (or the name imported from medeq)."""
    import ast

    if not (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "parameters"
            and isinstance(node.value, ast.Call)):
        return False
    func = node.value.func
    if isinstance(func, ast.Name):
        return func.id == "create_parameters" and func.id in medeq_names
    return (isinstance(func, ast.Attribute) and func.attr == "create_parameters"
            and isinstance(func.value, ast.Name) and func.value.id in medeq_names)


def job_code(source: str, path: str, name: str = INJECTED):
    """Compile ``source`` for a job: the parameters block keeps its statements
    and ``parameters`` is rebound to the variable ``name`` after them.

    The override ``parameters = <name>`` goes right after the block's last
    statement assigning ``parameters``, so the rest of the block (e.g. an
    ``import sys`` used later, constants) runs as written, and later
    statements in the block see the job's values. When that last statement is
    ``parameters = medeq.create_parameters(...)`` it is replaced by the
    override instead of being run, and the block's ``import medeq`` lines are
    dropped if nothing else in the script uses what they import: a job of
    the reference example script never imports medeq. Line numbers are kept.

    Raises
    ------
    DirectiveError
        Missing directives, a statement crossing a directive, or a block that
        never assigns ``parameters``.
    SyntaxError
        If ``source`` is not valid Python.
    """
    import ast

    lines = source.splitlines()
    start, end = find_block(lines)
    first, last = start + 1, end + 1           # 1-based directive lines
    tree = ast.parse(source, filename=path)
    for body in _statement_lists(tree):
        inside = [i for i, stmt in enumerate(body) if first < stmt.lineno < last]
        if inside:
            break
    else:
        raise DirectiveError(f"the block between '{START}' and '{END}' holds no statement; "
                             "assign `parameters` there.", first)
    for i in inside:
        if body[i].end_lineno >= last:
            raise DirectiveError(f"the statement on line {body[i].lineno} crosses '{END}' "
                                 f"(line {last}); end it before the directive.", body[i].lineno)
    if inside[0] > 0 and body[inside[0] - 1].end_lineno > first:
        raise DirectiveError(f"the statement on line {body[inside[0] - 1].lineno} crosses "
                             f"'{START}' (line {first}); start it after the directive.", first)
    binding = [i for i in inside if _binds(body[i], "parameters")]
    if not binding:
        raise DirectiveError(f"the block between '{START}' (line {first}) and '{END}' (line "
                             f"{last}) never assigns `parameters`; use "
                             "parameters = medeq.create_parameters(...).", first)
    block = [body[i] for i in inside]
    target = body[binding[-1]]
    override = ast.Assign(targets=[ast.Name("parameters", ast.Store())],
                          value=ast.Name(name, ast.Load()))
    medeq_names = {n for i in inside if _is_medeq_import(body[i]) for n in _import_names(body[i])}
    if _creates_parameters(target, medeq_names):
        body[binding[-1]] = ast.copy_location(override, target)
    else:
        override.lineno = override.end_lineno = target.end_lineno
        override.col_offset = override.end_col_offset = target.col_offset
        body.insert(binding[-1] + 1, override)
    used = {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    for stmt in block:
        if _is_medeq_import(stmt) and not used & set(_import_names(stmt)):
            body.remove(stmt)
    return compile(ast.fix_missing_locations(tree), path, "exec")


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


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_response(value, path: str) -> None:
    """Raise ``TypeError`` unless ``value`` (JSON-normalised) is a number, a
    non-empty flat list of numbers or a non-empty dict name -> number."""
    ok = (_is_number(value)
          or (isinstance(value, list) and value and all(map(_is_number, value)))
          or (isinstance(value, dict) and value and all(map(_is_number, value.values()))))
    if not ok:
        text = repr(value)
        text = text if len(text) <= 80 else text[:77] + "..."
        raise TypeError(f"the script {path} set `response` to {text}; it must be a number, a "
                        "flat list of numbers or a dict name -> number.")


class CappedLog:
    """Append to the file ``path``, keeping at most about ``cap`` bytes of it.

    When the file grows past ``cap``, it is rewritten as a one-line note (how
    many bytes were dropped) followed by the last ``cap // 2`` bytes, so the
    newest output is always there.
    """

    def __init__(self, path: str, cap: int):
        self.path, self.cap = path, int(cap)
        self.file = open(path, "ab", buffering=0)   # after anything already written
        self.size = self.file.tell()
        self.dropped = 0
        self.note = 0                                # length of the note at the top

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.size += len(chunk)
        if self.size > self.cap:
            self._trim()

    def _trim(self) -> None:
        keep = self.cap // 2
        with open(self.path, "rb") as file:
            file.seek(max(self.note, self.size - keep))
            tail = file.read()
        cut = tail.find(b"\n", 0, 4096)          # start the tail on a whole line
        if 0 <= cut < len(tail) - 1:
            tail = tail[cut + 1:]
        self.dropped += self.size - self.note - len(tail)
        note = (f"[medeq: this log is capped at {self.cap} bytes; the first {self.dropped} "
                f"bytes of output were dropped, the newest follow]\n").encode()
        os.ftruncate(self.file.fileno(), 0)
        self.file.write(note + tail)
        self.note, self.size = len(note), len(note) + len(tail)

    def close(self) -> None:
        self.file.close()


def _capped_logs(job_dir: str, cap: int) -> None:
    """Fork; the child returns (and runs the job) with its stdout and stderr on
    pipes, while this process copies them into the job's capped logs, then
    exits as the child did (same exit code, or killed by the same signal).

    The copying process ignores SIGTERM/SIGINT/SIGHUP so that it still saves
    the job's last output when a scheduler terminates the job's process group.
    """
    import select
    import signal

    pipes = [os.pipe(), os.pipe()]
    pump = os.getpid()
    child = os.fork()
    if child == 0:
        for fd, (read, write) in zip((1, 2), pipes):
            os.dup2(write, fd)
            os.close(write)
            os.close(read)
        _die_with(pump)
        return
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    logs = {read: CappedLog(os.path.join(job_dir, name), cap)
            for (read, _), name in zip(pipes, (STDOUT, STDERR))}
    for _, write in pipes:
        os.close(write)
    status, grace = None, None
    while logs:
        ready, _, _ = select.select(list(logs), [], [], 0.5)
        for read in ready:
            chunk = os.read(read, 1 << 16)
            if chunk:
                logs[read].write(chunk)
            else:
                logs.pop(read).close()
                os.close(read)
        if status is None:
            done, status = os.waitpid(child, os.WNOHANG)
            status = status if done else None
            grace = time.monotonic() + 2.0        # the job's own children may hold the pipes
        elif time.monotonic() > grace:
            break
    for log in logs.values():
        log.close()
    if status is None:
        status = os.waitpid(child, 0)[1]
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        if -code != signal.SIGKILL:
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 128 - code)


def _die_with(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent process ``parent`` dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    try:
        os.kill(parent, 0)
    except ProcessLookupError:  # the parent died before prctl took effect
        os._exit(137)
    except PermissionError:
        pass


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this job when the campaign process dies.

    Only when the campaign process says so (``MEDEQ_PARENT_PID``), so that a
    campaign killed mid-epoch leaves no orphan jobs behind.
    """
    campaign = os.environ.get("MEDEQ_PARENT_PID", "")
    if campaign.isdigit():
        _die_with(int(campaign))


def _run_script(job: dict, job_dir: str) -> dict:
    import pandas as pd

    path = job["script"]
    with open(path, "rb") as file:
        raw = file.read()
    parameters = pd.DataFrame(job["columns"], index=job["names"])
    if any(isinstance(v, int) for v in job["columns"]["value"]):
        # keep integer parameters' values Python ints (pandas would make them floats)
        parameters["value"] = pd.Series(job["columns"]["value"], index=job["names"], dtype=object)
    code = job_code(raw.decode("utf-8"), path)
    namespace = {
        "__name__": "__main__",
        "__file__": path,
        "__builtins__": __builtins__,
        INJECTED: parameters,
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
    payload = _result(namespace["response"], namespace.get("extra"))
    check_response(payload["response"], path)
    payload["script_sha256"] = hashlib.sha256(raw).hexdigest()
    return payload


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
    write_json(os.path.join(job_dir, STARTED), {"time": time.time(), "pid": os.getpid()})
    cap = job.get("log_cap", LOG_CAP)
    if cap and hasattr(os, "fork"):
        sys.stdout.flush()
        sys.stderr.flush()
        _capped_logs(job_dir, cap)
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
        payload = {"error": f"{type(err).__name__}: {err}{where}"}
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    write_json(result_path, payload)
    return 1 if "error" in payload else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
