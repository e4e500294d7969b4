"""Simulation scripts: parsing, one job per sample, failures, logs, resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import medeq
from medeq.schedulers import LocalScheduler
from medeq.scripts import Script, ScriptError, job_id, run_script_jobs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

BLOCK = """\
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters(["A", "B"], [0., 0.], [10., 10.])
# MED PARAMETERS END
"""


def write(tmp_path: Path, body: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------ parsing --

def test_load_reference_example():
    script = Script.load(EXAMPLES / "simulation_script.py")
    assert script.path.is_absolute()
    assert list(script.parameters.index) == ["A", "B", "C"]
    assert script.parameters["min"].tolist() == [-5.0] * 3
    assert "response" in script.source
    start, end = script.block
    lines = script.source.splitlines()
    assert lines[start - 1].startswith("# MED PARAMETERS START")
    assert lines[end - 1].startswith("# MED PARAMETERS END")


def test_parsing_executes_only_the_block(tmp_path):
    marker = tmp_path / "ran"
    path = write(tmp_path, BLOCK + f"open({str(marker)!r}, 'w').close()\nresponse = 1\n")
    Script.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("body, line, words", [
    ("response = 1\n", None, "no '# MED PARAMETERS START'"),
    ("# MED PARAMETERS START\nimport medeq\nresponse = 1\n", 1, "no '# MED PARAMETERS END'"),
    ("# MED PARAMETERS END\n# MED PARAMETERS START\nresponse = 1\n", 1, "comes before"),
    ("# MED PARAMETERS START\nx = 1\n# MED PARAMETERS END\nresponse = x\n", 1,
     "does not define `parameters`"),
    ("# MED PARAMETERS START\nimport medeq\n"
     "parameters = medeq.create_parameters(['A'], [1.], [1.])\n# MED PARAMETERS END\nresponse = 1\n",
     3, "min >= max"),
    ("# MED PARAMETERS START\nimport pandas as pd\nparameters = pd.DataFrame({'min': [2.], 'max': [1.]},"
     " index=['A'])\n# MED PARAMETERS END\nresponse = 1\n", 1, "invalid `parameters`"),
    (BLOCK + "result = 1\n", None, "never assigns `response`"),
    (BLOCK + "response = (1,\n", 5, "syntax error"),
    ("x = 1\n# MED PARAMETERS START\nparameters = undefined_name\n# MED PARAMETERS END\nresponse = 1\n",
     3, "NameError"),
])
def test_load_errors_name_file_and_line(tmp_path, body, line, words):
    path = write(tmp_path, body)
    with pytest.raises(ScriptError) as info:
        Script.load(path)
    message = str(info.value)
    assert str(path) in message
    assert words in message
    if line is not None:
        assert f"line {line}" in message
        assert info.value.lineno == line


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.py"):
        Script.load(tmp_path / "nope.py")


def test_response_assigned_in_any_form(tmp_path):
    for tail in ("for response in [1.0]:\n    pass\n", "response: float = 1.0\n",
                 "if (response := 2.0):\n    pass\n", "response = 0\nresponse += 1\n"):
        Script.load(write(tmp_path, BLOCK + tail))


def test_job_id_is_stable_and_distinct():
    a = job_id(np.array([1.0, 2.0]))
    assert a == job_id([1, 2]) == job_id(np.array([[1.0, 2.0]]))
    assert a != job_id([2.0, 1.0])
    assert a != job_id([1.0, 2.0 + 1e-12])
    assert len(a) == 16 and int(a, 16) >= 0


# ------------------------------------------------------------------- jobs --

def run(script_path, samples, outputs, **kwargs):
    script = Script.load(script_path)
    scheduler = kwargs.pop("scheduler", LocalScheduler(max_workers=2))
    return run_script_jobs(script, scheduler, np.asarray(samples, float),
                           list(script.parameters.index), outputs, **kwargs)


def test_reference_example_single_float(tmp_path):
    samples = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 9.0], [10.0, -5.0, 0.0]])
    outcomes = run(EXAMPLES / "simulation_script.py", samples, tmp_path / "outputs")
    values = [o.value for o in outcomes]
    np.testing.assert_allclose(values, samples[:, 0] ** 2 + samples[:, 1] ** 2)
    for outcome, sample in zip(outcomes, samples):
        folder = tmp_path / "outputs" / job_id(sample)
        assert outcome.logs == str(folder)
        assert json.loads((folder / "result.json").read_text())["response"] == outcome.value
        job = json.loads((folder / "job.json").read_text())
        assert job["columns"]["value"] == sample.tolist()


def test_list_and_dict_responses_with_extra_and_logs(tmp_path):
    path = write(tmp_path, BLOCK + textwrap.dedent("""\
        import sys
        import numpy as np
        a, b = parameters["value"]["A"], parameters.loc["B", "value"]
        print("simulating", a, b)
        print("a warning", file=sys.stderr)
        kind = "list" if a < 5 else "dict"
        response = np.array([a, b]) if kind == "list" else {"x": np.float64(a), "y": b}
        extra = {"kind": kind, "grid": np.arange(3), "cwd": __import__("os").getcwd()}
    """))
    outcomes = run(path, [[1.0, 2.0], [7.0, 8.0]], tmp_path / "out")
    assert outcomes[0].value == [1.0, 2.0]
    assert outcomes[1].value == {"x": 7.0, "y": 8.0}
    assert outcomes[0].extra["grid"] == [0, 1, 2] and outcomes[1].extra["kind"] == "dict"
    folder = Path(outcomes[0].logs)
    assert outcomes[0].extra["cwd"] == str(folder)          # each job runs in its folder
    assert (folder / "stdout.log").read_text() == "simulating 1.0 2.0\n"
    assert (folder / "stderr.log").read_text() == "a warning\n"


def test_crash_and_timeout_fail_alone(tmp_path, capsys):
    path = write(tmp_path, BLOCK + textwrap.dedent("""\
        import time
        a = parameters["value"]["A"]
        if a > 8:
            time.sleep(60)
        print("about to divide")
        response = 1 / float(a - 5)
    """))
    samples = [[1.0, 0.0], [5.0, 0.0], [9.0, 0.0], [2.0, 0.0]]
    start = time.monotonic()
    outcomes = run(path, samples, tmp_path / "out", scheduler=LocalScheduler(2, timeout=5))
    assert time.monotonic() - start < 15
    ok, crashed, hung, ok2 = outcomes
    assert ok.value == pytest.approx(-0.25) and ok2.value == pytest.approx(-1 / 3)
    assert crashed.failed and "ZeroDivisionError" in crashed.error and "line 10" in crashed.error
    assert hung.failed and "timed out" in hung.error
    crash_dir = Path(crashed.logs)
    assert "about to divide" in (crash_dir / "stdout.log").read_text()
    assert "ZeroDivisionError" in (crash_dir / "stderr.log").read_text()
    assert str(path) in (crash_dir / "stderr.log").read_text()      # the user's file and line
    assert "_jobrunner" not in (crash_dir / "stderr.log").read_text()
    assert "timed out" in json.loads((Path(hung.logs) / "result.json").read_text())["error"]
    summary = capsys.readouterr().out
    assert "2 of 4 job(s)" in summary and crashed.logs in summary and hung.logs in summary


def test_missing_response_at_run_time_and_sys_exit(tmp_path):
    path = write(tmp_path, BLOCK + textwrap.dedent("""\
        import sys
        a = parameters["value"]["A"]
        if a > 5:
            sys.exit(3)
        if a > 2:
            response = a
    """))
    low, mid, high = run(path, [[1.0, 0.0], [3.0, 0.0], [6.0, 0.0]], tmp_path / "out", verbose=0)
    assert "without defining `response`" in low.error
    assert mid.value == 3.0
    assert high.failed and "SystemExit: 3" in high.error


def test_duplicates_run_once_and_finished_results_are_reused(tmp_path):
    path = write(tmp_path, BLOCK + textwrap.dedent("""\
        import os
        with open(os.path.join(os.path.dirname(__file__), "runs.log"), "a") as log:
            log.write(f"{parameters['value']['A']}\\n")
        response = parameters["value"]["A"]
    """))
    outcomes = run(path, [[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]], tmp_path / "out")
    assert [o.value for o in outcomes] == [1.0, 2.0, 1.0]
    assert sorted((tmp_path / "runs.log").read_text().split()) == ["1.0", "2.0"]
    outcomes = run(path, [[3.0, 3.0], [2.0, 2.0]], tmp_path / "out")
    assert [o.value for o in outcomes] == [3.0, 2.0]
    assert sorted((tmp_path / "runs.log").read_text().split()) == ["1.0", "2.0", "3.0"]


def test_failed_jobs_are_retried(tmp_path):
    flag = tmp_path / "fixed"
    path = write(tmp_path, BLOCK + f"import os\nassert os.path.exists({str(flag)!r}), 'not yet'\n"
                                   "response = 1.0\n")
    (first,) = run(path, [[1.0, 1.0]], tmp_path / "out", verbose=0)
    assert first.failed and "AssertionError: not yet" in first.error
    flag.touch()
    (second,) = run(path, [[1.0, 1.0]], tmp_path / "out", verbose=0)
    assert second.value == 1.0


def test_parameter_names_must_match(tmp_path):
    script = Script.load(EXAMPLES / "simulation_script.py")
    with pytest.raises(ValueError, match="do not match"):
        run_script_jobs(script, LocalScheduler(), [[1, 2, 3]], ["A", "B", "D"], tmp_path)


def test_med_script_mode_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    med = medeq.MED(str(EXAMPLES / "multi_response_script.py"), seed=5, verbose=0)
    med.sample(4)
    med.evaluate()
    assert med.response_names == ["drag", "lift"]
    assert med.responses.shape == (4, 2) and np.isfinite(med.responses).all()
    outputs = tmp_path / "med_seed5" / "outputs"
    assert len([p for p in outputs.iterdir() if (p / "result.json").is_file()]) == 4


# -------------------------------------------- interruption and SIGKILL resume --

SLOW = BLOCK + textwrap.dedent("""\
    import os, time
    a = parameters["value"]["A"]
    here = os.path.dirname(__file__)
    with open(os.path.join(here, "runs.log"), "a") as log:
        log.write(f"{float(a)!r} {os.getpid()}\\n")
    while a > 5 and os.path.exists(os.path.join(here, "hold")):
        time.sleep(0.05)
    response = a
