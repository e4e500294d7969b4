"""Asynchronous exploration: scheduler capacity, submit/completed/cancel, the loop, resume.

Real engines: local processes, the CI SLURM cluster (``scripts/start_slurm.sh``)
and a Dask LocalCluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import MEDEQ
from test_schedulers import job, slurm, slurm_name, squeue_count  # noqa: F401 - fixtures
from test_scripts import wait_for

import medeq
from medeq.asynchronous import refit_due
from medeq.exploration import load_exploration
from medeq.progress import format_activity
from medeq.schedulers import DaskScheduler, JobStatus, LocalScheduler, Scheduler, SlurmScheduler
from medeq.schedulers.base import collect
from medeq.surrogate import GaussianProcessSurrogate


def sleeper(seconds: float) -> str:
    return f"import time; time.sleep({seconds})"


# -------------------------------------------------------------- capacity --

def test_capacity_of_local_and_user_schedulers():
    assert LocalScheduler(3).capacity == 3
    assert LocalScheduler().capacity == (os.cpu_count() or 1)

    class Serial(Scheduler):
        def run_jobs(self, jobs, on_finish):
            for i, _ in enumerate(jobs):
                on_finish(i, JobStatus(0))

    assert Serial().capacity == 1
    with pytest.raises(TypeError, match="must implement run_jobs"):
        type("Nothing", (Scheduler,), {})()


def test_capacity_of_slurm_without_a_cluster_query():
    assert SlurmScheduler(max_parallel=16).capacity == 16


@pytest.mark.slurm
@slurm
def test_capacity_of_slurm_is_the_partition_cpus():
    done = subprocess.run(["sinfo", "-h", "-o", "%C"], capture_output=True, text=True)
    total = sum(int(line.split("/")[3]) for line in done.stdout.split())
    assert SlurmScheduler().capacity == total >= 1
    assert SlurmScheduler(partition="debug").capacity == total


def test_capacity_of_dask_follows_the_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    assert DaskScheduler().capacity == (os.cpu_count() or 1)   # before the default cluster starts
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        scheduler = DaskScheduler(client)
        assert scheduler.capacity == 2
        cluster.scale(2)                                    # an adaptive cluster grows
        client.wait_for_workers(2, timeout=60)
        assert scheduler.capacity == 4
        quick, slow = job(tmp_path, "quick", "pass"), job(tmp_path, "slow", sleeper(60))
        scheduler.submit(slow)
        scheduler.submit(quick)
        assert scheduler.completed(timeout=0.01) == [] or True   # may or may not be done yet
        ended = []
        wait_for(lambda: ended.extend(scheduler.completed(timeout=1)) or ended, 60, "the quick job")
        assert [j.id for j, _ in ended] == ["quick"] and ended[0][1].returncode == 0
        scheduler.cancel()
        assert scheduler.completed(timeout=0.1) == []
    finally:
        client.close()
        cluster.close()


# ------------------------------------------------- submit / completed / cancel --

def test_local_reports_jobs_as_they_end_and_cancels(tmp_path):
    scheduler = LocalScheduler(2)
    slow = job(tmp_path, "slow", "import os, time; open('pid', 'w').write(str(os.getpid())); "
                                 "time.sleep(60)")
    quick = job(tmp_path, "quick", sleeper(0.2))
    queued = job(tmp_path, "queued", "pass")
    for j in (slow, quick, queued):        # more than the capacity: the third waits for a slot
        scheduler.submit(j)
    assert not (queued.stdout).exists()
    first = scheduler.completed()
    assert [j.id for j, _ in first] == ["quick"]
    second = scheduler.completed()
    assert [j.id for j, _ in second] == ["queued"] and second[0][1].returncode == 0
    assert scheduler.completed(timeout=0.2) == []           # the slow one still runs
    wait_for(lambda: (slow.directory / "pid").exists(), 30, "the slow job's pid")
    pid = int((slow.directory / "pid").read_text())
    scheduler.cancel([slow])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert scheduler.completed(timeout=0.2) == []           # a cancelled job is not reported


def test_run_jobs_is_built_on_submit_and_completed(tmp_path):
    jobs = [job(tmp_path, f"j{i}", sleeper(2.0 * (2 - i))) for i in range(3)]
    order = []
    LocalScheduler(3).run_jobs(jobs, lambda index, status: order.append(index))
    assert order == [2, 1, 0]
    assert all(o.error for o in collect(LocalScheduler(2), jobs))   # no result.json: failed jobs


# ------------------------------------------------------------------ the loop --

def logged_call(sample):
    """Sleep a little and log when (and where) this call ran."""
    import os
    import time

    start = time.time()
    time.sleep(0.3 + 0.4 * sample[0])
    with open(os.environ["MEDEQ_TEST_LOG"], "a") as log:
        log.write(f"{start} {time.time()}\n")
    return float(sample[0] + sample[1] ** 2)


def most_at_once(path: Path) -> int:
    spans = [tuple(map(float, line.split())) for line in path.read_text().splitlines()]
    return max(sum(s <= t < e for s, e in spans) for t, _ in spans)


def test_explore_keeps_capacity_jobs_in_flight_and_never_overshoots(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEQ_TEST_LOG", str(tmp_path / "calls.log"))
    parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=3, verbose=0, scheduler=LocalScheduler(3))
    result = med.explore(logged_call, budget=13, directory=tmp_path / "campaign")
    assert med.n_evaluated == 13 and len(med.queue) == 0
    assert len((tmp_path / "calls.log").read_text().splitlines()) == 13   # no extra job ran
    assert most_at_once(tmp_path / "calls.log") == 3
    assert np.isfinite(med.responses).all()
    # one epoch per block of results between refits; they tile the results
    assert med.epochs[0][0] == 0 and med.epochs[-1][1] == 13
    assert all(a[1] == b[0] for a, b in zip(med.epochs, med.epochs[1:]))
    assert result.batches == len(med.epochs)
    record = load_exploration(tmp_path / "campaign")
    assert record["settings"]["mode"] == "auto"
    assert record["status"]["finished"] == 13 and record["status"]["in_flight"] == 0
    loaded = medeq.MED.load(tmp_path / "campaign")
    np.testing.assert_array_equal(loaded.responses, med.responses)
    # resuming with a larger budget continues asynchronously from the saved campaign
    loaded.scheduler = LocalScheduler(3)
    loaded.explore(logged_call, budget=16)
    assert loaded.n_evaluated == 16 and len(loaded.queue) == 0


def test_batch_mode_keeps_synchronous_epochs(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEQ_TEST_LOG", str(tmp_path / "calls.log"))
    parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=3, verbose=0, scheduler=LocalScheduler(3))
    med.explore(logged_call, budget=9, mode="batch", save=False)
    assert med.epochs == [(0, 3), (3, 6), (6, 9)]
    with pytest.raises(ValueError, match="mode must be one of"):
        med.explore(logged_call, budget=12, mode="fast")
    alone = medeq.MED(parameters, seed=3, verbose=0)
    with pytest.raises(ValueError, match="needs a scheduler"):
        alone.explore(logged_call, budget=4, mode="async")


def test_time_limit_awaits_or_cancels_the_jobs_in_flight(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(textwrap.dedent("""\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["a"], [0.0], [1.0])
        # MED PARAMETERS END
        import time
        time.sleep(3 + parameters["value"]["a"])
        response = parameters["value"]["a"]
    """))
    med = medeq.MED(script, scheduler=LocalScheduler(2), seed=1, verbose=0)
    start = time.monotonic()
    med.explore(time_limit=0.5, directory=tmp_path / "await")
    assert med.n_evaluated == 2 and time.monotonic() - start >= 3   # the running jobs finished
    med = medeq.MED(script, scheduler=LocalScheduler(2), seed=2, verbose=0)
    start = time.monotonic()
    result = med.explore(time_limit=0.5, cancel_on_stop=True, directory=tmp_path / "cancel")
    assert time.monotonic() - start < 3 and "time limit" in result.reason
    assert med.n_evaluated == 0 and len(med.queue) >= 2    # cancelled samples stay queued


def test_failures_are_nan_rows_and_all_failing_is_an_error(tmp_path, monkeypatch):
    parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=5, verbose=0, scheduler=LocalScheduler(2))
    med.explore(fail_right_half, budget=8, save=False)
    assert med.n_evaluated == 8
    failed = med.evaluated[:, 0] > 0.5
    assert np.isnan(med.responses[failed, 0]).all() and np.isfinite(med.responses[~failed, 0]).all()
    med = medeq.MED(parameters, seed=5, verbose=0, scheduler=LocalScheduler(2))
    with pytest.raises(RuntimeError, match="every evaluation failed"):
        med.explore(always_fail, budget=8, save=False)
    assert med.n_evaluated == 0


def fail_right_half(sample):
    if sample[0] > 0.5:
        raise ValueError("right half")
    return float(sample[0])


def always_fail(sample):
    raise ValueError("broken")


def test_conditioned_surrogate_is_the_exact_posterior():
    rng = np.random.default_rng(0)
    x = rng.random((40, 3))
    y = np.sin(4 * x).sum(axis=1)
    y[35] = np.nan                                         # left out, as in fit
    model = GaussianProcessSurrogate(seed=0).fit(x[:30], y[:30])
    updated = model.conditioned(x[30:], y[30:])
    assert updated is not model and model.n_train == 30 and updated.n_train == 39
    exact = GaussianProcessSurrogate(seed=0)
    exact.__dict__.update(model.__dict__)
    keep = np.isfinite(y)
    exact._condition(x[keep], (y[keep] - model.mean_) / model.scale_, np.full(keep.sum(), 1e-8))
    test = rng.random((20, 3))
    for a, b in zip(updated.predict(test), exact.predict(test)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_refit_rule():
    assert refit_due(3, 2, capacity=8)                 # small campaigns: every result
    assert not refit_due(104, 100, capacity=8) and refit_due(108, 100, capacity=8)
    assert refit_due(101, 100, capacity=1)


def test_activity_line():
    line = format_activity({"in_flight": 3, "finished": 7, "failed": 1, "busy_workers": 3,
                            "capacity": 4, "eta_seconds": 61.2})
    assert line == "3 in flight, 7 finished, 1 failed, 3/4 workers busy, ~61 s left"


# ------------------------------------------------------------ SIGKILL, resume --

RESUME_SCRIPT = """\
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
# MED PARAMETERS END
import os, time
a, b = parameters["value"]
tag = f"{float(a):.12g}-{float(b):.12g}"
log = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs.log")
with open(log, "a") as f:
    f.write(f"start {tag}\\n")
