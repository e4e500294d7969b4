"""How good a surrogate do medeq's samplers give for a fixed number of runs?

For each test function, an adaptive campaign with ``DVASampler`` (an initial
batch of 2d + 2, then batches of d, up to N = 10 d) is compared with static
designs of the same size: Latin hypercube (``LatinSampler``), scrambled
Sobol (``SobolSampler``) and uniform random (``RandomSampler``). With
``--peers``, two established active-learning tools run the same schedule
from the same first batch: emukit's IntegratedVarianceReduction on a GPy GP
and BoTorch's qNegIntegratedPosteriorVariance on a SingleTaskGP (install
them with ``pip install medeq[peers]``; skipped with a note when missing).

Every design is scored with the same fixed reference model - not medeq's
surrogate nor a peer's - a plain scikit-learn GP (constant * ARD Matern-5/2
+ white noise, normalised outputs, unit-cube inputs, 5 restarts,
random_state=0) by the normalised RMSE (RMSE / std of f) on 2000 uniform
test points, mean ± sd over seeds. ``sample()`` is timed during the
campaigns; the speed targets are timed at the end.

Functions come in two groups (the ``group`` column): "tuning" ones, on whose
seeds 0-4 DVASampler's settings were chosen, and "held-out" ones, never run
while tuning: piston (7-d, strong interactions), robot arm (8-d, strong
interactions), Linkletter's linear function (10-d, nearly linear, 6 inert
inputs) and Welch et al. 1992 (20-d, 2 inert and many weak inputs).

``--log-case`` runs the log-scale case instead: ``log_viscosity``, a
function of ``log10(mu)`` with ``mu`` in [1e-3, 1e3] (and a plain ``x`` in
[0, 1]), explored with ``mu`` declared ``scale="log"`` against declared
linear, same sampler and budget (N = 20). Each campaign is scored by
medeq's own surrogate (``med.predict``, what a user gets) by the nRMSE on
2000 test points log-uniform in ``mu``; target: log <= 0.5 x linear.

Run from the repository root::

    python benchmarks/sampling.py --first-seed 5       # held-out seeds 5-9, all functions
    python benchmarks/sampling.py --group tuning --designs dva   # seeds 0-4, DVA vs LHS
    python benchmarks/sampling.py --peers --only-peers --seeds 2  # emukit, BoTorch vs LHS
    python benchmarks/sampling.py --log-case --seeds 5
    python benchmarks/sampling.py --designs dva oracle   # ceiling of variance-driven designs

``--designs oracle`` is a ceiling study, not a sampler: the integrated
variance design for a kernel fitted on 40 d (at most 400) extra random runs
of the function itself (:class:`OracleIMSE`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings

# One thread per process for every numerical library (numpy's BLAS, GPy,
# torch's OpenMP): set before they are imported, inherited by --jobs workers.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from threadpoolctl import threadpool_limits

import medeq
from medeq.parameters import from_unit
from medeq.samplers import design_noise
from medeq.surrogate import GaussianProcessSurrogate


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


def wing_weight(x):
    sw, wfw, a, sweep, q, taper, tc, nz, wdg, wp = x.T
    cos = np.cos(np.deg2rad(sweep))
    return (0.036 * sw**0.758 * wfw**0.0035 * (a / cos**2) ** 0.6 * q**0.006 * taper**0.04
            * (100 * tc / cos) ** -0.3 * (nz * wdg) ** 0.49 + sw * wp)


def piston(x):
    m, s, v0, k, p0, ta, t0 = x.T
    a = p0 * s + 19.62 * m - k * v0 / s
    v = s / (2 * k) * (np.sqrt(a**2 + 4 * k * p0 * v0 * ta / t0) - a)
    return 2 * np.pi * np.sqrt(m / (k + s**2 * p0 * v0 * ta / (t0 * v**2)))


def welch(x):
    """Welch et al. (1992), 20 inputs on [-0.5, 0.5]: x8 and x16 inert, many weak."""
    x = np.column_stack([np.zeros(len(x)), x])  # 1-based columns as in the paper
    return (5 * x[:, 12] / (1 + x[:, 1]) + 5 * (x[:, 4] - x[:, 20]) ** 2 + x[:, 5]
            + 40 * x[:, 19] ** 3 - 5 * x[:, 19] + 0.05 * x[:, 2] + 0.08 * x[:, 3]
            - 0.03 * x[:, 6] + 0.03 * x[:, 7] - 0.09 * x[:, 9] - 0.01 * x[:, 10]
            - 0.07 * x[:, 11] + 0.25 * x[:, 13] ** 2 - 0.04 * x[:, 14] + 0.06 * x[:, 15]
            - 0.01 * x[:, 17] - 0.03 * x[:, 18])


def robot_arm(x):
    """Robot arm (An & Owen 2001): end-point distance of a 4-segment arm."""
    angles = np.cumsum(x[:, :4], axis=1)
    lengths = x[:, 4:]
    return np.hypot((lengths * np.cos(angles)).sum(axis=1), (lengths * np.sin(angles)).sum(axis=1))


def linkletter(x):
    """Linkletter et al. (2006) decreasing-coefficients linear function: 4 of 10 inputs active."""
    return 0.2 * x[:, 0] + 0.1 * x[:, 1] + 0.05 * x[:, 2] + 0.025 * x[:, 3]


#: name -> (function, bounds, group). Group "tuning": DVASampler's settings
#: were chosen on seeds 0-4 of these; "held-out": never run while tuning.
FUNCTIONS = {
    "branin": (branin, [(-5, 10), (0, 15)], "tuning"),
    "ishigami": (ishigami, [(-np.pi, np.pi)] * 3, "tuning"),
    "hartmann6": (hartmann6, [(0, 1)] * 6, "tuning"),
    "friedman": (friedman, [(0, 1)] * 5, "tuning"),
    "borehole": (borehole, [(0.05, 0.15), (100, 50000), (63070, 115600), (990, 1110),
                            (63.1, 116), (700, 820), (1120, 1680), (9855, 12045)], "tuning"),
    "otl_circuit": (otl_circuit, [(50, 150), (25, 70), (0.5, 3), (1.2, 2.5), (0.25, 1.2),
                                  (50, 300)], "tuning"),
    "wing_weight": (wing_weight, [(150, 200), (220, 300), (6, 10), (-10, 10), (16, 45),
                                  (0.5, 1), (0.08, 0.18), (2.5, 6), (1700, 2500),
                                  (0.025, 0.08)], "tuning"),
    "piston": (piston, [(30, 60), (0.005, 0.02), (0.002, 0.01), (1000, 5000), (90000, 110000),
                        (290, 296), (340, 360)], "held-out"),
    "robot_arm": (robot_arm, [(0, 2 * np.pi)] * 4 + [(0, 1)] * 4, "held-out"),
    "linkletter": (linkletter, [(0, 1)] * 10, "held-out"),
    "welch": (welch, [(-0.5, 0.5)] * 20, "held-out"),
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


SCHEDULE = "initial batch 2d + 2, then batches of d, up to N = 10 d"


def schedule(d: int) -> list[int]:
    """Batch sizes of every adaptive campaign: 2d + 2, then d, up to 10 d."""
    sizes, total = [2 * d + 2], 10 * d
    while sum(sizes) < total:
        sizes.append(min(d, total - sum(sizes)))
    return sizes


def dva_campaign(f, parameters, seed: int, sampler_settings: dict, sampler=None):
    """Adaptive campaign; returns the unit-cube design and the sample() times.

    ``sampler`` replaces the ``DVASampler(d, seed, **sampler_settings)`` of
    the campaign (the oracle study)."""
    d = len(parameters)
    if sampler is None:
        sampler = medeq.DVASampler(d, seed=seed, **sampler_settings)
    med = medeq.MED(parameters, sampler=sampler, seed=seed, verbose=0)
    times = []
    for n in schedule(d):
        start = time.perf_counter()
        med.sample(n)
        times.append(time.perf_counter() - start)
        med.evaluate(lambda row: float(f(row[None, :])[0]))
    unit = medeq.parameters.to_unit(med.evaluated, parameters)
    return unit, times


# --------------------------------------------------------------------- oracle
class OracleIMSE(medeq.DVASampler):
    """The integrated-variance design for a kernel that knows the function:
    length scales and noise of medeq's surrogate fitted on ``ORACLE_RUNS``
    uniform random runs of the function itself, fixed for the whole campaign
    (no focus weights, no floor). Not a usable sampler - it spends runs the
    campaign does not count - but the best a purely variance-driven design
    (DVA's principle, and the peers') can do with perfect hyperparameters."""

    def __init__(self, d: int, seed: int, lengths, noise: float):
        super().__init__(d, seed=seed)
        self.kernel = Matern(np.asarray(lengths, float), nu=2.5)
        self.noise = float(noise)

    def design_members(self, med, total, reference, rng):
        return [(self.kernel, self.noise, None, 1.0)]


#: Runs of the function the oracle's kernel is fitted on: 40 d, at most 400.
ORACLE_RUNS = (40, 400)


def oracle_kernel(f, parameters) -> tuple[np.ndarray, float]:
    """Length scales and relative noise of medeq's surrogate fitted on
    ``min(40 d, 400)`` uniform random runs (the same for every seed)."""
    d = len(parameters)
    x = np.random.default_rng(99).random((min(ORACLE_RUNS[0] * d, ORACLE_RUNS[1]), d))
    gp = GaussianProcessSurrogate(seed=0).fit(x, f(from_unit(x, parameters)))
    lengths = np.broadcast_to(gp.length_scales, (d,))
    return lengths, design_noise(gp)


# ---------------------------------------------------------------------- peers
# Same schedule, same first batch (DVASampler's Latin hypercube for the seed),
# same reference set size (512 Sobol points) and the same scoring; each peer
# uses its library's own GP (fitted before every batch) and batch strategy.
def emukit_campaign(f, parameters, seed: int):
    """emukit IntegratedVarianceReduction on a GPy ARD Matern-5/2 GP (greedy batches)."""
    import GPy
    from emukit.core import ContinuousParameter, ParameterSpace
    from emukit.core.loop import LoopState
    from emukit.core.loop.candidate_point_calculators import GreedyBatchPointCalculator
    from emukit.core.optimization import RandomSearchAcquisitionOptimizer
    from emukit.experimental_design.acquisitions import IntegratedVarianceReduction
    from emukit.model_wrappers import GPyModelWrapper
    from scipy.stats import qmc

    d = len(parameters)
    np.random.seed(seed)  # GPy and emukit draw from numpy's global stream
    sizes = schedule(d)
    x = medeq.LatinSampler(d, seed=seed).sample(sizes[0])
    y = f(from_unit(x, parameters))[:, None]
    gp = GPy.models.GPRegression(x, y, GPy.kern.Matern52(d, ARD=True), normalizer=True)
    model = GPyModelWrapper(gp, n_restarts=1)
    space = ParameterSpace([ContinuousParameter(f"x{i}", 0, 1) for i in range(d)])
    reference = qmc.Sobol(d, scramble=True, seed=seed).random(512)
    acquisition = IntegratedVarianceReduction(model, space, x_monte_carlo=reference)
    # Maximised over 1024 random points, as DVASampler picks among 1024
    # candidates. IVR has no gradients (has_gradients is False), so emukit's
    # default GradientAcquisitionOptimizer would polish its 1000 random anchor
    # points with finite-difference L-BFGS-B: > 15 min for one Branin campaign
    # on this loaded machine, against ~10 s of CPU with random search.
    optimizer = RandomSearchAcquisitionOptimizer(space, num_eval_points=1024)
    for n in sizes[1:]:
        model.optimize()
        calculator = GreedyBatchPointCalculator(model, acquisition, optimizer, batch_size=n)
        new = np.clip(calculator.compute_next_points(LoopState([])), 0, 1)
        x = np.vstack([x, new])
        y = np.vstack([y, f(from_unit(new, parameters))[:, None]])
        model.set_data(x, y)
    return x


#: optimize_acqf budget of the BoTorch peer (joint q-batch, BoTorch's default).
BOTORCH_OPTIMISER = {"num_restarts": 4, "raw_samples": 128, "sequential": False}


def botorch_campaign(f, parameters, seed: int):
    """BoTorch qNegIntegratedPosteriorVariance on a SingleTaskGP (sequential greedy batches)."""
    import torch
    from botorch.acquisition.active_learning import qNegIntegratedPosteriorVariance
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from scipy.stats import qmc

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    d = len(parameters)
    sizes = schedule(d)
    x = medeq.LatinSampler(d, seed=seed).sample(sizes[0])
    y = f(from_unit(x, parameters))
    reference = torch.tensor(qmc.Sobol(d, scramble=True, seed=seed).random(512))
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
    for n in sizes[1:]:
        model = SingleTaskGP(torch.tensor(x), torch.tensor(y)[:, None])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            acquisition = qNegIntegratedPosteriorVariance(model, mc_points=reference)
            # BoTorch's default joint optimisation of the q points (one
            # L-BFGS-B over n * d variables), modest restarts and raw samples.
            new, _ = optimize_acqf(acquisition, bounds, q=n, **BOTORCH_OPTIMISER)
        new = np.clip(new.detach().numpy(), 0, 1)
        x = np.vstack([x, new])
        y = np.concatenate([y, f(from_unit(new, parameters))])
    return x


PEERS = {"emukit": emukit_campaign, "botorch": botorch_campaign}


def run_peer(key: str, name: str, seed: int):
    """One peer campaign on one function: its design and the CPU seconds it took."""
    f, bounds, _ = FUNCTIONS[name]
    with threadpool_limits(limits=1, user_api="blas"):
        start = time.process_time()
        design = PEERS[key](f, make_parameters(bounds), seed)
        return design, time.process_time() - start


def peer_in_fresh_process(key: str, name: str, seed: int):
    """``run_peer`` in a spawned process, so its memory is returned when it ends.

    In one long process BoTorch's resident memory grew by hundreds of MB per
    batch (13.7 GB and an out-of-memory kill after six campaigns).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_peer, key, name, seed).result()


