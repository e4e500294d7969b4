"""What snapping constants together gains and costs, on one correlated case.

The quadratic ``a*x**2 + b*x + c`` is polished (``medeq.discovery.polish.polish``)
on 60 noisy points (``x`` uniform in [0.1, 0.8], Gaussian noise of sd 0.01,
noise floor given) for each seed, from the same raw fit
``1.1*x**2 - 2.1*x + 1.05``, with the data drawn from two laws:

- ``(1 - x)**2``: returning it exactly is right;
- ``1.1*x**2 - 2.1*x + 1.02``: close to it; returning ``(1 - x)**2`` is wrong.

Each is run as medeq polishes (one-at-a-time snapping, or all the constants
at once when that is the shorter description: ``polish.snap_jointly``) and
with the joint candidate switched off (one at a time only), and the table
counts the seeds on which ``(1 - x)**2`` comes out.

Run from the repository root::

    python benchmarks/snapping.py            # seeds 0-19
    python benchmarks/snapping.py --seeds 100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from medeq.discovery import polish as polishing  # noqa: E402
from medeq.discovery.noise import NoiseFloor  # noqa: E402

X_SYMBOL = sp.Symbol("x")
RAW = sp.Float(1.1) * X_SYMBOL**2 - sp.Float(2.1) * X_SYMBOL + sp.Float(1.05)
SIMPLE = (1 - X_SYMBOL) ** 2
LAWS = {
    "(1 - x)**2": lambda x: (1 - x) ** 2,
    "1.1*x**2 - 2.1*x + 1.02": lambda x: 1.1 * x**2 - 2.1 * x + 1.02,
}
NOISE = 0.01


def simple_count(law, seeds: int, joint: bool) -> int:
    """Seeds on which polishing returns exactly ``(1 - x)**2``."""
    count = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        X = rng.uniform(0.1, 0.8, (60, 1))
        y = law(X[:, 0]) + rng.normal(0, NOISE, 60)
        fitness = polishing.Fitness(X, y, [X_SYMBOL], NoiseFloor.of(y, NOISE**2))
        if joint:
            clean, _ = polishing.polish(RAW, fitness)
        else:
            with mock.patch.object(polishing, "snap_jointly", return_value=None):
                clean, _ = polishing.polish(RAW, fitness)
        count += sp.expand(clean - SIMPLE) == 0
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0 .. N-1 (default 20)")
    args = parser.parse_args(argv)
    print(f"{'data from':<26} {'medeq':>8} {'one at a time':>14}   (seeds returning (1 - x)**2)")
    rows = {}
    for name, law in LAWS.items():
        rows[name] = (simple_count(law, args.seeds, True), simple_count(law, args.seeds, False))
        print(f"{name:<26} {rows[name][0]:>8} {rows[name][1]:>14}")
    right, wrong = rows["(1 - x)**2"], rows["1.1*x**2 - 2.1*x + 1.02"]
    print(f"SUMMARY: {args.seeds} seeds; law (1 - x)**2 recovered {right[0]} (one at a time: {right[1]}); "
          f"near law 1.1*x**2 - 2.1*x + 1.02 taken for it {wrong[0]} (one at a time: {wrong[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
