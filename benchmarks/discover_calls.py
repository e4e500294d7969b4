"""Two user-level calls of ``MED.discover``, timed and checked.

``--default-call`` (default): five laws of three parameters on [1, 5]^3,
100 samples from the campaign's own sampler, exact responses, then
``med.discover()`` with its defaults (operators ``+ - * / ^``, 60 s budget,
early stop). Prints each law's time and whether ``.best`` is the law (sympy:
equal up to rounding of its constants to 3 decimals), then the median time.

``--reference``: the original medeq example, ``velocity*sin(0.5*viscosity)
+ cos(1.1*radius)`` over [-9, 10]^3 with 24 + 16 adaptive samples, then
``discover(binary_operators=["+", "-", "*", "/"], unary_operators=["cos"])``,
for campaign seeds ``--seeds`` (default 0 1 2 3).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import medeq  # noqa: E402
from feynman import symbolically_equal  # noqa: E402

A, B, C = sp.symbols("a b c")
#: The laws of --default-call, in a, b, c (sympy; evaluated with numpy).
LAWS = [A * B + C, A / (B + C), A * sp.exp(-B) * C, A * B * C, A + B**2 - C]


def default_call(seed: int) -> list[dict]:
    rows = []
    for truth in LAWS:
        law = sp.lambdify([A, B, C], truth, modules="numpy")
        text = str(truth)
        med = medeq.MED(medeq.create_parameters(["a", "b", "c"], [1] * 3, [5] * 3), seed=seed, verbose=0)
        med.sample(100)
        med.evaluate(lambda s, law=law: float(law(*s)))
        start = time.monotonic()
        hall_of_fame = med.discover(equation_file=None)
        seconds = time.monotonic() - start
        exact = symbolically_equal(hall_of_fame.best.sympy, truth)
        rows.append({"law": text, "seconds": seconds, "best": str(hall_of_fame.best), "exact": exact})
        print(f"{text:<14} {seconds:7.1f} s  exact {exact!s:<5}  best: {hall_of_fame.best}", flush=True)
    return rows


def reference(seeds) -> list[dict]:
    velocity, viscosity, radius = sp.symbols("velocity viscosity radius")
    truth = velocity * sp.sin(viscosity / 2) + sp.cos(sp.Rational(11, 10) * radius)
    rows = []
    for seed in seeds:
        med = medeq.MED(medeq.create_parameters(["velocity", "viscosity", "radius"], [-9] * 3, [10] * 3),
                        seed=seed, verbose=0)
        f = lambda s: s[0] * np.sin(0.5 * s[1]) + np.cos(1.1 * s[2])  # noqa: E731
        med.sample(24)
        med.evaluate(f)
        med.sample(16)
        med.evaluate(f)
        start = time.monotonic()
        hall_of_fame = med.discover(binary_operators=["+", "-", "*", "/"], unary_operators=["cos"],
                                    equation_file=None)
        seconds = time.monotonic() - start
        exact = symbolically_equal(hall_of_fame.best.sympy, truth)
        rows.append({"law": f"seed {seed}", "seconds": seconds, "best": str(hall_of_fame.best), "exact": exact})
        print(f"seed {seed:<9} {seconds:7.1f} s  exact {exact!s:<5}  best: {hall_of_fame.best}", flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", action="store_true", help="the original medeq example instead")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3],
                        help="campaign seeds of --reference (default 0 1 2 3)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed of --default-call")
    args = parser.parse_args(argv)
    rows = reference(args.seeds) if args.reference else default_call(args.seed)
    exact = sum(r["exact"] for r in rows)
    median = float(np.median([r["seconds"] for r in rows]))
    print(f"SUMMARY: {'reference flow' if args.reference else 'default call'}: best exact {exact}/{len(rows)}, "
          f"median {median:.1f} s, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
