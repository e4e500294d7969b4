"""Physical units: declared on parameters and responses, kept everywhere, and
used by ``discover`` for dimensional analysis (Buckingham pi)."""

import json
import textwrap
import time
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import medeq
from medeq.cli import main
from medeq.discovery import dimensionless
from medeq.discovery.backends import SearchSettings
from medeq.discovery.campaign import campaign_analyses
from medeq.discovery.units import analyse, pi_groups, dimension_matrix
from medeq.discovery.expressions import complexity
from medeq.discovery.rewrites import simplify, split_roots, unsquare_roots
from medeq.discovery.polish import Fitness
from medeq.parameters import label, parameter_units, si_factor, unit_dimensions

OPS = dict(binary_operators=["+", "-", "*", "/"], unary_operators=["sqrt"],
           timeout_in_seconds=5, equation_file=None)


def exponents(*values):
    return tuple(Fraction(v) for v in values)


# ------------------------------------------------------------------ pi basis
def test_relativistic_mass_is_one_group_and_a_scale():
    analysis = analyse(["m_0", "v", "c"], ["kg", "m/s", "m/s"], "kg")
    assert analysis.groups == (exponents(0, 1, -1),)  # v/c, integer exponents
    assert analysis.scale == exponents(1, 0, 0)  # m_0
    assert analysis.describe("m") == "dimensionless groups: pi1 = v/c\nlaw: m = m_0 * Phi(pi1)"


def test_equally_simple_scales_are_chosen_by_the_data():
    """m*v**2 and m*c**2 are both energies: the data pick the one that leaves
    Phi the least to explain (m*c**2 for the relativistic energy, whose Phi
    stays within 1 and 1.34), so Phi(v/c) is the Lorentz factor and not
    (c/v)**2 times it."""
    names, units = ["m", "v", "c"], ["kg", "m/s", "m/s"]
    assert analyse(names, units, "J").scale == exponents(1, 2, 0)  # no data: the first, m*v**2
    rng = np.random.default_rng(0)
    X = rng.uniform([1, 1, 3], [5, 2, 10], (100, 3))
    m, v, c = X.T
    energy = m * c**2 / np.sqrt(1 - v**2 / c**2)
    analysis = analyse(names, units, "J", X, energy)
    assert analysis.scale == exponents(1, 0, 2)
    assert analysis.describe("E").endswith("law: E = c**2*m * Phi(pi1)")
    assert analysis.groups == (exponents(0, 1, -1),)  # v/c, measured against c
    kinetic = m * v**2 / 2  # the same units, the other scale
    assert analyse(names, units, "J", X, kinetic).scale == exponents(1, 2, 0)
    # zeros in an input no scale uses, or in the response, change nothing
    angle = np.r_[0.0, rng.uniform(0, 1, 99)]
    with_angle = analyse([*names, "theta"], [*units, "rad"], "J", np.c_[X, angle], np.r_[0.0, energy[1:]])
    assert with_angle.scale == exponents(1, 0, 2, 0)


def test_reports_show_the_scale_the_data_choose(tmp_path):
    """``medeq show`` and the report describe the analysis ``discover`` would
    do, also for a campaign loaded from its folder (no hall of fame yet)."""
    parameters = medeq.create_parameters(["m", "v", "c"], [1, 1, 3], [5, 2, 10],
                                         units=["kg", "m/s", "m/s"])
    med = medeq.MED(parameters, response_names=["E"], seed=0, verbose=0, response_units={"E": "J"})
    X = np.random.default_rng(0).uniform([1, 1, 3], [5, 2, 10], (20, 3))
    med.augment(X, X[:, 0] * X[:, 2] ** 2 / np.sqrt(1 - (X[:, 1] / X[:, 2]) ** 2))
    med.save(tmp_path / "camp")
    loaded = medeq.MED.load(tmp_path / "camp")
    assert str(campaign_analyses(loaded)["E"].scale_expression()) == "c**2*m"
    assert main(["show", str(tmp_path / "camp")]) == 0


