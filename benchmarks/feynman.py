"""Exact-recovery benchmark of ``MED.discover`` on Feynman physics laws.

For each law of the data file (``id``, ``formula`` in sympy syntax,
``variables`` as ``name:low:high``): draw 300 points uniformly in the ranges,
``MED.augment`` them with the law's values, run ``MED.discover`` with the
operators ``+ - * /`` and ``sqrt sin cos exp log`` and a time budget, then
score exact recovery with the usual symbolic-regression criterion (SRBench):
some equation of the returned hall of fame, after rounding its constants,
differs from the truth by a constant or is a constant multiple of it (checked
with sympy), and has R^2 >= 0.9999 on 1000 fresh points.

Noise (``--noise LEVEL``), as SRBench adds it: Gaussian with standard
deviation ``LEVEL * sqrt(mean(y**2))`` on the training responses only; the
test points stay exact. ``--denoise`` discovers on the surrogate's mean
(``MED.discover(denoise=True)``, which falls back to the raw values when its
held-out check says the mean would not help). ``--noise-seed`` draws the
noise independently of the sample points.

Run from the repository root::

    python benchmarks/feynman.py                      # all laws, 60 s each
    python benchmarks/feynman.py --budget 20 --only I.12.1 I.14.3
    python benchmarks/feynman.py --noise 0.01 --jobs 2
    python benchmarks/feynman.py --units              # declare SI units: dimensional analysis
    python benchmarks/feynman.py --units --noise 0.01 # 1% noise on the training values

``--units`` reads every variable's and the output's unit (``id``, ``output``,
``units`` as ``name:unit``) and passes them through the public API:
``create_parameters(..., units=...)`` and ``MED(..., response_units=[...])``.

Prints one row per law (law, recovered, R^2, seconds) and a summary line.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import medeq
from medeq.discovery.expressions import parse

DEFAULT_DATA = next(
    (p for p in (ROOT / ".." / "shared" / "benchmarks" / "feynman_public.csv",
                 ROOT / ".." / ".." / "shared" / "benchmarks" / "feynman_public.csv") if p.is_file()),
    ROOT / ".." / "shared" / "benchmarks" / "feynman_public.csv",
)
DEFAULT_UNITS = DEFAULT_DATA.with_name("feynman_public_units.csv")
BINARY = ["+", "-", "*", "/"]
UNARY = ["sqrt", "sin", "cos", "exp", "log"]


def read_laws(path: Path) -> list[dict]:
    """Laws of the CSV as dicts: id, truth (sympy), names, lows, highs."""
    laws = []
    for _, row in pd.read_csv(path).iterrows():
        specs = [v.split(":") for v in str(row["variables"]).split()]
        names = [s[0] for s in specs]
        laws.append({
            "id": row["id"],
            "truth": parse(str(row["formula"]), names),
            "names": names,
            "low": np.array([float(s[1]) for s in specs]),
            "high": np.array([float(s[2]) for s in specs]),
        })
    return laws


def read_units(path: Path, laws: list[dict]) -> None:
    """Add ``units`` (one per variable) and ``output_unit`` to each law."""
    table = {str(row["id"]): row for _, row in pd.read_csv(path, dtype=str, keep_default_na=False).iterrows()}
    for law in laws:
        if law["id"] not in table:
            raise ValueError(f"{path} has no units for the law {law['id']}.")
        row = table[law["id"]]
        units = dict(entry.split(":", 1) for entry in str(row["units"]).split())
        law["units"] = [units[name] for name in law["names"]]
        law["output_unit"] = str(row["output"])


def sample(law: dict, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform points in the law's ranges and the law's (finite) values."""
    f = sp.lambdify(sp.symbols(law["names"]), law["truth"], modules="numpy")
    X, y = np.empty((0, len(law["names"]))), np.empty(0)
    while len(y) < n:
        batch = rng.uniform(law["low"], law["high"], size=(2 * n, len(law["names"])))
        with np.errstate(all="ignore"):
            values = np.asarray(f(*batch.T), dtype=float) * np.ones(len(batch))
        keep = np.isfinite(values)
        X, y = np.vstack([X, batch[keep]]), np.concatenate([y, values[keep]])
    return X[:n], y[:n]


