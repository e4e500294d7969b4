"""How good a surrogate do medeq's samplers give for a fixed number of runs?

For each test function, an adaptive campaign with ``DVASampler`` (an initial
batch of 2d + 2, then batches of d, up to N = 10 d) is compared with static
designs of the same size: Latin hypercube (``LatinSampler``), scrambled
Sobol (``SobolSampler``) and uniform random (``RandomSampler``).

Every design is scored with the same fixed reference model - not medeq's
surrogate - a plain scikit-learn GP (constant * ARD Matern-5/2 + white
noise, normalised outputs, unit-cube inputs, 5 restarts, random_state=0) by
the normalised RMSE (RMSE / std of f) on 2000 uniform test points, averaged
over seeds. ``sample()`` is timed during the campaigns; the speed targets
(``sample(32)`` at d = 6 with 500 results, a refit at N = 2000, d = 6) are
timed at the end.

``--log-case`` runs the log-scale case instead: ``log_viscosity``, a
function of ``log10(mu)`` with ``mu`` in [1e-3, 1e3] (and a plain ``x`` in
[0, 1]), explored with ``mu`` declared ``scale="log"`` against declared
linear, same sampler and budget (N = 20). Each campaign is scored by
medeq's own surrogate (``med.predict``, what a user gets) by the nRMSE on
2000 test points log-uniform in ``mu``; target: log <= 0.5 x linear.

Run from the repository root::

    python benchmarks/sampling.py            # seeds 0-2, all functions
    python benchmarks/sampling.py --seeds 5 --first-seed 10 --functions branin ishigami
    python benchmarks/sampling.py --log-case --seeds 5
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from threadpoolctl import threadpool_limits

import medeq
from medeq.parameters import from_unit


# ------------------------------------------------------------------ functions
def branin(x):
    x1, x2 = x[:, 0], x[:, 1]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


HARTMANN_A = np.array([
    [10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14],
])
HARTMANN_P = 1e-4 * np.array([
    [1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381],
])


def hartmann6(x):
    inner = np.sum(HARTMANN_A * (x[:, None, :] - HARTMANN_P) ** 2, axis=2)
    return -np.exp(-inner) @ np.array([1.0, 1.2, 3.0, 3.2])


def friedman(x):
    return (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2
            + 10 * x[:, 3] + 5 * x[:, 4])


def borehole(x):
    rw, r, tu, hu, tl, hl, length, kw = x.T
    log_ratio = np.log(r / rw)
    return 2 * np.pi * tu * (hu - hl) / (
        log_ratio * (1 + 2 * length * tu / (log_ratio * rw**2 * kw) + tu / tl)
    )


def otl_circuit(x):
    rb1, rb2, rf, rc1, rc2, beta = x.T
    vb1 = 12 * rb2 / (rb1 + rb2)
    gain = beta * (rc2 + 9)
    return ((vb1 + 0.74) * gain / (gain + rf) + 11.35 * rf / (gain + rf)
            + 0.74 * rf * gain / ((gain + rf) * rc1))


FUNCTIONS = {
    "branin": (branin, [(-5, 10), (0, 15)]),
    "ishigami": (ishigami, [(-np.pi, np.pi)] * 3),
    "hartmann6": (hartmann6, [(0, 1)] * 6),
    "friedman": (friedman, [(0, 1)] * 5),
    "borehole": (borehole, [(0.05, 0.15), (100, 50000), (63070, 115600), (990, 1110),
                            (63.1, 116), (700, 820), (1120, 1680), (9855, 12045)]),
    "otl_circuit": (otl_circuit, [(50, 150), (25, 70), (0.5, 3), (1.2, 2.5), (0.25, 1.2),
                                  (50, 300)]),
}
def log_viscosity(x):
    """Varies over every decade of ``mu = x[:, 0]``; ``x[:, 1]`` is linear."""
    decades = np.log10(x[:, 0])
    return np.sin(decades) + 0.5 * decades * x[:, 1] + x[:, 1]


STATIC = {"lhs": medeq.LatinSampler, "sobol": medeq.SobolSampler, "random": medeq.RandomSampler}


def make_parameters(bounds):
    lower, upper = np.array(bounds, float).T
    return medeq.create_parameters([f"x{i}" for i in range(len(bounds))], lower, upper)


# -------------------------------------------------------------------- scoring
def reference_nrmse(unit_x, y, test_unit, test_y) -> float:
    """nRMSE of the fixed reference GP trained on a design (unit-cube inputs)."""
    d = unit_x.shape[1]
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        np.full(d, 0.5), (1e-2, 1e2), nu=2.5
    ) + WhiteKernel(1e-5, (1e-10, 1e-1))
    model = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=5,
                                     random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(unit_x, y)
    error = model.predict(test_unit) - test_y
    return float(np.sqrt(np.mean(error**2)) / np.std(test_y))


def dva_campaign(f, parameters, seed: int, sampler_settings: dict):
    """Adaptive campaign; returns the unit-cube design and the sample() times."""
    d = len(parameters)
    sampler = medeq.DVASampler(d, seed=seed, **sampler_settings)
    med = medeq.MED(parameters, sampler=sampler, seed=seed, verbose=0)
    total, first, step = 10 * d, 2 * d + 2, d
    times = []
    while len(med.samples) < total:
        n = first if not len(med.samples) else min(step, total - len(med.samples))
        start = time.perf_counter()
        med.sample(n)
        times.append(time.perf_counter() - start)
        med.evaluate(lambda row: float(f(row[None, :])[0]))
    unit = medeq.parameters.to_unit(med.evaluated, parameters)
    return unit, times


def run(names, seeds, sampler_settings: dict) -> list[dict]:
    rows = []
    for name in names:
        f, bounds = FUNCTIONS[name]
        parameters = make_parameters(bounds)
        d = len(bounds)
        test_unit = np.random.default_rng(12345).random((2000, d))
        test_y = f(from_unit(test_unit, parameters))
        scores = {key: [] for key in ["dva", *STATIC]}
        sample_times = []
        for seed in seeds:
            unit, times = dva_campaign(f, parameters, seed, sampler_settings)
            sample_times += times
            designs = {"dva": unit}
            for key, cls in STATIC.items():
                designs[key] = cls(d, seed=seed).sample(len(unit))
            for key, design in designs.items():
                y = f(from_unit(design, parameters))
                scores[key].append(reference_nrmse(design, y, test_unit, test_y))
        row = {"function": name, "d": d, "N": 10 * d}
        row.update({key: float(np.mean(v)) for key, v in scores.items()})
        row["ratio"] = row["dva"] / row["lhs"]
        row["sample_ms"] = 1000 * float(np.mean(sample_times))
        rows.append(row)
        print_row(row, flush=True)
    return rows


def log_case(seeds) -> list[dict]:
    """``log_viscosity`` with ``mu`` declared log vs linear: nRMSE of medeq's surrogate."""
    test = np.random.default_rng(12345).random((2000, 2))
    test[:, 0] = 10.0 ** (-3 + 6 * test[:, 0])          # log-uniform in mu
    test_y = log_viscosity(test)
    rows = []
    for sampler in (medeq.DVASampler, medeq.LatinSampler):
        row = {"sampler": sampler.__name__}
        for scale in ("log", "linear"):
            parameters = medeq.create_parameters(["mu", "x"], [1e-3, 0.0], [1e3, 1.0],
                                                 scale=[scale, "linear"])
            scores = []
            for seed in seeds:
                med = medeq.MED(parameters, sampler=sampler, seed=seed, verbose=0)
                med.sample(6)
                while len(med.samples) < 20:
                    med.evaluate(lambda row: float(log_viscosity(row[None, :])[0]))
                    med.sample(min(2, 20 - len(med.samples)))
                med.evaluate(lambda row: float(log_viscosity(row[None, :])[0]))
                error = med.predict(test, return_std=False) - test_y
                scores.append(float(np.sqrt(np.mean(error**2)) / np.std(test_y)))
            row[scale] = float(np.mean(scores))
        row["ratio"] = row["log"] / row["linear"]
        print(f"| {row['sampler']:<12} | {row['log']:.4f} | {row['linear']:.4f} | "
              f"{row['ratio']:.3f} |", flush=True)
        rows.append(row)
    return rows


