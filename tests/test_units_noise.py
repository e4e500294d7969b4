"""Dimensional analysis on noisy data: equations are judged against the noise
floor of the response itself (not of the rescaled ``y / Y0``), the floor
``discover`` is given reaches the units path, and equations written back in
the original variables respect ``maxsize`` and the operators."""

import warnings

import numpy as np
import pytest
import sympy as sp

import medeq
from medeq.cli import main
from medeq.discovery.constraints import expressible
from medeq.discovery.dimensionless import _freed, _well_scaled, discover_dimensionless
from medeq.discovery.units import response_analyses

OPS = dict(binary_operators=["+", "-", "*", "/"], unary_operators=["sqrt"],
           timeout_in_seconds=8, equation_file=None)


def noisy_campaign(n=200, level=0.01, seed=0):
    """``y = x * (1 + (u/c)**2)`` (x [m], u and c [m/s]): y / Y0 = 1 + pi1**2
    with Y0 = x, whose noise varies fivefold from point to point."""
    parameters = medeq.create_parameters(["x", "u", "c"], [1, 1, 3], [5, 2, 6],
                                         units=["m", "m/s", "m/s"])
    med = medeq.MED(parameters, seed=seed, verbose=0, response_units=["m"])
    rng = np.random.default_rng(seed)
    X = rng.uniform([1, 1, 3], [5, 2, 6], (n, 3))
    truth = X[:, 0] * (1 + (X[:, 1] / X[:, 2]) ** 2)
    noise = level * np.sqrt(np.mean(truth**2))
    med.augment(X, truth + rng.normal(0, noise, n))
    return med, truth, noise


def test_noisy_dimensional_law_is_found_at_the_original_floor():
    med, truth, noise = noisy_campaign()
    hall_of_fame = med.discover(**OPS)
    assert [str(g) for g in hall_of_fame.dimensional_analysis.group_expressions()] == ["u/c"]
    # every equation is flagged against the floor of y (in metres), and the
    # best one is at it
    assert "at_noise_floor" in hall_of_fame.frame.columns
    best = hall_of_fame.best
    assert best.at_floor
    x, u, c = sp.symbols("x u c")
    assert sp.simplify(best.sympy - x * (1 + u**2 / c**2)) == 0
    # losses are in the response's own units: about the noise variance
    assert best.loss == pytest.approx(noise**2, rel=0.3)


def test_given_noise_variance_reaches_the_units_path():
    med, _, _ = noisy_campaign(n=120)
    # declared exact (noise_variance=0): no equation of noisy data is at the floor
    hall_of_fame = med.discover(noise_variance=0.0, **OPS)
    assert hall_of_fame.dimensional_analysis is not None
    assert not any(e.at_floor for e in hall_of_fame)


def test_noise_variance_is_converted_to_si_units():
    # the same campaign in mm: the floor given in mm^2 must mean the same thing
    med, _, noise = noisy_campaign(n=120)
    X = np.asarray(med.evaluated, dtype=float)
    y = np.asarray(med.responses, dtype=float)[:, 0]
    options = dict(parsimony=0.0032, linear_seeds=True)
    settings = medeq.discovery.backends.SearchSettings(
        binary_operators=["+", "-", "*", "/"], unary_operators=["sqrt"], timeout=6.0, seed=0)
    in_m = discover_dimensionless(X, y, ["x", "u", "c"], ["m", "m/s", "m/s"], "m", settings,
                                  noise_variance=noise**2, **options)
    in_mm = discover_dimensionless(X, 1000 * y, ["x", "u", "c"], ["m", "m/s", "m/s"], "mm",
                                   settings, noise_variance=(1000 * noise) ** 2, **options)
    assert in_m.best.at_floor and in_mm.best.at_floor
    np.testing.assert_allclose(in_mm.best(X), 1000 * in_m.best(X), rtol=1e-6)