def round_constants(expr: sp.Expr, digits: int = 3) -> sp.Expr:
    """Round floats to ``digits`` decimals and recognise simple rationals."""
    replacements = {}
    for f in expr.atoms(sp.Float):
        value = round(float(f), digits)
        replacements[f] = sp.nsimplify(value, rational=True) if value == int(value) or abs(value) < 1e3 else sp.Float(value)
    return expr.xreplace(replacements)


class _Timeout(Exception):
    pass


def symbolically_equal(candidate: sp.Expr, truth: sp.Expr, seconds: float = 20.0) -> bool:
    """Truth and candidate differ by a constant or by a constant factor.

    sympy's ``simplify`` can run for hours on a long expression: a check
    that takes more than ``seconds`` counts as not equal.
    """

    def alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return _equal(candidate, truth)
    except _Timeout:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _split(expr: sp.Expr) -> sp.Expr:
    """Roots of products and quotients split as if every factor were positive
    (``sqrt((c + v)/(c - v))`` -> ``sqrt(c + v)/sqrt(c - v)``), which sympy
    will not do for ``c - v`` even with positive symbols. A sign this gets
    wrong is caught by the R^2 check on fresh points that recovery also
    requires (and -1 is a constant factor, which the criterion allows)."""
    return sp.powdenest(sp.expand_power_base(expr, force=True), force=True)


def _equal(candidate: sp.Expr, truth: sp.Expr) -> bool:
    positive = {s: sp.Symbol(s.name, positive=True) for s in truth.free_symbols | candidate.free_symbols}
    c, t = candidate.xreplace(positive), truth.xreplace(positive)
    for rounded, t in ((c, t), (round_constants(c), t), (_split(c), _split(t))):
        try:
            difference = sp.simplify(rounded - t)
            if difference.is_number or not difference.free_symbols:
                return True
            ratio = sp.simplify(rounded / t)
            if ratio.is_number and ratio != 0 or not ratio.free_symbols and ratio != 0:
                return True
        except (TypeError, ValueError, RecursionError, ZeroDivisionError):
            continue
    return False


def r2(prediction: np.ndarray, y: np.ndarray) -> float:
    if not np.all(np.isfinite(prediction)):
        return -np.inf
    return float(1 - np.sum((prediction - y) ** 2) / np.sum((y - y.mean()) ** 2))