time.sleep(0.4 + 0.8 * a)
with open(log, "a") as f:
    f.write(f"end {tag}\\n")
response = a + b ** 2
"""


def read_runs(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return ([l.split()[1] for l in lines if l.startswith("start")],
            [l.split()[1] for l in lines if l.startswith("end")])


def results_count(folder: Path) -> int:
    try:
        return len(pd.read_csv(folder / "results.csv", comment="#"))
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return 0


@pytest.mark.slow
def test_resume_after_sigkill_repeats_no_finished_job_and_loses_no_result(tmp_path):
    (tmp_path / "sim.py").write_text(RESUME_SCRIPT)
    folder = tmp_path / "campaign"
    command = [*MEDEQ, "run", "sim.py", "--dir", str(folder), "--budget", "14", "--workers", "3",
               "--seed", "4"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: results_count(folder) >= 5, 120, "5 results")
    finally:
        process.kill()                                   # SIGKILL: no clean-up at all
        process.wait()
    started, ended = read_runs(tmp_path / "runs.log")
    assert 5 <= len(ended) < 14
    show = subprocess.run([*MEDEQ, "show", str(folder)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert show.returncode == 0 and " in flight, " in show.stdout    # the run looked alive
    resumed = subprocess.run([*MEDEQ, "run", "--dir", str(folder)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    med = medeq.MED.load(folder)
    assert med.n_evaluated == 14 and len(med.queue) == 0 and np.isfinite(med.responses).all()
    _, all_ended = read_runs(tmp_path / "runs.log")
    assert len(all_ended) == len(set(all_ended)) == 14   # no finished job ran twice
    recorded = {f"{float(a):.12g}-{float(b):.12g}" for a, b in med.evaluated}
    assert set(ended) <= recorded                         # every result before the kill kept


# ------------------------------------------------------------------- SLURM --

@pytest.mark.slurm
@pytest.mark.slow
@slurm
def test_medeq_run_keeps_16_slurm_jobs_in_flight(tmp_path, slurm_name):
    (tmp_path / "sim.py").write_text(textwrap.dedent("""\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["a", "b", "c"], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
        # MED PARAMETERS END
        import time
        time.sleep(1.0)
        response = float(parameters["value"].sum())
    """))
    counts: list[int] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            counts.append(squeue_count(slurm_name))     # pending + running tasks
            time.sleep(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc = subprocess.run(
            [*MEDEQ, "run", "sim.py", "--scheduler", "slurm", "--workers", "16", "--budget", "20",
             "--sbatch", f"job_name={slurm_name}", "--dir", "campaign"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    finally:
        done.set()
        watcher.join()
    assert proc.returncode == 0, proc.stderr
    assert max(counts) == 16 and counts.count(16) >= 2        # the 2 CPUs run 2, 14 wait
    med = medeq.MED.load(tmp_path / "campaign")
    assert med.n_evaluated == 20 and np.isfinite(med.responses).all()
    ids = [json.loads(p.read_text())["task"] for p in (tmp_path / "campaign" / "outputs").glob("*/slurm_job.json")]
    assert len(ids) == 20 == len(set(ids))


@pytest.mark.slurm
@slurm
def test_slurm_collects_a_running_job_instead_of_resubmitting(tmp_path, slurm_name):
    running = job(tmp_path, "j", "import time; time.sleep(3); open('done', 'w').write('1')")
    first = SlurmScheduler(job_name=slurm_name, poll_interval=0.2)
    first.submit(running)
    assert first.completed(timeout=0.5) == []               # submitted, still running
    task = json.loads((running.directory / "slurm_job.json").read_text())["task"]
    # a new process (a resumed campaign) submits the same job: it is adopted, not resubmitted
    second = SlurmScheduler(job_name=slurm_name, poll_interval=0.2)
    second.submit(running)
    ended = []
    wait_for(lambda: ended.extend(second.completed(timeout=1)) or ended, 120, "the adopted job")
    assert ended[0][0] is running and ended[0][1].returncode == 0
    assert json.loads((running.directory / "slurm_job.json").read_text())["task"] == task
    assert not list((tmp_path / "_slurm").glob("*-2"))       # one submission only
