"""Does asynchronous exploration keep the workers busy, without a worse design?

A script campaign whose jobs sleep a lognormal time (median 2 s, log-sd 0.8)
derived from their sample (a hash of its values), then return a test
function of ``benchmarks/sampling.py`` (default ``friedman``, d = 5), is
explored with ``explore(budget=48)`` on ``LocalScheduler(max_workers=8)``
(or SLURM with ``--scheduler slurm``). Printed per seed:

* utilisation: busy job-seconds / (workers x wall seconds of ``explore``),
  where a job is busy from its process's start (Python start-up and imports
  included) to its end - on SLURM from the script's start, since a pending
  job holds no worker; also the share of that doing the script's work
  (sleep and function), and the bound of a perfect non-clairvoyant
  schedule of the same jobs (each starts the instant a worker frees, no
  overhead): with a budget, the last jobs leave workers idle whatever the
  scheduler does;
* wall against the ideal (busy / workers);
* the design's nRMSE with ``sampling.py``'s fixed reference GP, against
  Latin hypercube designs of the same size, and against batch mode at the
  same budget (batch mode's design does not depend on job times, so it is
  built with the function evaluated in-process; ``--batch-timing`` also runs
  it with the sleeping jobs, to time it).

``--pick`` times the asynchronous step at d = 6 with 500 results: picking the
next sample with ``workers - 1`` samples in flight, and conditioning the
surrogate on one more result. Run from the repository root::

    python benchmarks/async.py                      # seeds 0-1, local, 8 workers
    python benchmarks/async.py --seeds 1 --batch-timing
    python benchmarks/async.py --scheduler slurm --workers 2 --budget 16 --seeds 1
    python benchmarks/async.py --pick
    python benchmarks/async.py --bound              # what any non-clairvoyant scheduler can reach
    python benchmarks/async.py --bound --overhead 0.5
    python benchmarks/async.py --simulate branin ishigami friedman otl_circuit --seeds 3

``--simulate`` compares only design quality, cheaply: the jobs run in this
process and are reported in the order 8 workers would finish them.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import platform
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import cloudpickle
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sampling import FUNCTIONS, make_parameters, reference_nrmse  # noqa: E402

import medeq  # noqa: E402
from medeq import _jobrunner  # noqa: E402
from medeq.parameters import from_unit, to_unit  # noqa: E402

SCRIPT = """\
import hashlib, json, math, os, statistics, time
import numpy as np
# MED PARAMETERS START
import medeq
parameters = medeq.create_parameters({names!r}, {lower!r}, {upper!r})
# MED PARAMETERS END
start = time.time()
x = parameters["value"].to_numpy(dtype=float)
u = int(hashlib.sha1(x.tobytes()).hexdigest()[:12], 16) / 16**12
z = statistics.NormalDist().inv_cdf(min(max(u, 1e-9), 1 - 1e-9))
time.sleep({median} * math.exp({sigma} * z))
{source}
response = float({name}(x[None, :])[0])
end = time.time()
with open("/proc/self/stat") as stat:       # the process start, in clock ticks after boot
    ticks = float(stat.read().rsplit(")", 1)[1].split()[19])
with open("/proc/stat") as stat:
    boot = float(next(line for line in stat if line.startswith("btime")).split()[1])
extra = {{"work": end - start, "process": end - boot - ticks / os.sysconf("SC_CLK_TCK")}}
"""
#: Functions of sampling.py whose source is self-contained (numpy only).
SELF_CONTAINED = ("branin", "ishigami", "friedman", "borehole", "otl_circuit")


def write_script(folder: Path, name: str, median: float, sigma: float) -> Path:
    function, bounds, _ = FUNCTIONS[name]
    lower, upper = np.array(bounds, float).T
    path = folder / f"{name}_sleepy.py"
    path.write_text(SCRIPT.format(
        names=[f"x{i}" for i in range(len(bounds))], lower=lower.tolist(), upper=upper.tolist(),
        median=median, sigma=sigma, source=textwrap.dedent(inspect.getsource(function)),
        name=function.__name__))
    return path


def scheduler(kind: str, workers: int):
    if kind == "slurm":
        return medeq.SlurmScheduler(max_parallel=workers, poll_interval=0.5,
                                    job_name=f"medeq-bench-{os.getpid()}")
    return medeq.LocalScheduler(max_workers=workers)


def job_times(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Each job's work (the script's body: sleep and function) and its process's
    lifetime (Python start-up and imports included), from ``extra`` in result.json."""
    work, process = [], []
    for result in (folder / "outputs").glob("*/result.json"):
        extra = json.loads(result.read_text()).get("extra") or {}
        work.append(float(extra.get("work", 0.0)))
        process.append(float(extra.get("process", 0.0)))
    return np.array(work), np.array(process)


