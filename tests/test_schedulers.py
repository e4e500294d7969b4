"""Schedulers on real engines: local processes, a SLURM cluster, a Dask LocalCluster.

SLURM tests need a running cluster (``bash scripts/start_slurm.sh``, as root or with sudo, which
``.ci/run`` calls); they skip with that hint when none answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from test_scripts import alive, wait_for

from medeq.responses import EvaluationInterrupted
from medeq.schedulers import (
    BUILTIN_SCHEDULERS,
    DaskScheduler,
    Job,
    JobStatus,
    LocalScheduler,
    Scheduler,
    SlurmScheduler,
)
from medeq.schedulers.base import collect
from medeq.scripts import Script, run_script_jobs

SCRIPT = """\
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters(["A"], [0.], [10.])
# MED PARAMETERS END
import os, signal, sys, time
a = parameters["value"]["A"]
print("job", a, os.environ.get("SLURM_ARRAY_TASK_ID"))
if a == 1:
    raise RuntimeError("crash on purpose")
if a == 2:
    os.kill(os.getpid(), signal.SIGKILL)
if a == 3:
    time.sleep(60)
response = [a, a ** 2]
"""


def job(tmp_path: Path, name: str, code: str) -> Job:
    directory = tmp_path / name
    directory.mkdir(parents=True, exist_ok=True)
    return Job(id=name, args=("-c", textwrap.dedent(code)), directory=directory)


def ctrl_c_when(condition, timeout=60.0):
    """Send this process a real SIGINT (Ctrl-C) once ``condition()`` holds."""
    def watch():
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def pids_in(paths) -> list[int]:
    return [int(p.read_text()) for p in paths if p.exists() and p.read_text().strip()]


def square_or_fail(x):
    if x[0] > 5:
        raise ValueError(f"too big: {x[0]}")
    if x[0] < 0:
        os._exit(3)
    return {"sq": float(x[0] ** 2), "sum": float(x.sum())}


def check_script_outcomes(outcomes, slow_fails: str | None):
    """Outcomes of SCRIPT for A = 0, 1, 2, 4 (+ 3 when slow_fails is given)."""
    ok, crashed, killed, ok2 = outcomes[:4]
    assert ok.value == [0.0, 0.0] and ok2.value == [4.0, 16.0]
    assert "RuntimeError: crash on purpose" in crashed.error
    assert "RuntimeError" in (Path(crashed.logs) / "stderr.log").read_text()
    assert "killed by SIGKILL" in killed.error
    assert (Path(killed.logs) / "stdout.log").read_text().startswith("job 2.0")
    if slow_fails:
        assert slow_fails in outcomes[4].error


def run_script(tmp_path, scheduler, samples):
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    script = Script.load(path)
    return run_script_jobs(script, scheduler, np.array(samples, float)[:, None], ["A"],
                           tmp_path / "outputs", verbose=0)


# ------------------------------------------------------------ interface --

class SerialScheduler(Scheduler):
    """A user-written scheduler: only run_jobs."""

    def run_jobs(self, jobs, on_finish):
        for i, j in enumerate(jobs):
            with open(j.stdout, "w") as out, open(j.stderr, "w") as err:
                code = subprocess.call([sys.executable, *j.args], cwd=j.directory,
                                       stdout=out, stderr=err)
            on_finish(i, JobStatus(code))


def test_user_scheduler_runs_scripts_and_functions(tmp_path):
    outcomes = run_script(tmp_path, SerialScheduler(), [0, 1, 2, 4])
    check_script_outcomes(outcomes, None)
    outcomes = SerialScheduler().map(square_or_fail, [[2.0, 1.0], [6.0, 0.0]], directory=tmp_path / "calls")
    assert outcomes[0].value == {"sq": 4.0, "sum": 3.0}
    assert "too big: 6.0" in outcomes[1].error
    assert repr(SerialScheduler()) == "SerialScheduler()" and SerialScheduler().settings() == {}


def test_scheduler_that_forgets_jobs_is_an_error(tmp_path):
    class Lazy(Scheduler):
        def run_jobs(self, jobs, on_finish):
            pass

    with pytest.raises(RuntimeError, match="on_finish once for every job"):
        collect(Lazy(), [job(tmp_path, "a", "pass")])


@pytest.mark.parametrize("scheduler", [
    LocalScheduler(), LocalScheduler(3, python_executable=["python3", "-X", "utf8"], timeout=5.5),
    SlurmScheduler(partition="debug", time="00:10:00", mem="1G", cpus_per_task=2),
    DaskScheduler("tcp://127.0.0.1:8786", timeout=3),
])
def test_settings_rebuild_the_scheduler(scheduler):
    cls = BUILTIN_SCHEDULERS[type(scheduler).__name__]
    rebuilt = cls(**scheduler.settings())
    assert repr(rebuilt) == repr(scheduler)
    assert sys.executable not in str(scheduler.settings())   # the default is not pinned


def test_local_repr_and_validation():
    assert repr(LocalScheduler(2)) == "LocalScheduler(max_workers=2)"   # as given
    for bad in ({"max_workers": 0}, {"timeout": -1}, {"python_executable": []}):
        with pytest.raises(ValueError):
            LocalScheduler(**bad)
    with pytest.raises(ValueError, match="set by SlurmScheduler"):
        SlurmScheduler(array="0-3")
    with pytest.raises(TypeError, match="client must be"):
        DaskScheduler(client=3)


# ---------------------------------------------------------------- local --

def test_local_limits_workers_and_collects_each_result_at_once(tmp_path):
    code = """
        import time, sys
        start = time.time(); time.sleep({d}); open("span", "w").write(f"{{start}} {{time.time()}}")
    """
    durations = [4.0, 0.3, 0.3, 0.3, 0.3, 0.3]
    jobs = [job(tmp_path, f"j{i}", code.format(d=d)) for i, d in enumerate(durations)]
    order, reported = [], {}
    start = time.monotonic()
    LocalScheduler(max_workers=2).run_jobs(
        jobs, lambda i, status: (order.append(i), reported.__setitem__(i, time.time())))
    elapsed = time.monotonic() - start
    spans = [tuple(map(float, (j.directory / "span").read_text().split())) for j in jobs]
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    assert max(np.cumsum([e for _, e in events])) <= 2
    assert order[-1] == 0                      # the long job did not hold the others back
    assert elapsed < sum(durations)
    lags = [reported[i] - spans[i][1] for i in range(len(jobs))]
    assert max(lags) < 1.0, lags               # reported as soon as each process ended


def test_local_timeout_kills_the_whole_process_group(tmp_path):
    slow = job(tmp_path, "slow", """
        import subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        open("child", "w").write(str(child.pid))
        time.sleep(60)
    """)
    quick = job(tmp_path, "quick", "print('done')")
    statuses = {}
    start = time.monotonic()
    LocalScheduler(2, timeout=1).run_jobs([slow, quick], statuses.__setitem__)
    assert time.monotonic() - start < 10
    assert statuses[1] == JobStatus(0)
    assert statuses[0].returncode == -signal.SIGTERM and "timed out after 1 s" in statuses[0].error
    (grandchild,) = pids_in([slow.directory / "child"])
    wait_for(lambda: not alive(grandchild), 5, "the job's own child to be killed")


def test_local_ctrl_c_terminates_running_jobs(tmp_path):
    jobs = [job(tmp_path, f"j{i}", "import os, time; open('pid', 'w').write(str(os.getpid())); "
                                    "time.sleep(60)") for i in range(2)]
    jobs.append(job(tmp_path, "fast", "import json; json.dump({'response': 1.0}, open('result.json', 'w'))"))
    pid_files = [j.directory / "pid" for j in jobs[:2]]
    reported = []
    ctrl_c_when(lambda: len(pids_in(pid_files)) == 2 and reported == [2])
    with pytest.raises(EvaluationInterrupted) as info:
        collect(LocalScheduler(max_workers=3), jobs, on_outcome=lambda i, o: reported.append(i))
    assert list(info.value.finished) == [2] and info.value.finished[2].value == 1.0
    for pid in pids_in(pid_files):
        assert not alive(pid)


def test_local_map_functions(tmp_path):
    scale = 3.0
    outcomes = LocalScheduler(2).map(lambda x: scale * x[0], [[1.0], [2.0]])
    assert [o.value for o in outcomes] == [3.0, 6.0]
    outcomes = LocalScheduler(2).map(square_or_fail, np.array([[1.0, 2.0], [7.0, 0.0], [-1.0, 0.0]]),
                                     directory=tmp_path / "calls")
    assert outcomes[0].value == {"sq": 1.0, "sum": 3.0}
    assert "ValueError: too big: 7.0" in outcomes[1].error
    assert "exited with code 3" in outcomes[2].error
    assert (Path(outcomes[1].logs) / "stderr.log").read_text().count("ValueError") == 1
    lock = threading.Lock()
    with pytest.raises(TypeError, match="cannot be pickled"):
        LocalScheduler().map(lambda x: lock.locked(), [[1.0]])


def test_local_python_behind_a_wrapper_command(tmp_path):
    wrapper = ["sh", "-c", '"$0" "$@"; code=$?; echo wrapped >&2; exit $code', sys.executable]
    outcomes = LocalScheduler(2, python_executable=wrapper).map(
        square_or_fail, [[1.0, 1.0], [8.0, 0.0]], directory=tmp_path)
    assert outcomes[0].value == {"sq": 1.0, "sum": 2.0} and "too big" in outcomes[1].error
    assert (Path(outcomes[0].logs) / "stderr.log").read_text() == "wrapped\n"


def test_local_scripts(tmp_path):
    outcomes = run_script(tmp_path, LocalScheduler(2, timeout=5), [0, 1, 2, 4, 3])
    check_script_outcomes(outcomes, "timed out after 5 s")


# ---------------------------------------------------------------- SLURM --

def slurm_ready() -> str | None:
    """None when a SLURM cluster answers with an idle node, else why not."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "SLURM client commands not found: apt-get install -y slurm-wlm munge"
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "sinfo timed out"
    if done.returncode != 0:
        return f"sinfo failed ({done.stderr.strip()})"
    if not {"idle", "mixed", "allocated"} & set(done.stdout.split()):
        return f"no usable SLURM node (sinfo states: {done.stdout.split()})"
    return None