def test_pendulum_period_has_no_group_and_a_fractional_scale():
    analysis = analyse(["L", "g", "m"], ["m", "m/s^2", "kg"], "s")
    assert analysis.groups == ()
    assert analysis.scale == exponents(Fraction(1, 2), Fraction(-1, 2), 0)  # sqrt(L/g)


def test_reynolds_number_for_a_dimensionless_response():
    analysis = analyse(["rho", "v", "L", "mu"], ["kg/m^3", "m/s", "m", "Pa*s"], "1")
    assert analysis.groups == (exponents(1, 1, 1, -1),)  # rho*v*L/mu
    assert analysis.scale == exponents(0, 0, 0, 0)  # y = Phi(Re)
    assert analysis.describe("Cd").endswith("law: Cd = Phi(pi1)")


def test_simplest_basis_uses_fewest_inputs_per_group():
    # six inputs, two dimensions: four groups, each a ratio of two inputs
    names = ["x1", "x2", "x3", "f1", "f2", "f3"]
    analysis = analyse(names, ["m", "m", "m", "N", "N", "N"], "J")
    assert len(analysis.groups) == 4
    assert all(sum(1 for e in g if e) == 2 for g in analysis.groups)
    assert all(e.denominator == 1 and abs(e) == 1 for g in analysis.groups for e in g if e)
    # the inputs of the scale Y0 = x1*f1 go to the denominators
    assert analysis.scale == exponents(1, 0, 0, 1, 0, 0)
    assert all(g[0] <= 0 and g[3] <= 0 for g in analysis.groups)


def test_basis_spans_the_null_space_with_integer_exponents():
    units = ["kg", "m", "s", "N", "J", "Pa*s", "m/s"]
    _, D = dimension_matrix(units)
    groups = pi_groups(D)
    assert len(groups) == len(units) - D.rank()
    for g in groups:
        vector = sp.Matrix([sp.Rational(e.numerator, e.denominator) for e in g])
        assert D * vector == sp.zeros(D.rows, 1)
        assert all(e.denominator == 1 for e in g)
    assert sp.Matrix([[int(e) for e in g] for g in groups]).rank() == len(groups)


def test_angles_are_dimensionless_groups_of_their_own():
    analysis = analyse(["r", "F", "theta"], ["m", "N", "rad"], "J")
    assert analysis.groups == (exponents(0, 0, 1),)  # theta alone
    assert analysis.scale == exponents(1, 1, 0)
    # an angle as the response is a dimensionless response
    angle = analyse(["n", "theta"], ["1", "deg"], "rad")
    assert angle.scale == exponents(0, 0) and len(angle.groups) == 2
    assert si_factor("deg") == pytest.approx(np.pi / 180)


def test_response_without_dimensional_match():
    analysis = analyse(["L", "m"], ["m", "kg"], "s")
    assert analysis.scale is None and not analysis.expressible
    assert "no product of ['L', 'm'] has the dimension of T [s]" in analysis.describe("T")


def test_units_helpers():
    assert unit_dimensions("Pa*s") == {"[mass]": 1, "[length]": -1, "[time]": -1}
    assert unit_dimensions("1") == {} and unit_dimensions("") == {} and unit_dimensions("rad") == {}
    assert si_factor("mm/s") == pytest.approx(1e-3) and si_factor("uN") == pytest.approx(1e-6)
    assert si_factor("degC") is None  # an offset unit
    assert label("R", "mm") == "R [mm]" and label("R", None) == "R" and label("n", "") == "n"


# ----------------------------------------------------------------- bad units
@pytest.mark.parametrize("units, match", [
    (["m", "blargh"], r"parameter 'B' has the unit 'blargh', which pint does not understand"),
    (["m", "m+s"], r"parameter 'B' has the unit 'm\+s'"),
    (["m", 3.0], r"parameter 'B' has the unit 3.0, which is not a string"),
])
def test_unknown_parameter_unit_is_a_clear_error(units, match):
    with pytest.raises(ValueError, match=match):
        medeq.create_parameters(["A", "B"], [0, 0], [1, 1], units=units)


