"""Log-scaled and integer parameters: declaration, maps, every sampler, the
surrogate, scripts, views and storage."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import medeq
from medeq.parameters import (
    as_points,
    distinct_points,
    from_unit,
    spaced_values,
    to_unit,
    transform,
    validate_parameters,
)
from medeq.scripts import Script, ScriptError


def declared():
    """A log-scaled viscosity, an integer count and a plain length."""
    return medeq.create_parameters(
        ["mu", "n", "L"], [1e-3, 1, 0.0], [1e3, 6, 2.0],
        scale=["log", "linear", "linear"], integer=[False, True, False],
    )


@medeq.sampler
def halton(n, med):
    """A user sampler: scrambled Halton points in the unit cube."""
    from scipy.stats import qmc

    engine = qmc.Halton(len(med.parameters), seed=med.seed)
    engine.fast_forward(len(med.samples))
    return engine.random(n)


SAMPLERS = [medeq.RandomSampler, medeq.LatinSampler, medeq.SobolSampler,
            medeq.LatticeSampler, medeq.DVASampler, halton]


def test_declaration_columns_and_defaults():
    parameters = declared()
    assert list(parameters.columns) == ["value", "min", "max", "scale", "integer"]
    assert parameters["scale"].tolist() == ["log", "linear", "linear"]
    assert parameters["integer"].tolist() == [False, True, False]
    assert parameters["integer"].dtype == bool
    # Nominal values: the middle of each range in its scale.
    assert parameters.loc["mu", "value"] == pytest.approx(1.0)
    assert parameters.loc["n", "value"] in (3.0, 4.0)
    assert parameters.loc["L", "value"] == 1.0
    # Case and blanks are normalised; an empty entry is the default.
    frame = pd.DataFrame({"min": [1.0, 0.0], "max": [2.0, 5.0], "scale": [" LOG ", None],
                          "integer": [np.nan, 1]}, index=["a", "b"])
    clean = validate_parameters(frame)
    assert clean["scale"].tolist() == ["log", "linear"]
    assert clean["integer"].tolist() == [False, True]


def test_undeclared_parameters_are_unchanged():
    parameters = medeq.create_parameters(["A", "B"], [-5.0, 0.0], [10.0, 15.0])
    assert list(parameters.columns) == ["value", "min", "max"]
    rng = np.random.default_rng(0)
    u = rng.random((50, 2))
    lower, upper = np.array([-5.0, 0.0]), np.array([10.0, 15.0])
    x = from_unit(u, parameters)
    np.testing.assert_array_equal(x, lower + u * (upper - lower))      # bitwise
    np.testing.assert_array_equal(to_unit(x, parameters), (x - lower) / (upper - lower))
    np.testing.assert_array_equal(distinct_points(x[:3], x, parameters), x[:3])


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": ["ln", "linear"]}, r"parameter 'a' has an unknown scale 'ln'; accepted scales: "
                                  r"\['linear', 'log'\]"),
    ({"scale": [3, "linear"]}, "parameter 'a' has an unknown scale 3"),
    ({"scale": ["linear", "log"]}, "parameter 'b' is log-scaled but its minimum is 0.0"),
    ({"integer": [True, "yes"]}, "parameter 'b' has integer='yes'; use True"),
    ({"integer": [False, 2]}, "parameter 'b' has integer=2"),
    ({"integer": [False, True], "values": [0.5, 2.5]}, "parameter 'b' is an integer but its value is 2.5"),
])
def test_bad_declarations_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        medeq.create_parameters(["a", "b"], [0.2, 0.0], [0.8, 5.0], **kwargs)


def test_integer_needs_an_integer_within_bounds():
    with pytest.raises(ValueError, match=r"parameter 'k' is an integer but no integer lies "
                                         r"within its bounds \[0.2, 0.8\]"):
        medeq.create_parameters(["k"], [0.2], [0.8], integer=[True])
    with pytest.raises(ValueError, match="log-scaled but its minimum is -1.0"):
        medeq.create_parameters(["k"], [-1.0], [8.0], scale=["log"], integer=[True])
    # One integer is enough; a non-integer bound is fine.
    one = medeq.create_parameters(["k"], [0.2], [1.5], integer=[True])
    assert from_unit([[0.0], [1.0]], one).ravel().tolist() == [1.0, 1.0]


def test_maps_log_uniform_and_integer_bins():
    parameters = declared()
    u = np.linspace(0, 1, 13)[:, None].repeat(3, axis=1)
    x = from_unit(u, parameters)
    # log: every decade gets the same share of the unit interval
    np.testing.assert_allclose(np.log10(x[:, 0]), np.linspace(-3, 3, 13), atol=1e-12)
    assert x[0, 0] >= 1e-3 and x[-1, 0] <= 1e3
    # integer: six equal bins for 1..6, rounded and within bounds
    assert set(x[:, 1]) == {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    counts = np.bincount(from_unit(np.linspace(0, 1, 6001)[:, None].repeat(3, 1),
                                   parameters)[:, 1].astype(int))[1:]
    assert counts.max() - counts.min() <= 2
    # round trip (integers map to the middle of their bin)
    back = to_unit(x, parameters)
    np.testing.assert_allclose(from_unit(back, parameters), x, rtol=1e-12)
    np.testing.assert_allclose(to_unit([[1.0, 1.0, 1.0]], parameters), [[0.5, 1 / 12, 0.5]])
    # the transformed space: log10 of log-scaled parameters only
    np.testing.assert_array_equal(transform([[100.0, 3.0, 1.5]], parameters), [[2.0, 3.0, 1.5]])


@settings(max_examples=60, deadline=None)
@given(low=st.floats(1e-6, 1e3), decades=st.floats(0.01, 8), integer=st.booleans(),
       log=st.booleans(), unit=st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_maps_stay_within_bounds_and_round_trip(low, decades, integer, log, unit):
    high = low * 10**decades
    if integer and np.ceil(low) > np.floor(high):
        high = np.ceil(low) + 1.0
    parameters = medeq.create_parameters(["p"], [low], [high], scale=["log" if log else "linear"],
                                         integer=[integer])
    x = from_unit(np.array(unit)[:, None], parameters)
    assert np.all((x >= low) & (x <= high))
    if integer:
        assert np.all(x == np.round(x))
    u = to_unit(x, parameters)
    assert np.all((u >= -1e-9) & (u <= 1 + 1e-9))
    np.testing.assert_allclose(from_unit(u, parameters), x, rtol=1e-9)
    if not integer:
        np.testing.assert_allclose(u[:, 0], unit, atol=1e-9)


def test_log_integer_parameter():
    parameters = medeq.create_parameters(["particles"], [10], [100000], scale=["log"],
                                         integer=[True])
    x = from_unit(np.random.default_rng(1).random((4000, 1)), parameters)[:, 0]
    assert np.all(x == np.round(x)) and x.min() >= 10 and x.max() <= 100000
    # log-uniform: about a quarter of the samples in each decade
    decades = np.histogram(np.log10(x), bins=[1, 2, 3, 4, 5.01])[0] / len(x)
    np.testing.assert_allclose(decades, 0.25, atol=0.03)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: s.__name__)
def test_every_sampler_designs_in_the_transformed_space(sampler):
    med = medeq.MED(declared(), sampler=sampler, seed=4, verbose=0)
    samples = med.sample(24)
    med.evaluate(lambda x: float(np.log10(x[0]) + x[1] + x[2]))
    samples = np.vstack([samples, med.sample(8)])
    mu, n, length = samples.T
    assert mu.min() >= 1e-3 and mu.max() <= 1e3
    assert np.all(n == np.round(n)) and n.min() >= 1 and n.max() <= 6
    assert length.min() >= 0 and length.max() <= 2
    # uniform in log10(mu): a linear design would put ~all of them above 1
    below = np.mean(mu < 1.0)
    assert 0.25 <= below <= 0.75, below
    assert np.mean(mu < 1e-1) >= 0.15
    # every integer level used (a lattice has fewer levels than integers here)
    assert len(set(n)) >= (3 if sampler is medeq.LatticeSampler else 6)
    # no sample repeated
    assert len(np.unique(samples, axis=0)) == len(samples)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: s.__name__)
def test_integer_designs_use_every_combination_before_repeating(sampler):
    parameters = medeq.create_parameters(["i", "j"], [0, 1], [2, 4], integer=[True, True])
    med = medeq.MED(parameters, sampler=sampler, seed=2, verbose=0)
    first = med.sample(5)
    med.evaluate(lambda x: float(x[0] * x[1]))
    second = med.sample(7)           # 12 combinations in all
    both = np.vstack([first, second])
    assert len(np.unique(both, axis=0)) == 12
    assert np.all(both == np.round(both))
    more = med.sample(3)             # nothing unused: repeats are allowed now
    assert more.shape == (3, 2) and np.all(more == np.round(more))


def test_distinct_points_moves_to_the_nearest_unused_combination():
    parameters = medeq.create_parameters(["k", "x"], [0, 0.0], [10, 1.0], integer=[True, False])
    existing = np.array([[5.0, 0.5], [4.0, 0.5], [6.0, 0.5], [3.0, 0.25]])
    points = np.array([[5.0, 0.5], [5.0, 0.5], [3.0, 0.5], [8.0, 0.75]])
    moved = distinct_points(points, existing, parameters)
    # 5 is taken, 4 and 6 too: the nearest free at x = 0.5 are 3 and 7
    assert moved[0].tolist() in ([3.0, 0.5], [7.0, 0.5])
    assert moved[1].tolist() in ([3.0, 0.5], [7.0, 0.5]) and moved[1, 0] != moved[0, 0]
    assert moved[2, 1] == 0.5 and moved[2].tolist() not in existing.tolist() + moved[:2].tolist()
    assert moved[3].tolist() == [8.0, 0.75]   # new already: unchanged
    full = np.array([[k, 0.5] for k in range(11)], float)
    np.testing.assert_array_equal(distinct_points(full[:2], full, parameters), full[:2])


def test_surrogate_learns_in_the_log_and_predicts_real_values():
    parameters = medeq.create_parameters(["mu"], [1e-9], [1e3], scale=["log"])

    def truth(x):
        return float(np.log10(x[0]))

    med = medeq.MED(parameters, seed=0, verbose=0)
    med.sample(12)
    med.evaluate(truth)
    assert med.evaluated.min() < 1e-7        # reaches the low decades
    # the surrogate's inputs are the log: evenly spread in log10(mu)
    unit = to_unit(med.evaluated, parameters)[:, 0]
    np.testing.assert_allclose(unit, (np.log10(med.evaluated[:, 0]) + 9) / 12)
    mean, std = med.predict([[1e-8], [1e-3], [10.0]])
    np.testing.assert_allclose(mean, [-8, -3, 1], atol=0.2)
    assert np.all(std < 0.5)
    with pytest.raises(ValueError, match="'mu' is log-scaled: its values must be above 0"):
        med.predict([[0.0]])
    with pytest.raises(ValueError, match="log-scaled"):
        med.augment([[-1.0]], [0.0])


def test_save_load_round_trip(tmp_path):
    med = medeq.MED(declared(), seed=5, verbose=0)
    med.sample(8)
    med.evaluate(lambda x: float(np.log10(x[0]) * x[1] + x[2]))
    med.sample(3)
    med.save(tmp_path / "campaign")
    loaded = medeq.MED.load(tmp_path / "campaign")
    pd.testing.assert_frame_equal(loaded.parameters, med.parameters)
    np.testing.assert_array_equal(loaded.samples, med.samples)
    assert loaded.parameters["integer"].dtype == bool
    assert (tmp_path / "campaign" / "setup.toml").read_text().count('scale = "log"') == 1
    # resumed campaigns draw what the original would have drawn
    np.testing.assert_array_equal(loaded.sample(4), med.sample(4))


def test_script_declares_and_receives_integers(tmp_path):
    script = tmp_path / "sim.py"
    script.write_text(textwrap.dedent("""\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(
            ["n", "mu"], [1, 1e-2], [5, 1e2], scale=["linear", "log"], integer=[True, False])
        # MED PARAMETERS END
        n = parameters["value"]["n"]
        mu = parameters["value"]["mu"]
        assert isinstance(n, int), type(n)
        assert isinstance(mu, float), type(mu)
        response = sum(range(n)) + mu
    """))
    loaded = Script.load(script)
    assert loaded.parameters["scale"].tolist() == ["linear", "log"]
    med = medeq.MED(str(script), seed=1, verbose=0)
    med.sample(6)
    med.evaluate()
    n, mu = med.evaluated.T
    expected = n * (n - 1) / 2 + mu
    np.testing.assert_allclose(med.responses[:, 0], expected)    # no job failed
    assert np.all(n == np.round(n))
    assert set(med.results.columns) >= {"n", "mu"}
    np.testing.assert_array_equal(med.results["n"], n)           # results hold real values


def test_script_block_with_a_bad_declaration(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text(textwrap.dedent("""\
        # MED PARAMETERS START
        import medeq
        parameters = medeq.create_parameters(["mu"], [0.0], [1.0], scale=["log"])
        # MED PARAMETERS END
        response = 1
    """))
    with pytest.raises(ScriptError, match="parameter 'mu' is log-scaled but its minimum is 0.0"):
        Script.load(script)


def test_functions_receive_integral_values():
    seen = []

    def f(x):
        seen.append(x[1])
        return float(x[0])

    med = medeq.MED(declared(), seed=3, verbose=0)
    med.sample(10)
    med.evaluate(f)
    assert all(float(v).is_integer() for v in seen)


def test_spaced_values():
    parameters = declared()
    np.testing.assert_allclose(spaced_values(parameters, 0, 7), np.logspace(-3, 3, 7))
    np.testing.assert_array_equal(spaced_values(parameters, 1, 9), [1, 2, 3, 4, 5, 6])
    wide = medeq.create_parameters(["k"], [0], [100], integer=[True])
    values = spaced_values(wide, 0, 5)
    np.testing.assert_array_equal(values, [0, 25, 50, 75, 100])
    np.testing.assert_array_equal(spaced_values(parameters, 2, 5), np.linspace(0, 2, 5))


@pytest.fixture
def fitted():
    med = medeq.MED(declared(), seed=6, verbose=0)
    med.sample(24)
    med.evaluate(lambda x: float(np.log10(x[0]) + 0.3 * x[1] + x[2] ** 2))
    return med


def test_plots_use_log_axes_and_integer_sliders(fitted):
    fig = fitted.plot_samples()
    assert fig.layout.scene.xaxis.type == "log"
    assert fig.layout.scene.yaxis.type != "log"
    lo, hi = fig.layout.scene.xaxis.range
    assert lo < -3 < 3 < hi < 4
    fig = fitted.plot_response(parameters=("mu", "L"))
    assert fig.layout.xaxis.type == "log"
    assert list(fig.layout.xaxis.range) == pytest.approx([-3, 3])
    heat = fig.data[0]
    np.testing.assert_allclose(np.log10(heat.x), np.linspace(-3, 3, 32))
    fig = fitted.plot_response(parameters=("n", "mu"), resolution=16)
    assert list(fig.data[0].x) == [1, 2, 3, 4, 5, 6]
    assert np.shape(fig.data[0].z) == (16, 6)
    assert list(fig.layout.xaxis.range) == [0.5, 6.5]      # whole cells for 1 and 6
    assert fig.layout.yaxis.type == "log"
    fig = fitted.plot_gp(parameters=("mu", "L"), verbose=False)
    assert fig.layout.xaxis.type == "log"
    slider = fig.layout.sliders[0]
    assert slider.name == "n"
    assert [float(step.value) for step in slider.steps] == [1, 2, 3, 4, 5, 6]
    fig = fitted.plot_gp(parameters=("n", "L"), verbose=False)
    values = [float(step.value) for step in fig.layout.sliders[0].steps]
    np.testing.assert_allclose(np.log10(values), np.linspace(-3, 3, 9), atol=1e-5)


def test_one_parameter_log_plots():
    parameters = medeq.create_parameters(["mu"], [1e-3], [1e3], scale=["log"])
    med = medeq.MED(parameters, seed=0, verbose=0)
    med.sample(6)
    med.evaluate(lambda x: float(np.log10(x[0])))
    assert med.plot_gp(verbose=False).layout.xaxis.type == "log"
    fig = med.plot_response()
    assert fig.layout.xaxis.type == "log"
    assert med.plot_samples().layout.xaxis.type == "log"


def test_sensitivity_samples_in_the_transformed_space(fitted):
    """The indices of a log-scaled parameter are those of its log10 declared linear."""
    import warnings

    twin_parameters = medeq.create_parameters(
        ["mu", "n", "L"], [-3.0, 1, 0.0], [3.0, 6, 2.0], integer=[False, True, False])
    twin = medeq.MED(twin_parameters, seed=6, verbose=0)
    points = fitted.evaluated.copy()
    points[:, 0] = np.log10(points[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin.augment(points, fitted.responses)
        declared_log = fitted.sensitivity("discrepancy", verbose=False)
        declared_linear = twin.sensitivity("discrepancy", verbose=False)
        real_values = medeq.MED(fitted.parameters.drop(columns="scale"), seed=6, verbose=0)
        real_values.augment(fitted.evaluated, fitted.responses)
        linear_in_mu = real_values.sensitivity("discrepancy", verbose=False)
    pd.testing.assert_frame_equal(declared_log, declared_linear)
    assert not np.allclose(declared_log.to_numpy(), linear_in_mu.to_numpy())


def test_show_and_report_display_the_declarations(fitted, tmp_path, capsys):
    from medeq.cli import main

    fitted.save(tmp_path / "c")
    assert main(["show", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "scale" in out and "integer" in out and "log" in out and "True" in out
    html = (tmp_path / "r.html")
    fitted.report(html)
    text = html.read_text()
    assert ">scale<" in text and ">integer<" in text and ">log<" in text


def test_as_points_accepts_positive_log_values():
    parameters = declared()
    arr = as_points([[1e-5, 2.5, 3.0]], parameters)          # outside bounds: still valid
    assert arr.shape == (1, 3)