slurm = pytest.mark.skipif(
    slurm_ready() is not None,
    reason=f"SLURM is not running ({slurm_ready()}); start a single-node cluster with "
           "`bash scripts/start_slurm.sh` (root or sudo)",
)


@pytest.fixture
def slurm_name():
    name = f"medeq-test-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["scancel", "-n", name], capture_output=True)


def squeue_count(name: str) -> int:
    done = subprocess.run(["squeue", "-h", "-r", "-n", name, "-o", "%i"], capture_output=True, text=True)
    return len(done.stdout.split())


@pytest.mark.slurm
@slurm
def test_slurm_scripts_and_failed_tasks(tmp_path, slurm_name):
    scheduler = SlurmScheduler(job_name=slurm_name, poll_interval=0.2, time="00:05:00")
    outcomes = run_script(tmp_path, scheduler, [0, 1, 2, 4])
    check_script_outcomes(outcomes, None)
    assert "job 0.0 " in (Path(outcomes[0].logs) / "stdout.log").read_text()
    task_logs = list((tmp_path / "outputs" / "_slurm").glob("*/task-*.log"))
    assert len(task_logs) == 4


@pytest.mark.slurm
@slurm
def test_slurm_options_reach_the_tasks_and_lost_tasks_fail(tmp_path, slurm_name):
    scheduler = SlurmScheduler(job_name=slurm_name, poll_interval=0.2, cpus_per_task=1,
                               mem="200M", partition="debug")
    env = job(tmp_path, "env", """
        import os
        print(os.environ["SLURM_JOB_NAME"], os.environ["SLURM_CPUS_PER_TASK"],
              os.environ["SLURM_JOB_PARTITION"], os.environ["SLURM_MEM_PER_NODE"])
    """)
    lost = job(tmp_path, "lost", "import os, signal; os.kill(os.getppid(), signal.SIGKILL)")
    statuses = {}
    scheduler.run_jobs([env, lost], statuses.__setitem__)
    assert statuses[0] == JobStatus(0)
    assert env.stdout.read_text().split() == [slurm_name, "1", "debug", "200"]
    assert statuses[1].returncode is None and "ended without finishing" in statuses[1].error
    assert "task-1.log" in statuses[1].error