def list_schedule_bound(durations: np.ndarray, workers: int) -> float:
    """Utilisation of a perfect online schedule of these jobs: each starts the
    instant a worker frees (in this order), with no overhead; the budget's last
    jobs still leave workers idle."""
    ends = np.zeros(workers)
    for duration in durations:
        ends[np.argmin(ends)] += duration
    return float(durations.sum() / (workers * ends.max()))


def expected_bound(workers: int, budget: int, median: float, sigma: float, overhead: float = 0.0,
                   draws: int = 20000, seed: int = 0) -> np.ndarray:
    """:func:`list_schedule_bound` of ``draws`` sets of ``budget`` independent
    job times, each ``overhead`` (process start-up, counted as busy as the
    utilisation here does) plus a lognormal sleep: what a perfect
    non-clairvoyant scheduler can reach (durations drawn from a hash of the
    sample cannot be predicted)."""
    rng = np.random.default_rng(seed)
    return np.array([
        list_schedule_bound(overhead + median * np.exp(sigma * rng.standard_normal(budget)), workers)
        for _ in range(draws)])


def script_run(script: Path, folder: Path, kind: str, workers: int, budget: int, seed: int,
               mode: str) -> dict:
    med = medeq.MED(script, scheduler=scheduler(kind, workers), seed=seed, verbose=0)
    med.save(folder)
    start = time.perf_counter()
    med.explore(budget=budget, mode=mode, directory=folder, verbose=0)
    wall = time.perf_counter() - start
    work, process = job_times(folder)
    busy = process.sum() if kind == "local" else work.sum()   # SLURM: pending time is not busy
    return {"med": med, "wall": wall, "busy": busy, "utilisation": busy / (workers * wall),
            "work": work.sum() / (workers * wall), "ideal": busy / workers,
            "bound": list_schedule_bound(work, workers), "epochs": len(med.epochs)}


def batch_design(name: str, workers: int, budget: int, seed: int) -> np.ndarray:
    """Batch mode's design: batches of the default size for ``workers`` (in-process f)."""
    function, bounds, _ = FUNCTIONS[name]
    parameters = make_parameters(bounds)
    med = medeq.MED(parameters, seed=seed, verbose=0)
    size = workers * int(np.ceil(max(len(parameters), 2) / workers))
    med.explore(lambda row: float(function(row[None, :])[0]), budget=budget, batch=size,
                mode="batch", save=False, verbose=0)
    return to_unit(med.evaluated, parameters)


def score(name: str, unit: np.ndarray, test_unit, test_y) -> float:
    function, bounds, _ = FUNCTIONS[name]
    y = function(from_unit(unit, make_parameters(bounds)))
    return reference_nrmse(unit, y, test_unit, test_y)


def lhs_nrmse(name: str, n: int, seeds, test_unit, test_y) -> float:
    d = len(FUNCTIONS[name][1])
    return float(np.mean([score(name, medeq.LatinSampler(d, seed=s).sample(n), test_unit, test_y)
                          for s in seeds]))


class SimulatedClock(medeq.Scheduler):
    """Runs function jobs in this process, reporting them in the order a real
    cluster of ``workers`` would finish them: each takes the lognormal time its
    sample gives (a simulated clock, so design quality is cheap to compare)."""

    def __init__(self, workers: int, median: float, sigma: float):
        self.workers, self.median, self.sigma = workers, median, sigma
        self.clock, self.running, self.waiting = 0.0, [], []

    @property
    def capacity(self) -> int:
        return self.workers

    def submit(self, job):
        self.waiting.append(job)
        self._start()

    def _start(self):
        while self.waiting and len(self.running) < self.workers:
            job = self.waiting.pop(0)
            sample = np.asarray(json.loads((job.directory / "job.json").read_text())["sample"])
            u = int(hashlib.sha1(sample.tobytes()).hexdigest()[:12], 16) / 16**12
            z = statistics.NormalDist().inv_cdf(min(max(u, 1e-9), 1 - 1e-9))
            self.running.append((self.clock + self.median * np.exp(self.sigma * z), job))

    def completed(self, timeout=None):
        if not self.running:
            return []
        self.running.sort(key=lambda item: item[0])
        self.clock, job = self.running.pop(0)
        payload = json.loads((job.directory / "job.json").read_text())
        with open(payload["function"], "rb") as file:
            function = cloudpickle.load(file)
        response = function(np.asarray(payload["sample"], dtype=float))
        _jobrunner.write_json(str(job.directory / _jobrunner.RESULT), {"response": response})
        self._start()
        return [(job, medeq.schedulers.JobStatus(0))]

    def cancel(self, jobs=None):
        self.running, self.waiting = [], []