def available_peers() -> list[str]:
    """The peers whose libraries are installed (``pip install medeq[peers]``)."""
    import importlib.util

    needs = {"emukit": ["emukit", "GPy"], "botorch": ["botorch", "torch"]}
    return [name for name, modules in needs.items()
            if all(importlib.util.find_spec(m) is not None for m in modules)]


# -------------------------------------------------------------------- running
def run_function(name, seeds, designs, sampler_settings: dict) -> dict:
    """Every design of one function over the seeds: nRMSEs, ratios, CPU time."""
    with threadpool_limits(limits=1, user_api="blas"):
        f, bounds, group = FUNCTIONS[name]
        parameters = make_parameters(bounds)
        d = len(bounds)
        test_unit = np.random.default_rng(12345).random((2000, d))
        test_y = f(from_unit(test_unit, parameters))
        scores = {key: [] for key in designs}
        seconds = {key: 0.0 for key in designs}
        sample_times = []
        oracle = oracle_kernel(f, parameters) if "oracle" in designs else None
        for seed in seeds:
            for key in designs:
                start = time.process_time()
                if key == "dva":
                    design, times = dva_campaign(f, parameters, seed, sampler_settings)
                    sample_times += times
                elif key == "oracle":
                    design, _ = dva_campaign(f, parameters, seed, {},
                                             OracleIMSE(d, seed, *oracle))
                elif key in PEERS:
                    design, cpu = peer_in_fresh_process(key, name, seed)
                    start -= cpu  # the child's CPU time, not this process's
                else:
                    design = STATIC[key](d, seed=seed).sample(10 * d)
                seconds[key] += time.process_time() - start
                y = f(from_unit(design, parameters))
                scores[key].append(reference_nrmse(design, y, test_unit, test_y))
            # One line per finished seed, so that a run stopped early still tells.
            print(f"# {name} seed {seed}: " + ", ".join(
                f"{key} {scores[key][-1]:.4f}" for key in designs), file=sys.stderr, flush=True)
    row = {"function": name, "group": group, "d": d, "N": 10 * d, "scores": scores,
           "cpu_s": seconds, "sample_ms": 1000 * float(np.mean(sample_times or [np.nan]))}
    if "lhs" in designs:
        for key in designs:
            row[f"{key}/lhs"] = float(np.mean(scores[key]) / np.mean(scores["lhs"]))
    return row


