"""Exact-recovery benchmark of ``MED.discover`` on Feynman physics laws.

For each law of the data file (``id``, ``formula`` in sympy syntax,
``variables`` as ``name:low:high``): draw 300 points uniformly in the ranges,
``MED.augment`` them with the law's values, run ``MED.discover`` with the
operators ``+ - * /`` and ``sqrt sin cos exp log`` and a time budget, then
score exact recovery with the usual symbolic-regression criterion (SRBench):
some equation of the returned hall of fame, after rounding its constants,
differs from the truth by a constant or is a constant multiple of it (checked
with sympy), and has R^2 >= 0.9999 on 1000 fresh points.

Run from the repository root::

    python benchmarks/feynman.py                      # all laws, 60 s each
    python benchmarks/feynman.py --budget 20 --only I.12.1 I.14.3
    python benchmarks/feynman.py --units              # declare SI units: dimensional analysis
    python benchmarks/feynman.py --units --noise 0.01 # 1% noise on the training values

``--units`` reads every variable's and the output's unit (``id``, ``output``,
``units`` as ``name:unit``) and passes them through the public API:
``create_parameters(..., units=...)`` and ``MED(..., response_units=[...])``.
``--noise L`` adds Gaussian noise of standard deviation
``L * sqrt(mean(y**2))`` to the training values only (SRBench); the test
points stay exact.

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

DEFAULT_DATA = ROOT / ".." / "shared" / "benchmarks" / "feynman_public.csv"
DEFAULT_UNITS = ROOT / ".." / "shared" / "benchmarks" / "feynman_public_units.csv"
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


def _equal(candidate: sp.Expr, truth: sp.Expr) -> bool:
    positive = {s: sp.Symbol(s.name, positive=True) for s in truth.free_symbols | candidate.free_symbols}
    c, t = candidate.xreplace(positive), truth.xreplace(positive)
    for rounded in (c, round_constants(c)):
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


def run_law(law: dict, budget: float, seed: int, n_train: int, n_test: int, linear_seeds: bool = True,
            noise: float = 0.0) -> dict:
    rng = np.random.default_rng(seed)
    X, y = sample(law, n_train, rng)
    X_test, y_test = sample(law, n_test, rng)
    if noise:
        y = y + rng.normal(0.0, noise * np.sqrt(np.mean(y**2)), size=len(y))
    units = {"units": law["units"]} if "units" in law else {}
    parameters = medeq.create_parameters(law["names"], law["low"], law["high"], **units)
    response_units = [law["output_unit"]] if "units" in law else None
    med = medeq.MED(parameters, seed=seed, verbose=0, response_units=response_units)
    med.augment(X, y)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        hall_of_fame = med.discover(
            binary_operators=BINARY, unary_operators=UNARY, timeout_in_seconds=budget,
            equation_file=os.path.join(tmp, "equations.csv"), linear_seeds=linear_seeds,
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
    return {"law": law["id"], "recovered": recovered, "R2": best_r2, "seconds": seconds,
            "equation": found, "truth": str(law["truth"])}


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
    parser.add_argument("--units", nargs="?", type=Path, const=DEFAULT_UNITS, default=None,
                        metavar="CSV", help="declare units from this CSV (default: %(const)s)")
    parser.add_argument("--noise", type=float, default=0.0, metavar="LEVEL",
                        help="Gaussian noise level on the training values (e.g. 0.01)")
    args = parser.parse_args(argv)

    laws = read_laws(args.data)
    if args.units is not None:
        read_units(args.units, laws)
    if args.only:
        laws = [law for law in laws if law["id"] in set(args.only)]
    rows = []
    print(f"{'law':<10} {'recovered':<10} {'R2':>12} {'seconds':>8}  equation")
    for law in laws:
        row = run_law(law, args.budget, args.seed, args.n_train, args.n_test, not args.no_seeds,
                      args.noise)
        rows.append(row)
        print(f"{row['law']:<10} {row['recovered']!s:<10} {row['R2']:>12.8f} "
              f"{row['seconds']:>8.1f}  {row['equation']}   [truth: {row['truth']}]", flush=True)
    recovered = sum(r["recovered"] for r in rows)
    median = float(np.median([r["seconds"] for r in rows])) if rows else float("nan")
    print(f"SUMMARY: recovered {recovered}/{len(rows)} ({100 * recovered / max(len(rows), 1):.0f}%), "
          f"median {median:.1f} s per law, budget {args.budget:g} s, seed {args.seed}, "
          f"{'backend only, ' if args.no_seeds else ''}"
          f"{'units, ' if args.units is not None else ''}"
          f"{f'noise {args.noise:g}, ' if args.noise else ''}"
          f"{os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