def simulated(names, seeds, workers: int, budget: int, median: float, sigma: float) -> None:
    """nRMSE of asynchronous designs (simulated clock) against batch mode, per function."""
    print(f"simulated clock: {workers} workers, budget {budget} (10 d when 0)")
    print(f"{'function':>12} {'seed':>4} {'async':>8} {'batch':>8} {'ratio':>6}")
    ratios = {}
    for name in names:
        function, bounds, _ = FUNCTIONS[name]
        parameters = make_parameters(bounds)
        n = budget or 10 * len(bounds)
        rng = np.random.default_rng(12345)
        test_unit = rng.random((2000, len(bounds)))
        test_y = function(from_unit(test_unit, parameters))
        pairs = []
        for seed in seeds:
            med = medeq.MED(parameters, seed=seed, verbose=0,
                            scheduler=SimulatedClock(workers, median, sigma))
            med.explore(SingleRow(function), budget=n, mode="async", save=False, verbose=0)
            a = score(name, to_unit(med.evaluated, parameters), test_unit, test_y)
            b = score(name, batch_design(name, workers, n, seed), test_unit, test_y)
            pairs.append((a, b))
            print(f"{name:>12} {seed:>4} {a:8.4f} {b:8.4f} {a / b:6.2f}", flush=True)
        ratios[name] = np.mean([a for a, _ in pairs]) / np.mean([b for _, b in pairs])
    print("summary: nRMSE async/batch (mean over seeds) " +
          ", ".join(f"{k} {v:.3f}" for k, v in ratios.items()) +
          f"; geometric mean {np.exp(np.mean(np.log(list(ratios.values())))):.3f} (target <= 1.05)")


class SingleRow:
    """``f(sample)`` for a vectorised test function (picklable)."""

    def __init__(self, function):
        self.function = function

    def __call__(self, row):
        return float(self.function(np.asarray(row)[None, :])[0])


