"""Benchmark: medeq's script jobs against the physical limit of bare processes.

For N jobs of a trivial MED script, compare the wall time of

* the physical limit: N bare ``python script.py`` processes through
  ``xargs -P <workers> setsid --wait`` (no medeq machinery at all), and
* medeq: ``run_script_jobs`` (write job.json, run the job bootstrap with the
  sample injected, collect result.json) through ``LocalScheduler``, and -
  where they run - ``SlurmScheduler`` and ``DaskScheduler`` (a LocalCluster
  with one single-threaded worker per core, started before timing).

Two scripts: the reference example (its parameters block imports medeq, so a
bare run imports medeq while a medeq job replaces the block) and a minimal
script whose block builds the DataFrame with pandas alone (both sides import
pandas: the strict comparison).

Usage::

    python benchmarks/parallel.py                      # 64 and 256 jobs, all engines
    python benchmarks/parallel.py --jobs 256 --engines local --repeat 3

Prints a table and a summary line; the target is LocalScheduler / xargs
<= 1.15 at 256 jobs. Each engine's row has its own bare runs, alternated
with the medeq runs (best of ``--repeat`` for each side). "CPU ratio" (local
only) compares the CPU time of all processes on both sides: unlike wall
times it does not depend on what else the machine is running.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from medeq.schedulers import DaskScheduler, LocalScheduler, SlurmScheduler
from medeq.scripts import Script, run_script_jobs

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "simulation_script.py"
MINIMAL = """\
# MED PARAMETERS START
import pandas as pd
parameters = pd.DataFrame({"value": [2.5, 2.5], "min": [-5.0, -5.0], "max": [10.0, 10.0]},
                          index=["A", "B"])
# MED PARAMETERS END
values = parameters["value"]
response = values["A"] ** 2 + values["B"] ** 2
"""


def cpu_seconds() -> float:
    """CPU time of this process plus its reaped descendants (user + system)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare(script: Path, n: int, workers: int) -> tuple[float, float]:
    """Wall time of n ``python script`` processes through ``xargs -P workers``.

    Each process gets its own session (``setsid``), as medeq's jobs do: with
    the kernel's autogroup scheduling, a session is the unit of CPU fairness,
    so on a shared machine this keeps the two sides comparable.
    """
    start, cpu = time.perf_counter(), cpu_seconds()
    subprocess.run(
        f"seq {n} | xargs -P {workers} -I{{}} setsid --wait {sys.executable} {script} > /dev/null",
        shell=True, check=True, cwd=tempfile.gettempdir(),
    )
    return time.perf_counter() - start, cpu_seconds() - cpu


def medeq_jobs(script: Script, scheduler, n: int, seed: int, folder: str) -> tuple[float, float]:
    """Wall and CPU time of run_script_jobs for n fresh samples into a fresh outputs folder.

    The CPU time covers this process and local job processes only (not
    SLURM tasks or Dask workers).
    """
    lower, upper = script.parameters["min"].to_numpy(), script.parameters["max"].to_numpy()
    samples = np.random.default_rng(seed).uniform(lower, upper, (n, len(lower)))
    with tempfile.TemporaryDirectory(prefix="medeq-bench-", dir=folder) as campaign:
        start, cpu = time.perf_counter(), cpu_seconds()
        outcomes = run_script_jobs(script, scheduler, samples, list(script.parameters.index),
                                   Path(campaign) / "outputs", verbose=0)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    failed = [o.error for o in outcomes if o.failed]
    if failed:
        raise RuntimeError(f"{len(failed)} benchmark job(s) failed, e.g. {failed[0]}")
    return elapsed, cpu


def slurm_ready() -> bool:
    if shutil.which("sinfo") is None:
        return False
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return done.returncode == 0 and bool({"idle", "mixed"} & set(done.stdout.split()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--engines", nargs="+", default=["local", "slurm", "dask"],
                        choices=["local", "slurm", "dask"])
    parser.add_argument("--scripts", nargs="+", default=["reference", "minimal"],
                        choices=["reference", "minimal"])
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument("--folder", default=tempfile.gettempdir(),
                        help="where job folders go (must be shared with SLURM/Dask workers)")
    args = parser.parse_args()

    engines = {"local": LocalScheduler(max_workers=args.workers)}
    if "slurm" in args.engines and slurm_ready():
        engines["slurm"] = SlurmScheduler(poll_interval=0.2, job_name="medeq-bench")
    elif "slurm" in args.engines:
        print("# SLURM skipped: no idle node (start it with `bash scripts/start_slurm.sh` (root or sudo))")
    dask = None
    if "dask" in args.engines:
        dask = DaskScheduler()
        dask.client.wait_for_workers(os.cpu_count() or 1)
        engines["dask"] = dask
    engines = {k: v for k, v in engines.items() if k in args.engines}

    scratch = Path(tempfile.mkdtemp(prefix="medeq-bench-scripts-"))
    minimal = scratch / "minimal_script.py"
    minimal.write_text(MINIMAL)
    scripts = {"reference": REFERENCE, "minimal": minimal}

    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"workers={args.workers}, best of {args.repeat}, load average {os.getloadavg()[0]:.2f}")
    header = f"{'script':<10} {'engine':<6} {'jobs':>5} {'bare xargs s':>13} {'medeq s':>8} " \
             f"{'ratio':>6} {'overhead ms/job':>16} {'CPU ratio':>10}"
    print(header)
    print("-" * len(header))
    summary = {}
    for label in args.scripts:
        path = scripts[label]
        script = Script.load(path)
        for n in args.jobs:
            for engine, scheduler in engines.items():
                # Alternate the two sides so that a change in machine load hits both.
                runs = [(bare(path, n, args.workers), medeq_jobs(script, scheduler, n, seed, args.folder))
                        for seed in range(args.repeat)]
                (t_bare, c_bare), (t_ours, c_ours) = (min(side) for side in zip(*runs))
                ratio = t_ours / t_bare
                overhead = (t_ours - t_bare) / n * 1000
                cpu = f"{c_ours / c_bare:.3f}" if engine == "local" else "-"
                summary[(label, engine, n)] = ratio
                print(f"{label:<10} {engine:<6} {n:>5} {t_bare:>13.2f} {t_ours:>8.2f} "
                      f"{ratio:>6.2f} {overhead:>16.1f} {cpu:>10}", flush=True)
    if dask is not None:
        dask.close()
    shutil.rmtree(scratch, ignore_errors=True)

    n = max(args.jobs)
    worst = max((r for (s, e, k), r in summary.items() if e == "local" and k == n), default=None)
    if worst is not None:
        verdict = "meets" if worst <= 1.15 else "misses"
        print(f"parallel: LocalScheduler / xargs -P {args.workers} ratio at {n} jobs = {worst:.2f} "
              f"(worst script; target <= 1.15: {verdict})")


if __name__ == "__main__":
    main()