def test_dimensionless_and_missing_units_are_accepted():
    parameters = medeq.create_parameters(["A", "B", "C"], [0] * 3, [1] * 3, units=["1", "", None])
    assert parameter_units(parameters) == ["1", "", None]


@pytest.mark.parametrize("response_units, match", [
    (["parsec/blargh"], r"response 'y' has the unit 'parsec/blargh'"),
    ({"z": "m"}, r"response_units names \['z'\], which are not responses"),
    (["m", "s"], r"response_units has 2 entries for the 1 responses"),
    ("m", r"got the single string 'm'"),
])
def test_bad_response_units_are_clear_errors(response_units, match):
    parameters = medeq.create_parameters(["A"], [0], [1], units=["m"])
    with pytest.raises(ValueError, match=match):
        medeq.MED(parameters, response_names=["y"], response_units=response_units)


def test_dimensional_analysis_true_needs_every_unit():
    parameters = medeq.create_parameters(["A", "B"], [1, 1], [2, 2], units=["m", None])
    med = medeq.MED(parameters, seed=0, verbose=0, response_units=["m"])
    med.augment([[1, 1], [2, 2], [1.5, 1]], [1, 2, 1.5])
    with pytest.raises(ValueError, match=r"parameter 'B' has none"):
        med.discover(dimensional_analysis=True, **OPS)
    with pytest.raises(ValueError, match="dimensional_analysis must be 'auto', True or False"):
        med.discover(dimensional_analysis="yes", **OPS)
    assert med.sr == {}


# ------------------------------------------------------------------ discovery
def stokes_campaign(force_unit="uN", n=30):
    parameters = medeq.create_parameters(["mu", "R", "v"], [0.5] * 3, [2.0] * 3,
                                         units=["Pa s", "mm", "mm/s"])
    med = medeq.MED(parameters, response_names=["F"], seed=0, verbose=0,
                    response_units={"F": force_unit})
    X = np.random.default_rng(0).uniform(0.5, 2.0, (n, 3))
    scale = {"uN": 1.0, "N": 1e-6}[force_unit]
    med.augment(X, 6 * np.pi * X.prod(axis=1) * scale)
    return med


def test_stokes_law_in_user_units():
    med = stokes_campaign()
    hall_of_fame = med.discover(**OPS)
    assert hall_of_fame.dimensional_analysis.groups == ()
    assert str(hall_of_fame.best) == "6*pi*R*mu*v"
    assert len(hall_of_fame) == 1  # the only dimensionally consistent law is C*mu*R*v


def test_unit_factors_are_carried_as_constants():
    med = stokes_campaign("N")  # mm and mm/s in, N out: F = 6 pi 1e-6 mu R v
    best = med.discover(**OPS).best
    mu, R, v = sp.symbols("mu R v")
    coefficient = sp.simplify(best.sympy / (mu * R * v))
    assert not coefficient.free_symbols
    assert float(coefficient) == pytest.approx(6 * np.pi * 1e-6, rel=1e-9)


def test_every_equation_is_dimensionally_consistent():
    parameters = medeq.create_parameters(["m_0", "v", "c"], [1, 1, 3], [5, 2, 10],
                                         units=["kg", "m/s", "m/s"])
    med = medeq.MED(parameters, seed=0, verbose=0, response_units=["kg"])
    X = np.random.default_rng(1).uniform([1, 1, 3], [5, 2, 10], (200, 3))
    med.augment(X, X[:, 0] / np.sqrt(1 - (X[:, 1] / X[:, 2]) ** 2))
    hall_of_fame = med.discover(**OPS)
    assert [str(g) for g in hall_of_fame.dimensional_analysis.group_expressions()] == ["v/c"]
    # rescaling mass and speed units scales the response like a mass, for every equation
    rescaled = X * [3.0, 7.0, 7.0]
    for equation in hall_of_fame:
        np.testing.assert_allclose(equation(rescaled), 3.0 * equation(X), rtol=1e-9)
    truth = X[:, 0] / np.sqrt(1 - (X[:, 1] / X[:, 2]) ** 2)
    np.testing.assert_allclose(hall_of_fame.best(X), truth, rtol=1e-8)