@pytest.mark.slurm
@slurm
def test_slurm_refused_submission_is_explained(tmp_path, slurm_name):
    scheduler = SlurmScheduler(job_name=slurm_name, partition="no-such-partition")
    with pytest.raises(RuntimeError, match="sbatch refused"):
        scheduler.run_jobs([job(tmp_path, "a", "pass")], lambda i, s: None)


@pytest.mark.slurm
@slurm
def test_slurm_ctrl_c_cancels_the_array(tmp_path, slurm_name):
    jobs = [job(tmp_path, f"j{i}", "import time; time.sleep(60)") for i in range(3)]
    ctrl_c_when(lambda: squeue_count(slurm_name) == 3)
    with pytest.raises(EvaluationInterrupted) as info:
        collect(SlurmScheduler(job_name=slurm_name, poll_interval=0.2), jobs)
    assert info.value.finished == {}
    wait_for(lambda: squeue_count(slurm_name) == 0, 30, "scancel to empty the queue")


@pytest.mark.slurm
@slurm
def test_slurm_map(tmp_path, slurm_name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcomes = SlurmScheduler(job_name=slurm_name, poll_interval=0.2).map(
        square_or_fail, [[2.0, 0.5], [9.0, 0.0]])
    assert outcomes[0].value == {"sq": 4.0, "sum": 2.5}
    assert "too big" in outcomes[1].error


# ----------------------------------------------------------------- Dask --

@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="pip install 'dask[distributed]'")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_scripts_with_timeout(tmp_path, dask_client):
    outcomes = run_script(tmp_path, DaskScheduler(dask_client, timeout=5), [0, 1, 2, 4, 3])
    check_script_outcomes(outcomes, "timed out after 5 s")


