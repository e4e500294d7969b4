"""The ``medeq`` command, run for real through its console entry point."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import sympy as sp

import medeq
from medeq.cli import main
from medeq.exploration import load_exploration

MEDEQ = [shutil.which("medeq")] if shutil.which("medeq") else [sys.executable, "-m", "medeq"]

SCRIPT = textwrap.dedent("""\
    # MED PARAMETERS START
    import medeq
    parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    # MED PARAMETERS END
    import os, time
    time.sleep(float(os.environ.get("MEDEQ_TEST_SLEEP", "0")))
    values = parameters["value"]
    response = 2 * values["a"] + values["b"]
""")


def medeq_cmd(*args, cwd, env=None, timeout=180):
    """Run ``medeq ARGS`` in ``cwd``; returns the CompletedProcess."""
    return subprocess.run([*MEDEQ, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=timeout, env=None if env is None else {**os.environ, **env})


def assert_one_line_error(proc, code):
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medeq: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "linear.py"
    path.write_text(SCRIPT)
    return path


def medeq_inprocess(*argv, capsys):
    """``medeq.cli.main(argv)`` here: the same code the console script runs, without the
    ~1 s import of a new interpreter (used for the many small argument checks)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, out, err)


# ------------------------------------------------------------------- help, errors
COMMANDS = ["run", "show", "discover", "report", "export", "demo"]