def test_unexpressible_response_falls_back_with_a_warning():
    parameters = medeq.create_parameters(["L", "m"], [1, 1], [2, 2], units=["m", "kg"])
    med = medeq.MED(parameters, seed=0, verbose=0, response_units=["s"])
    X = np.random.default_rng(2).uniform(1, 2, (30, 2))
    med.augment(X, 2 * X[:, 0])
    with pytest.warns(RuntimeWarning, match=r"no product of powers of \['L', 'm'\] has the "
                                            r"dimension of response \[s\]"):
        hall_of_fame = med.discover(**OPS)
    assert str(hall_of_fame.best) == "2*L"  # the plain search still runs
    assert not hasattr(hall_of_fame, "dimensional_analysis")


def test_campaign_without_units_is_unchanged():
    parameters = medeq.create_parameters(["A", "B"], [1, 1], [2, 2])
    med = medeq.MED(parameters, seed=0, verbose=0)
    X = np.random.default_rng(3).uniform(1, 2, (20, 2))
    med.augment(X, X[:, 0] * X[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hall_of_fame = med.discover(**OPS)
    assert not hasattr(hall_of_fame, "dimensional_analysis")
    assert str(hall_of_fame.best) == "A*B"
    assert "units" not in med.parameters.columns and med.response_units is None
    assert "response_units" not in repr(med)


def test_dimensional_analysis_false_searches_plainly():
    med = stokes_campaign()
    hall_of_fame = med.discover(dimensional_analysis=False, **OPS)
    assert not hasattr(hall_of_fame, "dimensional_analysis")
    np.testing.assert_allclose(hall_of_fame.best(med.evaluated), med.responses[:, 0], rtol=1e-5)


def test_unsquare_roots_where_the_data_fix_the_sign():
    x, t, u, c = symbols = sp.symbols("x t u c")
    X = np.random.default_rng(0).uniform([5, 1, 1, 3], [10, 2, 2, 20], (50, 4))
    expr = c * sp.sqrt((t**2 * u**2 - 2 * t * u * x + x**2) / (c**2 - u**2))
    clean = unsquare_roots(expr, Fitness(X, np.zeros(50), symbols))
    roots = [p.base for p in clean.atoms(sp.Pow) if abs(p.exp) == sp.Rational(1, 2)]
    assert roots and not any(base.has(x) or base.has(t) for base in roots)  # (x - t*u) is out
    values = sp.lambdify(symbols, clean)(*X.T)
    np.testing.assert_allclose(values, X[:, 3] * (X[:, 0] - X[:, 1] * X[:, 2])
                               / np.sqrt(X[:, 3] ** 2 - X[:, 2] ** 2), rtol=1e-12)
    # where the sign changes over the data, nothing is taken out
    X[0, 0] = 0.5
    assert unsquare_roots(expr, Fitness(X, np.zeros(50), symbols)) == expr


def test_roots_of_quotients_split_with_the_signs_the_data_fix():
    """sympy writes 1/(1 - x**2) as -1/(x**2 - 1): the Lorentz factor an engine
    finds as sqrt(-1/(x**2 - 1)) is 1/sqrt(1 - x**2) on data with x**2 < 1,
    one node simpler, so it is not pushed off the front by an approximation
    as complex as the written form."""
    x, y = symbols = sp.symbols("x y")
    X = np.random.default_rng(0).uniform([0.05, 0.05], [0.7, 0.4], (50, 2))
    fitness = Fitness(X, np.zeros(50), symbols)
    lorentz = sp.sqrt(-1 / (x**2 - 1))
    assert split_roots(lorentz, fitness) == 1 / sp.sqrt(1 - x**2)
    assert complexity(simplify(lorentz, fitness)) == complexity(1 / sp.sqrt(1 - x**2)) < complexity(lorentz)
    # a square out, then the quotient split: (1 - y)/sqrt(1 - x**2)
    contracted = sp.sqrt((-y**2 + 2 * y - 1) / (x**2 - 1))
    assert simplify(contracted, fitness) == (1 - y) / sp.sqrt(1 - x**2)
    # a split that reads no simpler is not made
    for whole in (sp.sqrt(x / (x + 1)), (x / (y + 1)) ** sp.Rational(3, 2), sp.sqrt((x**2 - 1) / (y - 1))):
        assert split_roots(whole, fitness) == whole
    # where a part changes sign over the data, the root stays whole
    X[0, 0] = 1.5
    assert split_roots(lorentz, Fitness(X, np.zeros(50), symbols)) == lorentz


# -------------------------------------------------------- kept everywhere
def test_units_round_trip_through_save_and_load(tmp_path):
    med = stokes_campaign(n=6)
    med.save(tmp_path / "camp")
    setup = (tmp_path / "camp" / "setup.toml").read_text()
    assert 'units = "Pa s"' in setup and "[response_units]" in setup and 'F = "uN"' in setup
    loaded = medeq.MED.load(tmp_path / "camp")
    assert list(loaded.parameters["units"]) == ["Pa s", "mm", "mm/s"]
    assert loaded.response_units == {"F": "uN"}
    assert list(loaded.results.columns) == ["mu", "R", "v", "variance", "F"]  # plain names
    assert "response_units = {'F': 'uN'}" in repr(loaded) and "mm/s" in repr(loaded)


def test_units_given_by_position_take_the_response_names():
    parameters = medeq.create_parameters(["A"], [1], [2], units=["m"])
    med = medeq.MED(parameters, seed=0, verbose=0, response_units=["m", "s"])
    med.sample(2)
    med.evaluate(lambda x: {"length": x[0], "time": 2 * x[0]})
    assert med.response_units == {"length": "m", "time": "s"}


def test_plot_axes_show_units():
    med = stokes_campaign(n=8)
    figure = med.plot_response(parameters=["R", "v"])
    titles = {axis.title.text for axis in (figure.layout.xaxis, figure.layout.yaxis)}
    assert titles == {"R [mm]", "v [mm/s]"}
    samples = med.plot_samples()
    assert samples.layout.scene.xaxis.title.text == "mu [Pa s]"


def test_report_shows_units(tmp_path):
    med = stokes_campaign(n=8)
    text = open(med.report(tmp_path / "report.html"), encoding="utf-8").read()
    assert "F [uN]" in text and "mm/s" in text


SCRIPT = textwrap.dedent("""\
    # MED PARAMETERS START
    import medeq
    parameters = medeq.create_parameters(["L", "g"], [1.0, 5.0], [2.0, 10.0], units=["m", "m/s^2"])
    # MED PARAMETERS END
    import math
    values = parameters["value"]
    response = 2 * math.pi * math.sqrt(values["L"] / values["g"])
""")


def test_script_units_and_the_cli(tmp_path, capsys):
    script = tmp_path / "pendulum.py"
    script.write_text(SCRIPT)
    med = medeq.MED(script, response_units=["s"], verbose=0)
    assert list(med.parameters["units"]) == ["m", "m/s^2"] and med.response_units == {"response": "s"}

    camp = str(tmp_path / "camp")
    assert main(["run", str(script), "--dir", camp, "--budget", "6", "--workers", "2",
                 "--response-units", "s", "-q"]) == 0
    loaded = medeq.MED.load(camp)
    assert loaded.response_units == {"response": "s"}
    assert list(loaded.parameters["units"]) == ["m", "m/s^2"]
    capsys.readouterr()
    assert main(["show", camp]) == 0
    shown = capsys.readouterr().out
    assert "Response units: response [s]" in shown and "m/s^2" in shown
    assert main(["export", camp, "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["response_units"] == {"response": "s"}
    assert [p["units"] for p in exported["parameters"]] == ["m", "m/s^2"]
    assert list(exported["results"][0]) == ["L", "g", "variance", "response"]

    assert main(["run", "--dir", camp, "--response-units", "response=ms", "-q"]) == 0  # resume
    assert medeq.MED.load(camp).response_units == {"response": "ms"}
    assert main(["run", "--dir", camp, "--response-units", "s", "-q"]) == 0
    capsys.readouterr()
    assert main(["discover", camp, "--budget", "2", "--dimensional-analysis", "off"]) == 0
    assert "law:" not in capsys.readouterr().out
    assert main(["discover", camp, "--budget", "5", "--unary-operators", "sqrt"]) == 0
    assert "law: response = constant * sqrt(L)/sqrt(g)" in capsys.readouterr().out
    best = medeq.MED.load(camp).sr["response"].best
    L, g = sp.symbols("L g", positive=True)
    assert sp.simplify(best.sympy.subs({"L": L, "g": g}) - 2 * sp.pi * sp.sqrt(L / g)) == 0


def test_cli_rejects_bad_response_units(tmp_path, capsys):
    script = tmp_path / "pendulum.py"
    script.write_text(SCRIPT)
    code = main(["run", str(script), "--dir", str(tmp_path / "camp"), "--response-units", "blargh"])
    err = capsys.readouterr().err
    assert code == 2 and "'blargh', which pint does not understand" in err
    assert not (tmp_path / "camp").exists()
    code = main(["run", str(script), "--dir", str(tmp_path / "camp"), "--response-units", "a=s", "m"])
    assert code == 2 and "not a mix" in capsys.readouterr().err


def test_dimensionless_search_leaves_part_of_the_budget_for_writing_back():
    """The search of y / Y0 gets what is left of REDUCED_SEARCH_SHARE of the budget,
    so re-polishing its front in the original variables fits in the rest;
    without a budget the settings are unchanged."""
    started = time.monotonic() - 10.0
    settings = SearchSettings(timeout=60.0)
    left = settings.share_left(dimensionless.REDUCED_SEARCH_SHARE, started).timeout
    share = dimensionless.REDUCED_SEARCH_SHARE * 60
    assert share - 10.5 < left <= share - 10.0
    assert settings.share_left(dimensionless.REDUCED_SEARCH_SHARE, time.monotonic() - 59).timeout == 1.0
    unbounded = SearchSettings(timeout=None)
    assert unbounded.share_left(dimensionless.REDUCED_SEARCH_SHARE, started) is unbounded


def test_a_ratio_group_is_oriented_below_one_whatever_the_order_of_the_inputs():
    """v/c or c/v: with data, the group below 1 on most samples (as the
    Lorentz factor is written), whichever input was declared first; without
    data, the first input is in the numerator. Groups holding an input of
    Y0 keep it in their denominator, whatever the data."""
    rng = np.random.default_rng(0)
    m0, v, c = rng.uniform(1, 5, 50), rng.uniform(1, 2, 50), rng.uniform(3, 10, 50)
    y = m0 / np.sqrt(1 - (v / c) ** 2)
    for names, columns in ((["m_0", "v", "c"], [m0, v, c]), (["c", "v", "m_0"], [c, v, m0])):
        units = {"m_0": "kg", "v": "m/s", "c": "m/s"}
        X = np.column_stack(columns)
        with_data = analyse(names, [units[n] for n in names], "kg", X, y)
        assert [str(g) for g in with_data.group_expressions()] == ["v/c"]
    without = analyse(["c", "v", "m_0"], ["m/s", "m/s", "kg"], "kg")
    assert [str(g) for g in without.group_expressions()] == ["c/v"]
    # Y0 = x1: the other lengths are measured against it, even where x2 > x1
    x1, x2 = rng.uniform(1, 2, 50), rng.uniform(3, 4, 50)
    scaled = analyse(["x2", "x1"], ["m", "m"], "m", np.column_stack([x2, x1]), x1 + x2)
    assert str(scaled.scale_expression()) in ("x1", "x2")
    (group,) = scaled.group_expressions()
    assert group.as_numer_denom()[1] == scaled.scale_expression()


def test_the_groups_are_measured_by_the_scale_whatever_the_order_of_the_inputs():
    """Four lengths and a length response: every basis of three ratios is
    as simple as the others; the one measured by the input of Y0 (as
    Buckingham's repeating variables) is chosen, with it in every
    denominator, whatever the order in which the inputs are declared."""
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 5, (60, 4))
    y = np.sqrt((X[:, 1] - X[:, 0]) ** 2 + (X[:, 3] - X[:, 2]) ** 2)
    names = ["x1", "x2", "y1", "y2"]
    found = []
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        analysis = analyse([names[i] for i in order], ["m"] * 4, "m", X[:, order], y)
        scale = analysis.scale_expression()
        assert scale.is_Symbol
        groups = analysis.group_expressions()
        assert all(g.as_numer_denom()[1] == scale for g in groups)
        found.append((str(scale), sorted(str(g) for g in groups)))
    assert found[0] == found[1] == found[2]


def test_the_inputs_of_a_scale_go_to_the_denominators_whatever_their_sign_in_it():
    """Y0 = G*m1**2/s**2 (Newton's force scale): the other mass is measured
    by m1 and the other length by s (r/s, although it is 4 to 10 on the data
    and s has a negative exponent in Y0)."""
    rng = np.random.default_rng(3)
    G, m1, m2 = rng.uniform(1, 2, 50), rng.uniform(1, 1.1, 50), rng.uniform(0.2, 0.3, 50)
    r, s = rng.uniform(1, 2, 50), rng.uniform(0.2, 0.3, 50)
    y = G * m1**2 * (1 + 0.1 * m2 / m1) / (s**2 + 0.01 * r**2)
    analysis = analyse(["G", "m1", "m2", "r", "s"], ["N*m**2/kg**2", "kg", "kg", "m", "m"], "N",
                       np.column_stack([G, m1, m2, r, s]), y)
    assert str(analysis.scale_expression()) == "G*m1**2/s**2"
    assert [str(g) for g in analysis.group_expressions()] == ["m2/m1", "r/s"]
    # A group that is not a ratio of like quantities holds them with the
    # opposite sign to Y0's: d*omega/c for a wavenumber of scale 1/d.
    wave = analyse(["omega", "c", "d"], ["1/s", "m/s", "m"], "1/m")
    assert str(wave.scale_expression()) == "1/d"
    assert [str(g) for g in wave.group_expressions()] == ["d*omega/c"]


def test_a_ratio_group_is_oriented_on_its_si_values_whatever_the_prefixes():
    """d in mm and L in m: d/L is about 10 in the user's numbers but 0.01 in
    SI, where the groups are evaluated; the group below 1 there is d/L."""
    rng = np.random.default_rng(1)
    d, L = rng.uniform(4, 6, 40), rng.uniform(0.4, 0.6, 40)  # mm, m
    F = rng.uniform(1, 2, 40)
    for names, columns in ((["F", "d", "L"], [F, d, L]), (["F", "L", "d"], [F, L, d])):
        units = {"F": "N", "d": "mm", "L": "m"}
        X = np.column_stack(columns)
        analysis = analyse(names, [units[n] for n in names], "N", X, F * (1 + d / 1000 / L))
        assert [str(g) for g in analysis.group_expressions()] == ["d/L"]