def test_dask_by_address_and_map(tmp_path, dask_client):
    scheduler = DaskScheduler(dask_client.scheduler.address)
    assert scheduler.settings() == {"client": dask_client.scheduler.address}
    try:
        outcomes = scheduler.map(square_or_fail, [[3.0, 1.0], [6.0, 0.0]])
        assert outcomes[0].value == {"sq": 9.0, "sum": 4.0}
        assert "too big: 6.0" in outcomes[1].error
    finally:
        scheduler.close()


def test_dask_ctrl_c_cancels_and_kills_jobs(tmp_path, dask_client):
    jobs = [job(tmp_path, f"j{i}", "import os, time; open('pid', 'w').write(str(os.getpid())); "
                                    "time.sleep(60)") for i in range(2)]
    pid_files = [j.directory / "pid" for j in jobs]
    ctrl_c_when(lambda: len(pids_in(pid_files)) == 2)
    with pytest.raises(EvaluationInterrupted):
        collect(DaskScheduler(dask_client), jobs)
    pids = pids_in(pid_files)
    wait_for(lambda: not any(alive(pid) for pid in pids), 10, "the Dask jobs to be killed")


def test_dask_default_local_cluster(tmp_path):
    scheduler = DaskScheduler()
    try:
        assert [o.value for o in scheduler.map(lambda x: x[0] + 1, [[1.0], [2.0]])] == [2.0, 3.0]
        assert len(scheduler.client.scheduler_info()["workers"]) == (os.cpu_count() or 1)
    finally:
        scheduler.close()
