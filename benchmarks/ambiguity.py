"""How well the Feynman benchmark's noisy data tell two laws from their look-alikes.

Two laws of the public set are missed at 1 % noise on some seeds; this script
measures, on the benchmark's own data (``feynman.py``: 300 training points
of data seed 0, SRBench noise of level 0.01 drawn with ``--noise-seed``),
how far apart the data put each law and its look-alike:

- II.24.17, ``sqrt(omega**2/c**2 - C/d**2)``: ``C`` fitted by least squares,
  its standard error, and how many standard errors ``pi**2`` and 10 are
  from it;
- I.15.3x, ``(x - u*t)/sqrt(1 - u**2/c**2)`` against
  ``(x - u*t)/cos(pi*u/(3*c))``: how far the two differ on the points, and the
  chi-square of the law minus that of the ``cos`` form (negative: the law
  fits better).

Run from the repository root::

    python benchmarks/ambiguity.py                 # noise seeds 1-20 and 13
    python benchmarks/ambiguity.py --n-train 1000 --noise-seeds 13
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))

import feynman  # noqa: E402

LEVEL = 0.01


def law_data(laws, law_id: str, n_train: int, noise_seed: int):
    law = next(law for law in laws if law["id"] == law_id)
    X, y0 = feynman.sample(law, n_train, np.random.default_rng(0))
    y = feynman.add_noise(y0, LEVEL, np.random.default_rng([0, noise_seed]))
    return X, y0, y, LEVEL * float(np.sqrt(np.mean(y0**2)))


def wavenumber_constant(X, y) -> tuple[float, float]:
    """II.24.17: least-squares ``C`` and its standard error."""
    omega, c, d = X.T
    residual = lambda p: np.sqrt(np.clip(omega**2 / c**2 - p[0] / d**2, 0, None)) - y
    fit = least_squares(residual, [9.9])
    J = fit.jac
    s2 = float(np.mean(fit.fun**2))
    return float(fit.x[0]), float(np.sqrt(s2 * np.linalg.inv(J.T @ J)[0, 0]))


def lorentz_chi_square(X, y, sd) -> float:
    """I.15.3x: chi-square of the law minus that of the ``cos`` form."""
    x, u, c, t = X.T
    law = (x - u * t) / np.sqrt(1 - u**2 / c**2)
    look_alike = (x - u * t) / np.cos(np.pi * u / (3 * c))
    return float((np.sum((law - y) ** 2) - np.sum((look_alike - y) ** 2)) / sd**2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--noise-seeds", type=int, nargs="*", default=list(range(1, 21)) + [13])
    args = parser.parse_args(argv)
    laws = feynman.read_laws(feynman.DEFAULT_DATA)
    seeds = list(dict.fromkeys(args.noise_seeds))

    X, y0, _, sd = law_data(laws, "I.15.3x", args.n_train, seeds[0])
    x, u, c, t = X.T
    ratio = u / c
    gap = np.abs(np.cos(np.pi * ratio / 3) / np.sqrt(1 - ratio**2) - 1)
    print(f"I.15.3x on {args.n_train} points: |cos form / law - 1| at most {100 * gap[ratio <= 0.5].max():.2f} % "
          f"where u/c <= 0.5, {100 * gap.max():.2f} % in all; {int(np.sum(ratio > 0.5))} points have u/c > 0.5; "
          f"on noise-free data the law fits better by a chi-square of {-lorentz_chi_square(X, y0, sd):.1f}")

    print(f"{'noise seed':>10} {'C (II.24.17)':>13} {'s.e.':>7} {'pi**2 at':>9} {'10 at':>7} {'chi2 law - cos':>15}")
    law_better = 0
    for seed in seeds:
        X, _, y, _ = law_data(laws, "II.24.17", args.n_train, seed)
        C, error = wavenumber_constant(X, y)
        X, _, y, sd = law_data(laws, "I.15.3x", args.n_train, seed)
        difference = lorentz_chi_square(X, y, sd)
        law_better += difference < 0
        print(f"{seed:>10} {C:>13.4f} {error:>7.4f} {(C - np.pi**2) / error:>8.2f}s {(C - 10) / error:>6.2f}s "
              f"{difference:>15.2f}")
    print(f"SUMMARY: {args.n_train} points, noise {LEVEL}; I.15.3x's law fits better than the cos form on "
          f"{law_better} of {len(seeds)} noise seeds; 10 - pi**2 = {10 - np.pi**2:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