def run(names, seeds, designs, sampler_settings: dict, jobs: int = 1) -> list[dict]:
    """One row per function, printed as they finish (``jobs`` functions at once)."""
    if jobs <= 1:
        rows = []
        for name in names:
            rows.append(run_function(name, seeds, designs, sampler_settings))
            print_row(rows[-1], designs)
        return rows
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(jobs) as pool:
        futures = {pool.submit(run_function, name, list(seeds), designs, sampler_settings): name
                   for name in names}
        done = {}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            print_row(done[futures[future]], designs)
    return [done[name] for name in names]


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


def print_header(designs) -> None:
    ratios = [key for key in designs if key != "lhs"] if "lhs" in designs else []
    print("| function | group | d | N | " + " | ".join(designs) + " | "
          + " | ".join(f"{key}/lhs" for key in ratios) + " | sample_ms |")
    print("|" + " --- |" * (4 + len(designs) + len(ratios) + 1))


def print_row(row: dict, designs) -> None:
    cells = [row["function"], row["group"], str(row["d"]), str(row["N"])]
    for key in designs:
        v = row["scores"][key]
        cells.append(f"{np.mean(v):.4f} ± {np.std(v, ddof=1) if len(v) > 1 else 0:.4f}")
    if "lhs" in designs:
        cells += [f"{row[f'{key}/lhs']:.2f}" for key in designs if key != "lhs"]
    cells.append(f"{row['sample_ms']:.0f}")
    print("| " + " | ".join(cells) + " |", flush=True)


