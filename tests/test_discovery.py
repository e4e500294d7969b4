"""Equation discovery: operators, recovery, campaign glue, storage.

Searches use small budgets and a fixed seed; each stops as soon as an exact
fit is found, so a simple law takes a few seconds.
"""

import numpy as np
import pandas as pd
import pytest
import sympy as sp

import medeq
from medeq.discovery import (
    HallOfFame,
    SearchSettings,
    available_backends,
    discover_arrays,
    get_backend,
)
from medeq.discovery.campaign import select_features
from medeq.discovery.expressions import symbols_for
from medeq.discovery.operon import OperonBackend

FAST = dict(timeout=20.0, seed=1)


def _recovered(hof, truth) -> bool:
    return any(sp.simplify(e.sympy - truth) == 0 for e in hof)


# ------------------------------------------------------------------ operators
def test_operator_names_map_to_operon():
    backend = OperonBackend()
    mapped = backend.map_operators(["+", "-", "*", "/", "^"], ["sin", "sqrt", "square", "neg"])
    assert set(mapped) == {"add", "sub", "mul", "div", "pow", "sin", "sqrt", "square"}
    params, control = backend.configure(SearchSettings(maxsize=20, maxdepth=6, niterations=7, populations=2,
                                                       turbo=False, options={"restarts": 2}))
    assert params["max_length"] == 20 and params["max_depth"] == 6
    assert params["generations"] == 7 and params["population_size"] == 66
    assert params["n_threads"] == 1 and control["restarts"] == 2


@pytest.mark.parametrize(
    "binary, unary, match",
    [
        (["+", "%"], [], r"binary operator '%'.*supported binary operators: \['\*', '\+'"),
        (["+"], ["cube"], r"unary operator 'cube'.*'sqrt'"),
        (["+"], ["myfunc(x) = x^2"], "supported unary operators"),
        ("+", [], "must be a list"),
    ],
)
def test_unsupported_operators_list_the_supported_ones(binary, unary, match):
    with pytest.raises(ValueError, match=match):
        OperonBackend().map_operators(binary, unary)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"allowed_symbols": "add"}, "set by binary_operators"),
        ({"no_such_option": 1}, "unknown keyword 'no_such_option'.*optimizer_iterations"),
        ({"restarts": 0}, "restarts must be a positive int"),
    ],
)
def test_backend_keywords_are_checked(options, match):
    with pytest.raises(ValueError, match=match):
        OperonBackend().configure(SearchSettings(options=options))


def test_backend_registry():
    backends = available_backends()
    assert backends["operon"] is None
    with pytest.raises(ValueError, match="unknown discovery backend 'julia'"):
        get_backend("julia")


@pytest.mark.optional  # PySR needs Julia, which cannot be installed on every machine (CI's included)
def test_pysr_backend_runs_where_installed():
    reason = available_backends()["pysr"]
    if reason is not None:
        pytest.skip(f"pysr backend unavailable: {reason}")
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (100, 2))
    hof = discover_arrays(X, X[:, 0] + X[:, 1], ["A", "B"], SearchSettings(niterations=5, **FAST),
                          backend="pysr")
    assert _recovered(hof, sp.Symbol("A") + sp.Symbol("B"))


# ------------------------------------------------------------------- recovery
@pytest.mark.parametrize(
    "names, law",
    [
        (["A", "B"], lambda A, B: A + B),
        (["m", "g", "z"], lambda m, g, z: m * g * z),
        (["q", "epsilon", "r"], lambda q, epsilon, r: q / (4 * sp.pi * epsilon * r)),
    ],
)
def test_simple_laws_are_recovered_exactly(names, law):
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (200, len(names)))
    truth = law(*symbols_for(names))
    y = sp.lambdify(symbols_for(names), truth)(*X.T)
    settings = SearchSettings(binary_operators=["+", "-", "*", "/"],
                              unary_operators=["sqrt", "exp"], **FAST)
    hof = discover_arrays(X, y, names, settings)
    assert _recovered(hof, truth), str(hof)
    assert hof.best.sympy == truth
    text = str(hof.best)
    assert "1.0*" not in text and "+ 0" not in text and "--" not in text


def test_constraints_parsimony_and_maxsize_shape_the_hall_of_fame():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (150, 2))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.3 * X[:, 0] ** 2
    names = ["a", "b"]
    base = dict(binary_operators=["+", "-", "*", "/"], unary_operators=["sin", "cos"], seed=3,
                timeout=None, niterations=20, options={"restarts": 1})
    hof = discover_arrays(X, y, names, SearchSettings(maxsize=12, **base), parsimony=0.0,
                          nested_constraints={"sin": {"cos": 0}}, constraints={"*": (-1, 3)})
    assert all(e.complexity <= 12 for e in hof)
    for e in hof:
        for node in sp.preorder_traversal(e.sympy):
            if isinstance(node, sp.sin):
                assert not node.args[0].has(sp.cos)
    lean = discover_arrays(X, y, names, SearchSettings(maxsize=12, **base), parsimony=1.0)
    assert len(lean) <= len(hof)