def test_help_through_the_console_script_and_python_dash_m(tmp_path):
    for command in (MEDEQ, [sys.executable, "-m", "medeq"]):
        proc = subprocess.run([*command, "--help"], cwd=tmp_path, capture_output=True,
                              text=True, check=False, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("usage: medeq ")
        assert all(c in proc.stdout for c in COMMANDS) and "Exit codes" in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_command(command, capsys):
    proc = medeq_inprocess(command, "--help", capsys=capsys)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: medeq {command} ")


BAD_ARGUMENTS = [
    (["frobnicate"], 2, "invalid choice"),
    ([], 2, "give a COMMAND"),
    (["run"], 2, "give a SCRIPT"),
    (["run", "linear.py", "--budget", "0"], 2, "positive integer"),
    (["run", "linear.py", "--target-uncertainty", "nan"], 2, "positive number"),
    (["run", "linear.py", "--scheduler", "cloud"], 2, "invalid choice"),
    (["run", "linear.py", "--sbatch", "time=00:01:00"], 2, "--scheduler slurm"),
    (["run", "linear.py", "--sampler", "Nope"], 2, "unknown --sampler"),
    (["export", "x"], 2, "required"),
    (["demo", "--budget", "many"], 2, "positive integer"),
    (["run", "missing.py"], 3, "does not exist"),
    (["run", "no_response.py"], 3, "never assigns `response`"),
    (["run", "syntax.py"], 3, "syntax error"),
    (["run", "--dir", "nowhere"], 3, "no campaign folder"),
    (["show", "nowhere"], 3, "no campaign folder"),
    (["show", "."], 3, "not a medeq campaign folder"),
    (["discover", "nowhere"], 3, "no campaign folder"),
    (["report", "nowhere"], 3, "no campaign folder"),
    (["export", "nowhere", "--format", "csv"], 3, "no campaign folder"),
]


@pytest.fixture
def bad_scripts(tmp_path, script):
    (tmp_path / "no_response.py").write_text(SCRIPT.replace("response =", "result ="))
    (tmp_path / "syntax.py").write_text(SCRIPT + "\nif True\n")
    return tmp_path


def assert_bad(proc, code, message, folder, before):
    assert_one_line_error(proc, code)
    assert message in proc.stderr, proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == before   # nothing half-created


@pytest.mark.parametrize("argv, code, message", BAD_ARGUMENTS)
def test_bad_arguments_and_inputs(argv, code, message, bad_scripts, capsys):
    before = sorted(p.name for p in bad_scripts.iterdir())
    assert_bad(medeq_inprocess(*argv, capsys=capsys), code, message, bad_scripts, before)


@pytest.mark.parametrize("index", [0, 3, 10, 12, 15])   # each kind of error, for real
def test_bad_arguments_through_the_console_script(index, bad_scripts):
    argv, code, message = BAD_ARGUMENTS[index]
    before = sorted(p.name for p in bad_scripts.iterdir())
    assert_bad(medeq_cmd(*argv, cwd=bad_scripts), code, message, bad_scripts, before)


def test_debug_shows_the_traceback(tmp_path):
    proc = medeq_cmd("show", "nowhere", "--debug", cwd=tmp_path)
    assert proc.returncode == 3
    assert "Traceback" in proc.stderr and "medeq: error: no campaign folder" in proc.stderr


def test_failing_simulation_is_a_one_line_error(tmp_path):
    (tmp_path / "crash.py").write_text(SCRIPT.replace("response =", "raise RuntimeError('boom')\nresponse ="))
    proc = medeq_cmd("run", "crash.py", "--budget", "2", "--workers", "2", cwd=tmp_path)
    assert_one_line_error(proc, 1)
    assert "every evaluation failed" in proc.stderr and "boom" in proc.stderr
    assert load_exploration(tmp_path / "med_crash")["status"]["state"] == "failed"


# -------------------------------------------------------------- a whole campaign
def test_run_show_export_discover_report(tmp_path, script):
    proc = medeq_cmd("run", script, "--dir", "camp", "--budget", "6", "--batch", "3",
                     "--workers", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "stopped: evaluation budget spent (6/6 results)" in proc.stdout
    camp = tmp_path / "camp"
    med = medeq.MED.load(camp)
    assert med.n_evaluated == 6 and len(med.queue) == 0
    a, b = med.evaluated.T
    np.testing.assert_allclose(med.responses[:, 0], 2 * a + b)

    show = medeq_cmd("show", "camp", cwd=tmp_path)
    assert show.returncode == 0, show.stderr
    for text in ("Parameters:", "results: 6", "exploration: stopped", "Results:", "Equations:",
                 "surrogate uncertainty"):
        assert text in show.stdout

    csv = medeq_cmd("export", "camp", "--format", "csv", cwd=tmp_path)
    assert csv.returncode == 0, csv.stderr
    frame = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    assert list(frame.columns) == ["a", "b", "variance", "response"] and len(frame) == 6
    np.testing.assert_allclose(frame["response"], 2 * frame["a"] + frame["b"])

    out = medeq_cmd("export", "camp", "--format", "json", "-o", "camp.json", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    data = json.loads((tmp_path / "camp.json").read_text())
    assert [p["name"] for p in data["parameters"]] == ["a", "b"]
    assert len(data["results"]) == 6 and data["queue"] == [] and data["seed"] == med.seed

    disc = medeq_cmd("discover", "camp", "--budget", "3", "--binary-operators", "+", "*",
                     cwd=tmp_path)
    assert disc.returncode == 0, disc.stderr
    best = disc.stdout.strip().splitlines()[-1]
    assert best.startswith("best equation for response: ")
    symbols = sp.symbols("a b")
    expr = sp.sympify(best.split(": ", 1)[1], locals=dict(zip("ab", symbols)))
    np.testing.assert_allclose(sp.lambdify(symbols, expr)(a, b), 2 * a + b, rtol=1e-6)
    assert (camp / "equations.csv").is_file() and not (tmp_path / "equations.csv").exists()
    assert "best " in medeq_cmd("show", "camp", cwd=tmp_path).stdout

    report = medeq_cmd("report", "camp", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert (camp / "report.html").is_file()
    assert "<html" in (camp / "report.html").read_text(encoding="utf-8").lower()


def test_run_resumes_and_extends(tmp_path, script, capsys):
    assert medeq_cmd("run", script, "--budget", "4", "--batch", "2", "-q", cwd=tmp_path).returncode == 0
    camp = tmp_path / "med_linear"          # default folder: med_<script name>
    assert medeq.MED.load(camp).n_evaluated == 4

    again = medeq_cmd("run", script, cwd=tmp_path)       # same budget: nothing to do
    assert again.returncode == 0, again.stderr
    assert "Resuming" in again.stdout and "(4/4 results)" in again.stdout
    assert "0 new" in again.stdout

    more = medeq_cmd("run", "--dir", camp, "--budget", "7", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    med = medeq.MED.load(camp)
    assert med.n_evaluated == 7 and len(np.unique(med.evaluated, axis=0)) == 7
    assert load_exploration(camp)["settings"]["budget"] == 7

    other = tmp_path / "other.py"
    other.write_text(SCRIPT)
    assert_one_line_error(medeq_inprocess("run", other, "--dir", camp, capsys=capsys), 2)
    assert_one_line_error(medeq_inprocess("run", "--dir", camp, "--seed", "3", capsys=capsys), 2)


@pytest.mark.slow  # two real campaigns, one interrupted mid-batch: ~10 s each
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_resume_after_an_interrupted_run(sig, tmp_path, script):
    camp = tmp_path / "camp"
    env = {**os.environ, "MEDEQ_TEST_SLEEP": "0.5"}
    proc = subprocess.Popen([*MEDEQ, "run", str(script), "--dir", str(camp), "--budget", "12",
                             "--batch", "2", "--workers", "2"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:   # wait for the first batch on disk, then interrupt
        record = load_exploration(camp) if (camp / "exploration.toml").exists() else {}
        if len(record.get("batches", [])) >= 1:
            break
        time.sleep(0.1)
    time.sleep(0.3)                       # into the next batch
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1].startswith("medeq: error: interrupted")
        assert f"medeq run --dir {camp}" in err and "Traceback" not in err
        assert load_exploration(camp)["status"]["state"] == "interrupted"
    else:
        assert proc.returncode == -signal.SIGKILL
    stopped = medeq.MED.load(camp)
    assert 2 <= stopped.n_evaluated < 12

    resumed = medeq_cmd("run", "--dir", camp, cwd=tmp_path, env={"MEDEQ_TEST_SLEEP": "0"})
    assert resumed.returncode == 0, resumed.stderr
    assert "(12/12 results)" in resumed.stdout
    med = medeq.MED.load(camp)
    assert med.n_evaluated == 12 and len(med.queue) == 0
    assert len(np.unique(med.evaluated, axis=0)) == 12
    np.testing.assert_allclose(med.responses[:, 0], 2 * med.evaluated[:, 0] + med.evaluated[:, 1])


# ------------------------------------------------------------------ schedulers
@pytest.mark.slow  # starts a real Dask LocalCluster
def test_run_on_dask(tmp_path, script):
    proc = medeq_cmd("run", script, "--dir", "camp", "--budget", "4", "--batch", "2",
                     "--scheduler", "dask", "--workers", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    med = medeq.MED.load(tmp_path / "camp")
    assert med.n_evaluated == 4 and type(med.scheduler).__name__ == "DaskScheduler"


def _slurm_ready() -> bool:
    if shutil.which("sinfo") is None:
        return False
    try:
        state = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True,
                               check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return state.returncode == 0 and any(s in state.stdout for s in ("idle", "mix", "alloc"))


@pytest.mark.slurm
def test_run_on_slurm(tmp_path, script):
    if not _slurm_ready():
        pytest.skip("no SLURM cluster answers sinfo (start one with scripts/start_slurm.sh)")
    proc = medeq_cmd("run", script, "--dir", "camp", "--budget", "4", "--batch", "2",
                     "--scheduler", "slurm", "--workers", "2", "--sbatch", "time=00:05:00",
                     cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    med = medeq.MED.load(tmp_path / "camp")
    assert med.n_evaluated == 4 and type(med.scheduler).__name__ == "SlurmScheduler"
    np.testing.assert_allclose(med.responses[:, 0], 2 * med.evaluated[:, 0] + med.evaluated[:, 1])


# ------------------------------------------------------------------------ demo
def _stokes_match(text: str, points: np.ndarray) -> bool:
    mu, R, v = symbols = sp.symbols("mu R v")
    expr = sp.sympify(text, locals={"mu": mu, "R": R, "v": v})
    if not expr.free_symbols <= set(symbols):
        return False
    found = sp.lambdify(symbols, expr)(*points.T)
    return bool(np.allclose(found, 6 * np.pi * points.prod(axis=1), rtol=1e-3))


@pytest.mark.slow  # a whole campaign with discovery: ~30 s on 2 cores, the demo's promise is < 60 s
def test_demo_rediscovers_stokes_law(tmp_path):
    started = time.monotonic()
    proc = medeq_cmd("demo", "--dir", "demo", cwd=tmp_path, timeout=120)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert took < 60, f"medeq demo took {took:.0f} s"
    line = next(l for l in proc.stdout.splitlines() if l.startswith("discovered law: F = "))
    med = medeq.MED.load(tmp_path / "demo")
    assert med.n_evaluated == 24
    points = np.random.default_rng(0).uniform(0.5, 2.0, (50, 3))
    assert _stokes_match(line.split(" = ", 1)[1], points)
    equations = pd.read_csv(tmp_path / "demo" / "equations.csv")
    assert any(_stokes_match(e, points) for e in equations["equation"])
    # the simulation itself is real: its responses follow Stokes' law
    np.testing.assert_allclose(med.responses[:, 0], 6 * np.pi * med.evaluated.prod(axis=1), rtol=1e-9)


def test_run_stops_on_uncertainty_target(tmp_path, script):
    proc = medeq_cmd("run", script, "--target-uncertainty", "0.3", "--time-limit", "300",
                     "--budget", "40", "--batch", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "<= target 0.3" in proc.stdout
    med = medeq.MED.load(tmp_path / "med_linear")
    assert med.n_evaluated < 40
    settings = load_exploration(tmp_path / "med_linear")["settings"]
    assert settings["target_uncertainty"] == 0.3 and settings["time_limit"] == 300


def test_show_and_export_a_campaign_made_in_python(tmp_path):
    parameters = medeq.create_parameters(["x", "y"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=4, verbose=0)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        med.augment([[0.1, 0.2], [0.5, 0.5], [0.9, 0.3]], [1.0, float("nan"), 3.0])
    med.sample(2)
    med.save(tmp_path / "py")
    show = medeq_cmd("show", "py", cwd=tmp_path)
    assert show.returncode == 0, show.stderr
    assert "results: 3 in 1 epoch(s); queued: 2" in show.stdout and "exploration:" not in show.stdout
    out = medeq_cmd("export", "py", "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [row["response"] for row in data["results"]] == [1.0, None, 3.0]
    assert len(data["queue"]) == 2 and data["equations"] == {}