def summarise(rows, designs) -> None:
    if "lhs" not in designs:
        return
    for label, group in (("all functions", None), ("tuning functions", "tuning"),
                         ("held-out functions", "held-out")):
        chosen = [r for r in rows if group is None or r["group"] == group]
        if not chosen:
            continue
        parts = []
        for key in designs:
            if key == "lhs":
                continue
            ratios = np.array([r[f"{key}/lhs"] for r in chosen])
            worst = chosen[int(np.argmax(ratios))]["function"]
            parts.append(f"{key}: median {np.median(ratios):.2f}, worst {ratios.max():.2f} "
                         f"({worst}), beats LHS on {int((ratios < 1).sum())}/{len(ratios)}")
        print(f"SUMMARY {label} ({len(chosen)}), nRMSE ratio to LHS - " + "; ".join(parts))
    cpu = {key: sum(r["cpu_s"][key] for r in rows) for key in designs}
    print("CPU seconds spent designing: " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))


# --------------------------------------------------------------------- timing
def timed_sample(d: int, results: int, n: int, queued: int = 0, seed: int = 0) -> float:
    """Seconds for DVASampler.sample(n) with ``results`` evaluated and ``queued`` pending."""
    parameters = make_parameters([(0, 1)] * d)
    rng = np.random.default_rng(seed)
    med = medeq.MED(parameters, seed=seed, verbose=0)
    x = rng.random((results, d))
    y = hartmann6(x[:, :6]) + 0.1 * x[:, 6:].sum(axis=1)
    med.augment(x, y)
    if queued:
        med.sample(queued)
    start, cpu = time.perf_counter(), time.process_time()
    med.sample(n)
    return time.perf_counter() - start, time.process_time() - cpu