""")

DRIVER = """\
import json, sys
import medeq
med = medeq.MED(sys.argv[1], scheduler=medeq.LocalScheduler(max_workers=8), seed=3, verbose=0)
med.sample(8)
try:
    med.evaluate()
except KeyboardInterrupt as stop:
    print(json.dumps({"finished": len(stop.finished), "results": len(med.evaluated),
                      "queued": len(med.queue), "type": type(stop).__name__}))
"""


@pytest.fixture
def campaign(tmp_path):
    """Start DRIVER on SLOW: yields once the fast jobs are done and reported."""
    script = write(tmp_path, SLOW)
    (tmp_path / "hold").touch()
    driver = write(tmp_path, DRIVER, "driver.py")
    process = subprocess.Popen([sys.executable, str(driver), str(script)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "runs.log"

    def started():
        return [line.split() for line in runs.read_text().splitlines()] if runs.exists() else []

    def fast_done():
        fast_pids = [int(r[1]) for r in started() if float(r[0]) <= 5]
        return len(started()) == 8 and not any(alive(pid) for pid in fast_pids)

    try:
        wait_for(fast_done, 60, "the fast jobs to finish")
        time.sleep(0.5)            # let the driver collect them
        fast = [r for r in started() if float(r[0]) <= 5]
        slow_pids = [int(r[1]) for r in started() if float(r[0]) > 5]
        assert 0 < len(fast) < 8, "seed 3 must give both fast and slow jobs"
        yield process, fast, slow_pids, tmp_path / "med_seed3" / "outputs"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:      # a zombie is not running
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_ctrl_c_cancels_jobs_and_keeps_finished_results(tmp_path, campaign):
    process, fast, slow_pids, outputs = campaign
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    report = json.loads(out.strip().splitlines()[-1])
    assert report == {"finished": len(fast), "results": len(fast), "queued": 8 - len(fast),
                      "type": "EvaluationInterrupted"}, err
    wait_for(lambda: not any(alive(pid) for pid in slow_pids), 10, "jobs to be terminated")
    saved = medeq.MED.load(tmp_path / "med_seed3")
    assert len(saved.evaluated) == len(fast) and len(saved.queue) == 8 - len(fast)


def test_sigkill_mid_epoch_then_resume(tmp_path, monkeypatch, capsys, campaign):
    process, fast, slow_pids, outputs = campaign
    process.kill()
    process.wait(timeout=10)
    # Running jobs die with the campaign; finished results stay on disk.
    wait_for(lambda: not any(alive(pid) for pid in slow_pids), 10, "orphaned jobs to die")
    done = [json.loads(p.read_text()) for p in outputs.glob("*/result.json")]
    assert len([d for d in done if "response" in d]) == len(fast)

    (tmp_path / "hold").unlink()
    monkeypatch.chdir(tmp_path)
    # MED.load (and medeq show) show the finished results at once, before any evaluate().
    with pytest.warns(RuntimeWarning, match=f"recovered {len(fast)} result"):
        med = medeq.MED.load(tmp_path / "med_seed3")
    assert len(med.evaluated) == len(fast) and len(med.queue) == 8 - len(fast)
    assert med.epoch_origins == ["recovered"]
    assert sorted(med.results["A"]) == sorted(float(a) for a, _ in fast)
    np.testing.assert_allclose(med.responses[:, 0], med.evaluated[:, 0])
    from medeq.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert main(["show", str(tmp_path / "med_seed3")]) == 0
    assert f"results: {len(fast)} in 1 epoch(s); queued: {8 - len(fast)}" in capsys.readouterr().out
    med.evaluate()
    assert len(med.evaluated) == 8 and np.isfinite(med.responses).all()
    np.testing.assert_allclose(med.responses[:, 0], med.evaluated[:, 0])
    runs = [float(line.split()[0]) for line in (tmp_path / "runs.log").read_text().splitlines()]
    # The finished jobs were not run again; only the killed ones were.
    assert len(runs) == 8 + (8 - len(fast))
    assert all(runs.count(float(a)) == 1 for a, _ in fast)
