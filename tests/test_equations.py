"""Equations: printing/parsing, complexity, polishing, hall of fame (no search)."""

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from medeq.discovery import Equation, HallOfFame, resolve_equation
from medeq.discovery import constraints as checks
from medeq.discovery.equations import pareto_front
from medeq.discovery.expressions import (
    _compiled,
    complexity,
    make_function,
    normalise_ratio,
    parse,
    symbols_for,
    to_string,
)
from medeq.discovery.polish import Fitness, nice_numbers, polish


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    "names, text",
    [
        (["lambda", "gamma"], "lambda**2/gamma + sin(gamma)"),
        (["E", "I", "S", "N"], "E*I/S - sqrt(N)"),
        (["pi", "x"], "pi*x + 3.5"),
        (["beta", "Q"], "exp(-beta/Q)/sqrt(2*pi)"),
        (["a b", "c"], "2*a b + c"),
    ],
)
def test_text_round_trips_to_the_same_expression(names, text):
    expr = parse(text, names)
    assert {str(s) for s in expr.free_symbols} <= set(names)
    assert parse(to_string(expr, names), names) == expr


def test_parse_uses_plain_symbols_and_power_caret():
    expr = parse("lambda^2", ["lambda"])
    assert expr == sp.Symbol("lambda") ** 2
    assert parse("pi*r", ["r"]) == sp.pi * sp.Symbol("r")  # pi is the constant here
    assert parse("pi*r", ["pi", "r"]) == sp.Symbol("pi") * sp.Symbol("r")


@pytest.mark.parametrize("text", ["", "x +", "y*2", "lambda x: x"])
def test_parse_errors_name_the_problem(text):
    with pytest.raises(ValueError, match="equation|parameters"):
        parse(text, ["x"])


def test_complexity_counts_operators_variables_constants():
    a, b, c = symbols_for(["a", "b", "c"])
    assert complexity(a + b) == 3
    assert complexity(a * b * c) == 5
    assert complexity(a / (4 * sp.pi * b * c)) == 7  # the constant 1/(4 pi) counts once
    assert complexity(sp.sqrt(a) - b) == 4


# ----------------------------------------------------------------- polishing
def _data(f, names, n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, (n, len(names)))
    return X, f(*X.T)


def test_polish_recognises_pi_and_drops_noise_constants():
    names = ["q", "epsilon", "r"]
    X, y = _data(lambda q, e, r: q / (4 * np.pi * e * r), names)
    q, e, r = symbols_for(names)
    raw = 0.0795773 * q / (1.0000004 * e * r) + 1e-9 + 2e-10 * q
    fitness = Fitness(X, y, symbols_for(names))
    clean, loss = polish(raw, fitness)
    assert sp.simplify(clean - q / (4 * sp.pi * e * r)) == 0
    text = to_string(clean, names)
    assert "1.0*" not in text and "+ 0" not in text and "e-" not in text
    assert loss < 1e-20


def test_polish_keeps_decimals_the_data_support_when_noisy():
    names = ["x"]
    X, y = _data(lambda x: 1.2345 * x, names)
    y = y + np.random.default_rng(1).normal(0, 0.01, len(y))
    (x,) = symbols_for(names)
    clean, _ = polish(1.2 * x + 0.001, Fitness(X, y, [x]))
    (coefficient,) = [f for f in clean.atoms(sp.Float)]
    assert abs(float(coefficient) - 1.2345) < 0.01
    assert len(str(float(coefficient))) <= 7  # rounded, not 17 digits


def test_nice_numbers_simplest_first():
    numbers = [n for n, _ in nice_numbers(1 / (2 * np.pi))]
    assert 1 / (2 * sp.pi) in numbers
    assert nice_numbers(3.0)[0][0] == 3
    assert all(not n.has(sp.pi) for n, _ in nice_numbers(np.pi, allow_pi=False))


# ---------------------------------------------------------------- hall of fame
def _hall():
    frame = pd.DataFrame({
        "complexity": [1, 3, 5], "loss": [24.12, 1e-30, 1e-31], "score": [0.0, 11.5, 0.0],
        "equation": ["4.1", "A + B", "A + B + 1e-16*A"],
    })
    return HallOfFame.from_frame(frame, ["A", "B"])


def test_hall_of_fame_frame_round_trip_and_best():
    hof = _hall()
    assert list(hof.frame.columns) == ["complexity", "loss", "score", "equation"]
    again = HallOfFame.from_frame(hof.to_frame(), ["A", "B"])
    assert [e.sympy for e in again] == [e.sympy for e in hof]
    assert hof.best.sympy == sp.Symbol("A") + sp.Symbol("B")
    np.testing.assert_allclose(hof.best([[1.0, 2.0], [3.0, 4.0]]), [3.0, 7.0])
    text = str(hof)
    assert text.startswith("Hall of Fame:") and "Complexity" in text and "A + B" in text


def test_equation_attributes_and_errors():
    e = Equation("sqrt(lambda)*x", ["x", "lambda"], loss=0.5)
    assert e.latex == r"x \sqrt{\lambda}" or "lambda" in e.latex
    np.testing.assert_allclose(e.evaluate(np.array([2.0, 4.0])), [4.0])
    assert e.complexity == 4
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        e.evaluate(np.ones((3, 3)))
    constant = Equation("2.5", ["x"])
    np.testing.assert_allclose(constant(np.ones((4, 1))), 2.5)