def timings(seed: int = 0) -> dict:
    """Speed targets of DVASampler and of a surrogate refit."""
    out = {
        "sample32_d6_500": timed_sample(6, 500, 32, seed=seed),
        "sample1_d6_500_queued3": timed_sample(6, 500, 1, queued=3, seed=seed),
        "sample10_d20_5000": timed_sample(20, 5000, 10, seed=seed),
    }
    parameters = make_parameters([(0, 1)] * 6)
    x = np.random.default_rng(seed).random((2000, 6))
    med = medeq.MED(parameters, seed=seed, verbose=0)
    start, cpu = time.perf_counter(), time.process_time()
    med.augment(x, hartmann6(x))
    out["refit_d6_2000"] = time.perf_counter() - start, time.process_time() - cpu
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS), choices=list(FUNCTIONS))
    parser.add_argument("--group", choices=["tuning", "held-out"],
                        help="only the functions of this group")
    parser.add_argument("--designs", nargs="+", default=["dva", *STATIC],
                        choices=["dva", "oracle", *STATIC],
                        help="designs to compare (default: dva and the static ones; "
                             "'oracle' is the ceiling study, see OracleIMSE)")
    parser.add_argument("--peers", action="store_true",
                        help="also run emukit IVR and BoTorch qNIPV campaigns (if installed)")
    parser.add_argument("--only-peers", action="store_true",
                        help="with --peers: run LHS and the peers only (not DVA, Sobol, random)")
    parser.add_argument("--no-timings", action="store_true", help="skip the speed targets")
    parser.add_argument("--jobs", type=int, default=1,
                        help="functions run at once in separate processes")
    parser.add_argument("--json", metavar="PATH", help="also write every seed's nRMSE here")
    parser.add_argument("--log-case", action="store_true",
                        help="run only the log-scale case (mu declared log vs linear)")
    parser.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                        help="DVASampler setting, e.g. --setting candidates=2048")
    args = parser.parse_args(argv)
    settings = {k: float(v) if "." in v else int(v)
                for k, v in (item.split("=", 1) for item in args.setting)}
    names = [n for n in args.functions if args.group is None or FUNCTIONS[n][2] == args.group]
    designs = ["lhs"] if args.only_peers else list(dict.fromkeys(["lhs", *args.designs]))
    if args.only_peers:
        args.peers = True
    if args.peers:
        found = available_peers()
        missing = sorted(set(PEERS) - set(found))
        if missing:
            print(f"peers not installed, skipped: {', '.join(missing)} (pip install medeq[peers])")
        designs += found

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
    print(f"nRMSE of the reference GP, mean ± sd over seeds {args.first_seed}..."
          f"{args.first_seed + args.seeds - 1}; {SCHEDULE}; x/lhs = ratio of mean nRMSE; "
          "sample_ms = mean time of one DVASampler.sample() call in the campaign")
    print_header(designs)
    start = time.perf_counter()
    rows = run(names, seeds, designs, settings, args.jobs)
    print()
    summarise(rows, designs)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"seeds": list(seeds), "settings": settings, "rows": rows}, out, indent=1)
    print(f"campaign wall time {time.perf_counter() - start:.0f} s, load average "
          f"{os.getloadavg()[0]:.1f} / {os.getloadavg()[2]:.1f} (1 / 15 min) at the end")
    if not args.no_timings:
        t = timings()
        print("TIMINGS (wall s / CPU s of this process; wall includes waiting on a loaded "
              f"machine, load average {os.getloadavg()[0]:.1f}):")
        for key, label, target in (
            ("sample32_d6_500", "sample(32) at d=6 with 500 results", "<= 1 s"),
            ("sample10_d20_5000", "sample(10) at d=20 with 5000 results", "<= 1 s"),
            ("sample1_d6_500_queued3", "sample(1) at d=6 with 500 results, 3 queued", "<= 0.2 s"),
            ("refit_d6_2000", "surrogate refit at N=2000, d=6", "<= 10 s"),
        ):
            wall, cpu = t[key]
            print(f"  {label}: {wall:.2f} / {cpu:.2f} (target {target})")


if __name__ == "__main__":
    with threadpool_limits(limits=1, user_api="blas"):
        main()