def pick_timings(workers: int, n: int = 500, d: int = 6, repeats: int = 7) -> dict:
    """Seconds to pick one sample with ``workers - 1`` in flight, and to condition on a result."""
    function, bounds, _ = FUNCTIONS["hartmann6"]
    parameters = make_parameters(bounds)
    med = medeq.MED(parameters, seed=0, verbose=0)
    rng = np.random.default_rng(0)
    x = from_unit(rng.random((n + 1, d)), parameters)
    med.augment(x[:n], function(x[:n]))
    med.sample(workers - 1)                       # the jobs in flight
    picks, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        med.sampler.sample(1, med)
        picks.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    conditions = []
    for _ in range(repeats):
        start = time.perf_counter()
        med.gp[0].conditioned(to_unit(x[n:], parameters), function(x[n:]))
        conditions.append(time.perf_counter() - start)
    return {"pick": float(np.median(picks)), "pick_cpu": float(np.median(cpu)),
            "condition": float(np.median(conditions)), "load": os.getloadavg()[0]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--function", default="friedman", choices=SELF_CONTAINED)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--budget", type=int, default=48)
    parser.add_argument("--scheduler", choices=["local", "slurm"], default="local")
    parser.add_argument("--median", type=float, default=2.0)
    parser.add_argument("--sigma", type=float, default=0.8)
    parser.add_argument("--batch-timing", action="store_true",
                        help="also run batch mode with the sleeping jobs, to time it")
    parser.add_argument("--pick", action="store_true", help="only time the pick and conditioning")
    parser.add_argument("--bound", action="store_true",
                        help="only the perfect-schedule bound over random job times (no jobs run)")
    parser.add_argument("--overhead", type=float, default=0.0,
                        help="seconds of start-up per job in that bound (default 0)")
    parser.add_argument("--simulate", nargs="+", metavar="FUNCTION", choices=sorted(FUNCTIONS),
                        help="only compare design quality, with a simulated clock, on these "
                             "functions (budget 10 d unless --budget is given)")
    args = parser.parse_args(argv)
    print(f"# {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"medeq {medeq.__version__}")
    if args.simulate:
        budget = args.budget if "--budget" in (argv or sys.argv) else 0
        simulated(args.simulate, range(args.first_seed, args.first_seed + args.seeds), args.workers,
                  budget, args.median, args.sigma)
        return
    if args.pick:
        t = pick_timings(args.workers)
        print(f"pick 1 sample with {args.workers - 1} in flight, d=6, 500 results: "
              f"{t['pick']:.3f} s wall, {t['pick_cpu']:.3f} s CPU (target < 0.2 s); condition on "
              f"1 result: {t['condition'] * 1e3:.1f} ms (load average {t['load']:.1f} on "
              f"{os.cpu_count()} cores)")
        return
    bounds = expected_bound(args.workers, args.budget, args.median, args.sigma, args.overhead)
    print(f"perfect non-clairvoyant schedule of {args.budget} jobs of {args.overhead} s + lognormal("
          f"median {args.median} s, log-sd {args.sigma}) on {args.workers} workers, {len(bounds)} draws: utilisation "
          f"mean {bounds.mean():.3f}, median {np.median(bounds):.3f}, "
          f"P(>= 0.85) {np.mean(bounds >= 0.85):.2f}")
    if args.bound:
        return
    d = len(FUNCTIONS[args.function][1])
    rng = np.random.default_rng(12345)
    test_unit = rng.random((2000, d))
    test_y = FUNCTIONS[args.function][0](from_unit(test_unit, make_parameters(FUNCTIONS[args.function][1])))
    lhs = lhs_nrmse(args.function, args.budget, range(100, 105), test_unit, test_y)
    print(f"{args.function} (d={d}), budget {args.budget}, {args.scheduler} with {args.workers} "
          f"workers; jobs sleep lognormal(median {args.median} s, log-sd {args.sigma})")
    print(f"LHS nRMSE (mean of 5 designs): {lhs:.4f}")
    header = (f"{'seed':>4} {'mode':>6} {'wall s':>7} {'ideal s':>7} {'util':>5} {'work':>5} "
              f"{'bound':>5} {'epochs':>6} {'nRMSE':>7} {'/LHS':>5} {'/batch':>6}")
    print(header)
    rows = []
    with tempfile.TemporaryDirectory(prefix="medeq-async-bench-", dir=os.getcwd()) as tmp:
        script = write_script(Path(tmp), args.function, args.median, args.sigma)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            batch = score(args.function, batch_design(args.function, args.workers, args.budget, seed),
                          test_unit, test_y)
            modes = ["async", "batch"] if args.batch_timing else ["async"]
            for mode in modes:
                run = script_run(script, Path(tmp) / f"{mode}{seed}", args.scheduler, args.workers,
                                 args.budget, seed, mode)
                nrmse = score(args.function, to_unit(run["med"].evaluated, run["med"].parameters),
                              test_unit, test_y)
                row = {"seed": seed, "mode": mode, **run, "nrmse": nrmse, "batch": batch}
                rows.append(row)
                print(f"{seed:>4} {mode:>6} {run['wall']:7.1f} {run['ideal']:7.1f} "
                      f"{run['utilisation']:5.2f} {run['work']:5.2f} {run['bound']:5.2f} "
                      f"{run['epochs']:6d} {nrmse:7.4f} "
                      f"{nrmse / lhs:5.2f} {nrmse / batch:6.2f}", flush=True)
    runs = [r for r in rows if r["mode"] == "async"]
    print(f"summary: async utilisation {np.mean([r['utilisation'] for r in runs]):.2f} "
          f"(target >= 0.85; perfect-schedule bound {np.mean([r['bound'] for r in runs]):.2f}), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, wall/ideal {np.mean([r['wall'] / r['ideal'] for r in runs]):.2f}, "
          f"nRMSE async/batch {np.mean([r['nrmse'] for r in runs]) / np.mean([r['batch'] for r in runs]):.3f} "
          f"(target <= 1.05), async/LHS {np.mean([r['nrmse'] for r in runs]) / lhs:.3f}")


if __name__ == "__main__":
    main()