def test_back_converted_equations_respect_the_operators():
    # v = sqrt(gamma*p/rho): Y0 = sqrt(p/rho) needs sqrt, which is not allowed:
    # every dimensionally consistent equation breaks the operators, so the
    # plain search runs (with a warning saying why) and respects them.
    parameters = medeq.create_parameters(["gamma", "p", "rho"], [1, 1, 1], [5, 5, 5],
                                         units=["1", "Pa", "kg/m^3"])
    med = medeq.MED(parameters, seed=0, verbose=0, response_units=["m/s"])
    X = np.random.default_rng(4).uniform(1, 5, (60, 3))
    med.augment(X, np.sqrt(X[:, 0] * X[:, 1] / X[:, 2]))
    with pytest.warns(RuntimeWarning, match="breaks maxsize=50, the constraints or the chosen operators"):
        hall_of_fame = med.discover(binary_operators=["+", "-", "*", "/"], timeout_in_seconds=2,
                                    equation_file=None)
    assert not hasattr(hall_of_fame, "dimensional_analysis")
    assert all(expressible(e.sympy, ["+", "-", "*", "/"]) for e in hall_of_fame)


def test_back_converted_equations_respect_maxsize():
    med, _, _ = noisy_campaign(n=120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a fallback, if any, is fine
        hall_of_fame = med.discover(maxsize=9, **OPS)
    assert all(e.complexity <= 9 for e in hall_of_fame)


def test_freed_constants_keep_exponents_and_signs():
    pi1 = sp.Symbol("pi1")
    freed = _freed(2 * sp.sqrt(2 * sp.pi) / 5 * sp.sqrt(pi1**2 - 10) - pi1)
    assert sorted(float(f) for f in freed.atoms(sp.Float)) == pytest.approx(
        [-10.0, 2 * np.sqrt(2 * np.pi) / 5])
    assert freed.has(pi1**2) and freed.has(-pi1)
    assert _freed(1 / (1 + pi1)).atoms(sp.Float) == {sp.Float(1.0)}


def test_show_and_report_list_the_dimensionless_groups(tmp_path, capsys):
    med, _, _ = noisy_campaign(n=60)
    med.discover(binary_operators=["+", "-", "*", "/"], timeout_in_seconds=2, equation_file=None)
    analyses = response_analyses(["x", "u", "c"], ["m", "m/s", "m/s"], med.response_units, med.sr)
    assert analyses["response"].describe("response") == (
        "dimensionless groups: pi1 = u/c\nlaw: response = x * Phi(pi1)")
    text = open(med.report(tmp_path / "report.html"), encoding="utf-8").read()
    assert "dimensionless groups: pi1 = u/c" in text
    camp = tmp_path / "camp"
    med.save(camp)
    capsys.readouterr()
    assert main(["show", str(camp)]) == 0
    shown = capsys.readouterr().out
    assert "dimensionless groups: pi1 = u/c" in shown and "law: response = x * Phi(pi1)" in shown


def test_well_scaled_sums_have_weights_of_order_one():
    pi1, pi2 = sp.symbols("pi1 pi2")
    fit = sp.sqrt((3e36 * pi1**2 - 6e36 * pi1 + 3e36) / (3.2e36 - 1.2e34 * pi2))
    scaled = _well_scaled(fit)
    values = {pi1: 0.7, pi2: 1.3}
    assert float(scaled.subs(values)) == pytest.approx(float(fit.subs(values)), rel=1e-12)
    # the redundant scales became one constant; the largest weight of each sum is exact
    assert max(abs(float(f)) for f in scaled.atoms(sp.Float)) < 10
    assert str(scaled) == "1.36930639376292*sqrt((0.5*pi1**2 - pi1 + 0.5)/(1 - 0.00375*pi2))"
    assert _well_scaled(sp.exp(2.0 * pi1 + 3.0)) == sp.exp(2.0 * pi1 + 3.0)  # no change needed


def test_bad_noise_variance_is_a_clear_error_with_units():
    med, _, _ = noisy_campaign(n=30)
    with pytest.raises(ValueError, match=r"noise_variance must be a finite number >= 0, got -1"):
        med.discover(noise_variance=-1.0, **OPS)
    assert not med.sr  # nothing stored


def test_floor_is_estimated_when_not_given():
    med, _, noise = noisy_campaign(n=120)
    X = np.asarray(med.evaluated, dtype=float)
    y = np.asarray(med.responses, dtype=float)[:, 0]
    settings = medeq.discovery.backends.SearchSettings(
        binary_operators=["+", "-", "*", "/"], timeout=4.0, seed=0)
    hall_of_fame = discover_dimensionless(X, y, ["x", "u", "c"], ["m", "m/s", "m/s"], "m", settings)
    assert "at_noise_floor" in hall_of_fame.frame.columns
    assert hall_of_fame.best.loss == pytest.approx(noise**2, rel=0.5)