def test_turbo_false_is_reproducible():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 3, (100, 2))
    y = X[:, 0] * np.exp(-X[:, 1])
    settings = SearchSettings(unary_operators=["exp"], turbo=False, timeout=None, niterations=10,
                              seed=5, options={"restarts": 1})
    first = discover_arrays(X, y, ["a", "b"], settings)
    second = discover_arrays(X, y, ["a", "b"], settings)
    assert first.frame.equals(second.frame)


def test_progress_bar(capsys):
    X = np.random.default_rng(0).uniform(1, 2, (50, 1))
    discover_arrays(X, 2 * X[:, 0], ["x"], SearchSettings(progress=True, timeout=None, niterations=10, seed=0))
    assert "operon runs" in capsys.readouterr().err


# ------------------------------------------------------------ with a campaign
def _campaign(names, law, n=200, k=1, seed=0, **kwargs):
    parameters = medeq.create_parameters(names, [1.0] * len(names), [5.0] * len(names))
    med = medeq.MED(parameters, seed=seed, verbose=0, **kwargs)
    X = np.random.default_rng(seed).uniform(1, 5, (n, len(names)))
    med.augment(X, law(X))
    return med


def test_med_discover_stores_saves_and_loads_equations(tmp_path):
    med = _campaign(["A", "B"], lambda X: X[:, 0] + X[:, 1])
    med.responses[3, 0] = np.nan  # a failed evaluation is left out
    hof = med.discover(binary_operators=["+", "*"], timeout_in_seconds=20, equation_file="eqs.csv")
    assert isinstance(hof, HallOfFame) and isinstance(hof, list)
    assert str(hof.best) == "A + B"
    assert med.sr["response"] is hof
    written = pd.read_csv("eqs.csv")
    assert list(written.columns) == ["response", "complexity", "loss", "score", "equation", "at_noise_floor"]
    np.testing.assert_allclose(med.predict([[1.0, 2.0]], equation="best"), [3.0])
    np.testing.assert_allclose(med.predict([[1.0, 2.0]], equation="A*B"), [2.0])
    med.save(tmp_path / "campaign")
    assert (tmp_path / "campaign" / "equations.csv").exists()
    loaded = medeq.MED.load(tmp_path / "campaign")
    assert [e.sympy for e in loaded.sr["response"]] == [e.sympy for e in hof]
    assert loaded.sr["response"].frame[["complexity", "equation"]].equals(hof.frame[["complexity", "equation"]])
    # the noise-floor flags survive the folder, so the reloaded best is the same equation
    assert [e.at_floor for e in loaded.sr["response"]] == [e.at_floor for e in hof]
    assert str(loaded.sr["response"].best) == str(hof.best)


def test_several_responses_need_a_choice():
    med = _campaign(["x", "y"], lambda X: np.column_stack([X[:, 0] * X[:, 1], X[:, 0] - X[:, 1]]),
                    response_names=["product", "difference"])
    with pytest.raises(ValueError, match=r"2 responses \['product', 'difference'\]"):
        med.discover()
    with pytest.raises(ValueError, match="unknown response 'sum'"):
        med.discover("sum")
    hof = med.discover(1, binary_operators=["-", "*"], timeout_in_seconds=20, equation_file=None)
    assert str(hof.best) == "x - y" and "difference" in med.sr
    hof = med.discover("product", binary_operators=["-", "*"], timeout_in_seconds=20, equation_file=None)
    assert str(hof.best) == "x*y"


def test_verbose_prints_the_hall_of_fame(capsys):
    med = _campaign(["A", "B"], lambda X: X[:, 0] * X[:, 1])
    med.verbose = 1
    med.discover(binary_operators=["*"], timeout_in_seconds=10, equation_file=None)
    out = capsys.readouterr().out
    assert "Hall of Fame:" in out and "A*B" in out


class _Surrogate(medeq.MED):
    """A real campaign whose surrogate mean is known exactly."""

    def __init__(self, X, y, mean):
        super().__init__(medeq.create_parameters(["A", "B"], [1.0, 1.0], [5.0, 5.0]),
                         seed=0, verbose=0)
        self.augment(X, y)
        self._mean = mean
        self.calls = 0

    def predict(self, X, response=None, return_std=True):
        self.calls += 1
        return self._mean(X)


def test_denoise_fits_the_surrogate_mean():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (150, 2))
    noisy = X[:, 0] + X[:, 1] + rng.normal(0, 2.0, len(X))
    med = _Surrogate(X, noisy, lambda X: X[:, 0] + X[:, 1])
    from medeq.discovery import discover_campaign

    name, hof = discover_campaign(med, binary_operators=["+", "*"], denoise=True,
                                  timeout_in_seconds=20, equation_file=None)
    assert med.calls == 1 and name == "response"
    assert str(hof.best) == "A + B" and hof.best.loss < 1e-12