def test_pareto_front_scores_and_parsimony():
    a, b = symbols_for(["a", "b"])
    candidates = [(sp.Float(3.0), 9.0), (a, 4.0), (a + b, 3.99), (a * b + a, 1e-3), (a * b + a + b, 0.5)]
    front = pareto_front(candidates, ["a", "b"], parsimony=0.0)
    assert [e.complexity for e in front] == [1, 3, 5]
    assert front[0].score == 0 and all(e.score > 0 for e in front[1:])
    lean = pareto_front(candidates, ["a", "b"], parsimony=0.5)
    assert [e.sympy for e in lean] == [a, a * b + a]


def test_resolve_equation_forms():
    hof = _hall()
    names = ["A", "B"]
    assert resolve_equation(hof, "best", names) is hof.best
    assert resolve_equation(hof, 0, names) is hof[0]
    assert resolve_equation(hof, -1, names) is hof[-1]
    assert resolve_equation(None, "A*B", names).sympy == sp.Symbol("A") * sp.Symbol("B")
    with pytest.raises(ValueError, match="out of range"):
        resolve_equation(hof, 7, names)
    with pytest.raises(ValueError, match="discover first"):
        resolve_equation(None, "best", names)
    with pytest.raises(ValueError, match="not one of the parameters"):
        resolve_equation(hof, "A*C", names)
    with pytest.raises(ValueError, match="Equation, a hall-of-fame row index"):
        resolve_equation(hof, 2.5, names)


# ----------------------------------------------------------------- constraints
def test_constraints_and_nesting():
    x, y = symbols_for(["x", "y"])
    limits, nested = checks.validate({"^": (-1, 1), "sin": 3}, {"sin": {"cos": 0}}, ["+", "*", "^", "sin", "cos"])
    assert checks.satisfies(x**2 + sp.sin(x * y), limits, nested)
    assert not checks.satisfies(x ** (x + y), limits, nested)
    assert not checks.satisfies(sp.sin(x * y * x + y), limits, nested)
    assert not checks.satisfies(sp.sin(sp.cos(x)), limits, nested)


@pytest.mark.parametrize(
    "constraints, nested, match",
    [
        ({"exp": 3}, None, "not in this search"),
        ({"^": 3}, None, r"\(left, right\)"),
        (None, {"sin": {"cos": -1}}, "count >= 0"),
        ("pow", None, "must be a dict"),
    ],
)
def test_constraint_errors(constraints, nested, match):
    with pytest.raises(ValueError, match=match):
        checks.validate(constraints, nested, ["+", "^", "sin", "cos"])


def test_polish_merges_constant_factors_and_prefers_rational_exponents():
    names = ["F", "r"]
    X, y = _data(lambda F, r: F * np.sqrt(r), names)
    F, r = symbols_for(names)
    fitness = Fitness(X, y, [F, r])
    clean, _ = polish(sp.Float(2.2214414) * sp.sqrt(2) * F * r ** sp.Float(0.5000001) / sp.pi, fitness)
    assert clean == F * sp.sqrt(r)


def test_expressible_with_the_chosen_operators():
    x, y = symbols_for(["x", "y"])
    assert checks.expressible(x**2 / y, ["*", "/"])
    assert not checks.expressible(x**2 / y, ["*"])
    assert checks.expressible(x ** sp.Rational(3, 2), ["*", "sqrt"])
    assert not checks.expressible(x ** sp.Rational(-1, 2), ["*", "sqrt"])
    assert not checks.expressible(x ** sp.Rational(3, 2), ["*"])
    assert not checks.expressible(x**y, ["*", "+"])
    assert checks.expressible(x**y, ["^"])
    assert not checks.expressible(sp.exp(x) + y, ["+"])
    assert checks.expressible(sp.Abs(x) + y, ["+", "abs"])


def test_polish_drops_spurious_terms_then_recognises_the_merged_constant():
    names = ["m", "q", "h", "epsilon"]
    X, y = _data(lambda m, q, h, e: e * h**2 / (np.pi * m * q**2), names)
    m, q, h, e = symbols_for(names)
    raw = 5.86e-9 * e + 0.5251003701 * h * (0.6061886091 * e * h / (m * q) - 4.37e-8) / q
    clean, loss = polish(raw, Fitness(X, y, [m, q, h, e]))
    assert clean == e * h**2 / (sp.pi * m * q**2) and loss < 1e-20


def test_normalise_ratio_removes_the_common_factor():
    V, g = symbols_for(["V", "gamma_"])
    normal = normalise_ratio(0.65 * V / (0.65 * g - 0.65))
    assert normal.equals(V / (g - 1))
    assert normalise_ratio(V / (g - 1)) == V / (g - 1)


def test_compiled_equations_are_reused_and_keyed_by_their_symbols():
    """make_function compiles an equation once per symbol order: the second
    call reuses it, and another column order gets its own."""
    a, b = sp.symbols("a b")
    expr = a - 2 * b
    X = np.array([[1.0, 2.0], [3.0, 5.0]])
    _compiled.cache_clear()
    first = make_function(expr, [a, b])(X)
    again = make_function(sp.Symbol("a") - 2 * sp.Symbol("b"), [a, b])(X)
    assert (_compiled.cache_info().hits, _compiled.cache_info().misses) == (1, 1)
    swapped = make_function(expr, [b, a])(X)
    np.testing.assert_allclose(first, [-3.0, -7.0])
    np.testing.assert_allclose(again, first)
    np.testing.assert_allclose(swapped, [0.0, -1.0])