def add_noise(y: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """SRBench noise: Gaussian, sd ``level * sqrt(mean(y**2))``."""
    if level == 0:
        return y
    return y + rng.normal(0.0, level * float(np.sqrt(np.mean(y**2))), len(y))


def run_law(law: dict, budget: float, seed: int, n_train: int, n_test: int, linear_seeds: bool = True,
            noise: float = 0.0, noise_seed: int | None = None, denoise: bool = False,
            early_stop: bool = True, reverse: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    X, y = sample(law, n_train, rng)
    X_test, y_test = sample(law, n_test, rng)
    y = add_noise(y, noise, np.random.default_rng([seed, 1 if noise_seed is None else noise_seed]))
    if reverse:  # the same data, its inputs declared in the reverse order
        law = {**law, **{key: law[key][::-1] for key in ("names", "low", "high", "units") if key in law}}
        X, X_test = X[:, ::-1], X_test[:, ::-1]
    units = {"units": law["units"]} if "units" in law else {}
    parameters = medeq.create_parameters(law["names"], law["low"], law["high"], **units)
    response_units = [law["output_unit"]] if "units" in law else None
    med = medeq.MED(parameters, seed=seed, verbose=0, response_units=response_units)
    med.augment(X, y)  # fits the surrogate (not timed: discovery reads its noise level)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        hall_of_fame = med.discover(
            binary_operators=BINARY, unary_operators=UNARY, timeout_in_seconds=budget,
            equation_file=os.path.join(tmp, "equations.csv"), linear_seeds=linear_seeds,
            denoise=denoise, early_stop=early_stop,
        )
    seconds = time.monotonic() - start  # discovery only; the scoring below is not timed
    best_r2, recovered, found = -np.inf, False, ""
    for equation in hall_of_fame:
        score = r2(equation(X_test), y_test)
        exact = score >= 0.9999 and symbolically_equal(equation.sympy, law["truth"])
        if exact and not recovered or (not recovered and score > best_r2):
            found = str(equation)
        recovered = recovered or exact
        best_r2 = max(best_r2, score)
    best = hall_of_fame.best
    best_exact = r2(best(X_test), y_test) >= 0.9999 and symbolically_equal(best.sympy, law["truth"])
    return {"law": law["id"], "recovered": recovered, "best_recovered": best_exact, "R2": best_r2,
            "seconds": seconds, "equation": found, "best": str(best), "truth": str(law["truth"])}


def _run(job):
    law, kwargs = job
    return run_law(law, **kwargs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="laws CSV (default: %(default)s)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per law (default: 60)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--only", nargs="*", help="law ids to run (default: all)")
    parser.add_argument("--no-seeds", action="store_true",
                        help="backend search only (no power-law / rational-function candidates)")
    parser.add_argument("--noise", type=float, default=0.0, metavar="LEVEL",
                        help="noise level: sd = LEVEL * RMS(y) on training responses (default 0)")
    parser.add_argument("--noise-seed", type=int, default=None, help="seed of the noise draws")
    parser.add_argument("--denoise", action="store_true", help="discover(denoise=True)")
    parser.add_argument("--no-early-stop", action="store_true", help="discover(early_stop=False)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="laws run in parallel processes (timings then share the cores)")
    parser.add_argument("--units", nargs="?", type=Path, const=DEFAULT_UNITS, default=None,
                        metavar="CSV", help="declare units from this CSV (default: %(const)s)")
    parser.add_argument("--reversed", action="store_true",
                        help="declare every law's inputs in the reverse order (same data)")
    args = parser.parse_args(argv)

    laws = read_laws(args.data)
    if args.units is not None:
        read_units(args.units, laws)
    if args.only:
        laws = [law for law in laws if law["id"] in set(args.only)]
    kwargs = dict(budget=args.budget, seed=args.seed, n_train=args.n_train, n_test=args.n_test,
                  linear_seeds=not args.no_seeds, noise=args.noise, noise_seed=args.noise_seed,
                  denoise=args.denoise, early_stop=not args.no_early_stop, reverse=args.reversed)
    jobs = [(law, kwargs) for law in laws]
    print(f"{'law':<10} {'recovered':<10} {'best':<6} {'R2':>12} {'seconds':>8}  equation")
    rows = []

    def show(row):
        rows.append(row)
        print(f"{row['law']:<10} {row['recovered']!s:<10} {row['best_recovered']!s:<6} {row['R2']:>12.8f} "
              f"{row['seconds']:>8.1f}  {row['equation']}   [best: {row['best']}; truth: {row['truth']}]",
              flush=True)

    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            for row in pool.map(_run, jobs):
                show(row)
    else:
        for job in jobs:
            show(_run(job))
    recovered = sum(r["recovered"] for r in rows)
    best = sum(r["best_recovered"] for r in rows)
    median = float(np.median([r["seconds"] for r in rows])) if rows else float("nan")
    print(f"SUMMARY: recovered {recovered}/{len(rows)} ({100 * recovered / max(len(rows), 1):.0f}%), "
          f"best equation exact {best}/{len(rows)}, "
          f"median {median:.1f} s per law, budget {args.budget:g} s, noise {args.noise:g}, seed {args.seed}, "
          f"{'denoise, ' if args.denoise else ''}{'no early stop, ' if args.no_early_stop else ''}"
          f"{'backend only, ' if args.no_seeds else ''}"
          f"{'units, ' if args.units is not None else ''}"
          f"{'inputs reversed, ' if args.reversed else ''}"
          f"{args.jobs} job(s), {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