def test_denoise_through_med_uses_the_gaussian_process():
    rng = np.random.default_rng(1)
    med = _campaign(["A", "B"], lambda X: X[:, 0] + 2 * X[:, 1] + rng.normal(0, 0.3, len(X)), n=60)
    hof = med.discover(binary_operators=["+", "*"], denoise=True, timeout_in_seconds=10, equation_file=None)
    mean = med.predict(med.evaluated, return_std=False)
    for equation in hof:  # losses are measured against the surrogate's mean
        np.testing.assert_allclose(equation.loss, np.mean((equation(med.evaluated) - mean) ** 2),
                                   rtol=1e-6, atol=1e-12)


def test_denoise_on_exact_data_warns_and_keeps_the_raw_values():
    med = _campaign(["A", "B"], lambda X: X[:, 0] + 2 * X[:, 1], n=40)
    with pytest.warns(RuntimeWarning, match="discovering on the raw values"):
        hof = med.discover(binary_operators=["+", "*"], denoise=True, timeout_in_seconds=10,
                           equation_file=None)
    assert str(hof.best) == "A + 2*B" and hof.best.loss < 1e-20


def test_select_k_features_searches_the_relevant_parameters():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (200, 4))
    y = X[:, 1] * X[:, 3]
    assert select_features(X, y, 2, 0, list("abcd")) == [1, 3]
    assert select_features(X, y, 4, 0, list("abcd")) is None
    with pytest.raises(ValueError, match="select_k_features must be a positive int"):
        select_features(X, y, 0, 0, list("abcd"))
    med = _campaign(["a", "b", "c", "d"], lambda X: X[:, 1] * X[:, 3])
    hof = med.discover(binary_operators=["+", "*"], select_k_features=2, timeout_in_seconds=10,
                       equation_file=None)
    used = set().union(*(e.sympy.free_symbols for e in hof))
    assert used <= set(sp.symbols("b d")) and str(hof.best) == "b*d"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"turbo": "yes"}, "turbo must be True or False"),
        ({"timeout_in_seconds": -1}, "timeout_in_seconds must be a positive number"),
        ({"parsimony": -0.1}, "parsimony must be a float >= 0"),
        ({"unary_operators": ["erf"]}, "unary operator 'erf'"),
        ({"backend": "nope"}, "unknown discovery backend"),
        ({"constraints": {"sin": 2}}, "not in this search"),
    ],
)
def test_bad_arguments_are_rejected_before_searching(kwargs, match):
    med = _campaign(["A", "B"], lambda X: X[:, 0] + X[:, 1], n=20)
    with pytest.raises(ValueError, match=match):
        med.discover(equation_file=None, **kwargs)
    assert med.sr == {}


def test_operon_alone_recovers_a_simple_law():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (200, 3))
    settings = SearchSettings(binary_operators=["+", "-", "*", "/"], **FAST)
    hof = discover_arrays(X, X[:, 0] * X[:, 1] * X[:, 2], ["m", "g", "z"], settings, linear_seeds=False)
    assert str(hof.best) == "g*m*z"


def test_linear_seeds_power_laws_and_rational_functions():
    from medeq.discovery import seeds

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (300, 3))
    q, e, r = symbols_for(["q", "e", "r"])
    (law,) = seeds.power_laws(X, X[:, 0] / (4 * np.pi * X[:, 1] * X[:, 2] ** 2), [q, e, r], {"*", "/"})
    assert sp.simplify(law / (q / (e * r**2))).is_number
    assert seeds.power_laws(X, X[:, 0] / X[:, 1], [q, e, r], {"*"}) == []  # "/" not allowed

    c, u, v = symbols_for(["c", "u", "v"])
    y = (X[:, 1] + X[:, 2]) / (1 + X[:, 1] * X[:, 2] / X[:, 0] ** 2)
    found = seeds.rational_functions(X, y, [c, u, v], {"+", "*", "/"})
    (fit,) = found
    np.testing.assert_allclose(sp.lambdify([c, u, v], fit)(*X.T), y, rtol=1e-9)
    assert sp.fraction(sp.together(fit))[1].as_poly(c, u, v).total_degree() == 2  # c**2 + u*v
    assert seeds.rational_functions(X, y, [c, u, v], {"+", "*"}) == []  # needs "/"
    distance = np.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2)
    # Without sqrt: at most high-degree approximations (numerically on the floor), no law.
    assert all(len(fit.atoms(sp.Float)) > 10
               for fit in seeds.rational_functions(X, distance, [c, u, v], {"+", "*", "/"}))
    assert seeds.rational_functions(X, distance, [c, u, v], {"+", "*", "/", "sqrt"})