def print_row(row: dict, flush: bool = False) -> None:
    print(f"| {row['function']:<11} | {row['d']:>2} | {row['N']:>3} | {row['dva']:.4f} | "
          f"{row['lhs']:.4f} | {row['sobol']:.4f} | {row['random']:.4f} | "
          f"{row['ratio']:.2f} | {row['sample_ms']:>9.0f} |", flush=flush)


# --------------------------------------------------------------------- timing
def timings(seed: int = 0) -> dict:
    """Time sample(32) at d = 6 with 500 results, and a refit at N = 2000, d = 6."""
    parameters = make_parameters([(0, 1)] * 6)
    rng = np.random.default_rng(seed)
    out = {}
    med = medeq.MED(parameters, seed=seed, verbose=0)
    x = rng.random((500, 6))
    start = time.perf_counter()
    med.augment(x, hartmann6(x))
    out["refit_500"] = time.perf_counter() - start
    start = time.perf_counter()
    med.sample(32)
    out["sample32_500"] = time.perf_counter() - start
    x = rng.random((2000, 6))
    med = medeq.MED(parameters, seed=seed, verbose=0)
    start = time.perf_counter()
    med.augment(x, hartmann6(x))
    out["refit_2000"] = time.perf_counter() - start
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS), choices=list(FUNCTIONS))
    parser.add_argument("--no-timings", action="store_true", help="skip the speed targets")
    parser.add_argument("--log-case", action="store_true",
                        help="run only the log-scale case (mu declared log vs linear)")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="DVASampler setting, e.g. --setting candidates=2048")
    args = parser.parse_args(argv)
    settings = {k: float(v) if "." in v else int(v)
                for k, v in (item.split("=", 1) for item in args.setting)}

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start; BLAS limited to 1 thread")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.log_case:
        print(f"log_viscosity, N = 20: nRMSE of medeq's surrogate on 2000 log-uniform test "
              f"points (mean of seeds {args.first_seed}...{args.first_seed + args.seeds - 1})")
        print("| sampler      | log    | linear | ratio |")
        print("| ------------ | ------ | ------ | ----- |")
        rows = log_case(seeds)
        print(f"\nSUMMARY: nRMSE ratio declared log / declared linear = "
              f"{rows[0]['ratio']:.3f} with DVASampler, {rows[1]['ratio']:.3f} with "
              "LatinSampler (target <= 0.5)")
        return
    print(f"nRMSE of the reference GP (mean of seeds {args.first_seed}..."
          f"{args.first_seed + args.seeds - 1}); ratio = DVA / LHS; "
          "sample_ms = mean time of one DVASampler.sample() call in the campaign")
    print("| function    |  d |   N | DVA    | LHS    | Sobol  | random | ratio | sample_ms |")
    print("| ----------- | -- | --- | ------ | ------ | ------ | ------ | ----- | --------- |")
    start = time.perf_counter()
    rows = run(args.functions, seeds, settings)
    ratios = [row["ratio"] for row in rows]
    print(f"\nSUMMARY: median nRMSE ratio DVA/LHS = {np.median(ratios):.2f} (target <= 0.8) "
          f"over {len(rows)} functions; DVA beats LHS on {sum(r < 1 for r in ratios)}/"
          f"{len(rows)}; campaign wall time {time.perf_counter() - start:.0f} s")
    if not args.no_timings:
        t = timings()
        print(f"TIMINGS: sample(32) at d=6 with 500 results {t['sample32_500']:.2f} s "
              f"(target <= 1 s); refit at N=2000, d=6 {t['refit_2000']:.2f} s (target <= 10 s); "
              f"refit at N=500 {t['refit_500']:.2f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    with threadpool_limits(limits=1, user_api="blas"):
        main()
