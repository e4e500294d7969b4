"""The autonomous exploration loop, its stopping conditions and progress output."""

import io
import math
import time

import numpy as np
import pytest
import sympy as sp

import medeq
from medeq.exploration import (
    AllOf,
    AnyOf,
    EvaluationBudget,
    ExplorationState,
    StoppingCondition,
    TimeLimit,
    UncertaintyTarget,
    default_batch,
    domain_uncertainty,
    load_exploration,
)
from medeq.progress import Progress, track


def smooth(sample):
    return np.sin(3 * sample[0]) + sample[1] ** 2


@pytest.fixture
def unit_med():
    parameters = medeq.create_parameters(["x", "y"], [0.0, 0.0], [1.0, 1.0])
    return medeq.MED(parameters, seed=7, verbose=0)


# ------------------------------------------------------------------ conditions
def test_budget_stops_at_exactly_the_budget(unit_med):
    result = unit_med.explore(smooth, budget=7, batch=3, save=False)
    assert unit_med.n_evaluated == 7
    assert [b - a for a, b in unit_med.epochs] == [3, 3, 1]   # last batch trimmed
    assert result.batches == 3 and result.n_new == 7
    assert "budget" in result.reason
    assert len(unit_med.queue) == 0


def test_uncertainty_target_stops_when_reached(unit_med):
    result = unit_med.explore(smooth, target_uncertainty=0.05, budget=60, batch=2, save=False)
    assert "uncertainty" in result.reason
    assert unit_med.n_evaluated < 60
    assert domain_uncertainty(unit_med) <= 0.05
    assert result.uncertainty == pytest.approx(domain_uncertainty(unit_med))
    # One batch less would not have reached it: the loop stopped at the first chance.
    earlier = unit_med.subset(slice(0, unit_med.n_evaluated - 2))
    assert domain_uncertainty(earlier) > 0.05


def test_time_limit_stops_between_batches(unit_med):
    def slow(sample):
        time.sleep(0.05)
        return smooth(sample)

    started = time.monotonic()
    result = unit_med.explore(slow, time_limit=0.6, batch=2, save=False)
    took = time.monotonic() - started
    assert "time limit" in result.reason
    assert result.elapsed >= 0.6
    assert took < 0.6 + 5  # at most one batch (and its refit) past the limit
    assert unit_med.n_evaluated >= 2


def test_or_stops_at_first_and_all_waits_for_every_condition(unit_med):
    unreachable = UncertaintyTarget(1e-12)
    stop = (EvaluationBudget(4) & unreachable) | EvaluationBudget(8)
    assert isinstance(stop, AnyOf) and isinstance(stop.conditions[0], AllOf)
    result = unit_med.explore(smooth, stop=stop, batch=3, save=False)
    assert unit_med.n_evaluated == 8          # the & did not stop at 4
    assert "8/8" in result.reason

    second = medeq.MED(unit_med.parameters, seed=1, verbose=0)
    result = second.explore(smooth, stop=EvaluationBudget(5) | TimeLimit(3600), batch=2, save=False)
    assert second.n_evaluated == 5 and "budget" in result.reason


def test_all_of_reports_every_reason(unit_med):
    unit_med.explore(smooth, budget=6, save=False)
    state = ExplorationState(unit_med, n_start=0)
    both = EvaluationBudget(6) & UncertaintyTarget(1e6)
    reason = both.check(state)
    assert "budget" in reason and "uncertainty" in reason and " and " in reason
    assert (EvaluationBudget(6) & UncertaintyTarget(1e-12)).check(state) is None
    # Combinations flatten and keep their order.
    a, b, c = EvaluationBudget(1), TimeLimit(1), UncertaintyTarget(1)
    assert (a | b | c).conditions == [a, b, c]
    assert repr(a | (b & c)) == "(EvaluationBudget(1) | (TimeLimit(1) & UncertaintyTarget(1)))"


def test_custom_condition(unit_med):
    class ResponseAbove(StoppingCondition):
        def __init__(self, threshold):
            self.threshold = threshold

        def check(self, state):
            responses = state.med.responses
            if responses is not None and np.nanmax(responses) > self.threshold:
                return f"a response exceeded {self.threshold}"
            return None

    result = unit_med.explore(lambda s: 10 * s[0], stop=ResponseAbove(5.0) | EvaluationBudget(50),
                              batch=2, save=False)
    assert result.reason == "a response exceeded 5.0"
    assert np.nanmax(unit_med.responses) > 5.0
    last = unit_med.epochs[-1][0]
    assert last == 0 or np.nanmax(unit_med.responses[:last]) <= 5.0   # stopped at once


def test_budget_counts_earlier_results(unit_med):
    unit_med.augment([[0.1, 0.1], [0.9, 0.9], [0.5, 0.2]], [1.0, 2.0, 3.0])
    unit_med.explore(smooth, budget=5, batch=4, save=False)
    assert unit_med.n_evaluated == 5
    result = unit_med.explore(smooth, budget=5, save=False)
    assert result.n_new == 0 and result.batches == 0 and "budget" in result.reason


def test_queued_samples_are_evaluated_first(unit_med):
    queued = unit_med.sample(3)
    unit_med.explore(smooth, budget=5, batch=4, save=False)
    np.testing.assert_array_equal(unit_med.evaluated[:3], queued)
    assert [b - a for a, b in unit_med.epochs] == [3, 2]


@pytest.mark.parametrize("kwargs, match", [
    ({}, "stopping condition"),
    ({"budget": 0}, "budget"),
    ({"budget": 2.5}, "budget"),
    ({"budget": 5, "batch": 0}, "batch"),
    ({"target_uncertainty": -0.1}, "uncertainty target"),
    ({"time_limit": 0}, "time limit"),
])
def test_invalid_settings_raise_before_any_work(unit_med, kwargs, match):
    with pytest.raises(ValueError, match=match):
        unit_med.explore(smooth, save=False, **kwargs)
    assert len(unit_med.samples) == 0 and unit_med.paths is None


def test_invalid_evaluators(unit_med):
    with pytest.raises(ValueError, match="script"):
        unit_med.explore(budget=3)
    with pytest.raises(TypeError, match="med.evaluate"):
        unit_med.explore([1.0, 2.0], budget=3)
    with pytest.raises(TypeError, match="stopping conditions"):
        EvaluationBudget(3) | 5
    with pytest.raises(ValueError, match="quantile"):
        UncertaintyTarget(0.1, quantile=0)


def test_a_batch_where_everything_fails_stops_with_the_error(unit_med, tmp_path):
    def broken(sample):
        raise ZeroDivisionError("no")

    with pytest.raises(RuntimeError, match="every evaluation failed"):
        unit_med.explore(broken, budget=4, directory=tmp_path / "camp")
    record = load_exploration(tmp_path / "camp")
    assert record["status"]["state"] == "failed"
    assert "every evaluation failed" in record["status"]["reason"]


def test_default_batch(unit_med):
    assert default_batch(unit_med) == 2
    three = medeq.MED(medeq.create_parameters(["a", "b", "c"], [0] * 3, [1] * 3), verbose=0)
    assert default_batch(three) == 3
    three.scheduler = medeq.LocalScheduler(max_workers=2)
    assert default_batch(three) == 4     # 3 parameters, rounded up to the 2 workers


# ----------------------------------------------------------------- uncertainty
def test_domain_uncertainty_definition(unit_med):
    assert domain_uncertainty(unit_med) == math.inf          # no surrogate yet
    unit_med.explore(smooth, budget=12, batch=4, save=False)
    value = domain_uncertainty(unit_med)
    # Recompute by hand: 95th percentile over the fixed Sobol points of std / spread.
    from scipy.stats import qmc

    points = qmc.Sobol(2, scramble=True, seed=unit_med.seed).random_base2(10)
    _, std = unit_med.predict(points, return_std=True)
    expected = np.quantile(std / np.std(unit_med.responses[:, 0]), 0.95)
    assert value == pytest.approx(expected)
    assert domain_uncertainty(unit_med, quantile=1.0) >= value >= domain_uncertainty(unit_med, quantile=0.5)
    unit_med.explore(smooth, budget=30, batch=6, save=False)
    assert domain_uncertainty(unit_med) < value               # more data, less uncertainty


def test_uncertainty_is_the_worst_response():
    parameters = medeq.create_parameters(["x", "y"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=3, verbose=0)
    med.explore(lambda s: [s[0] + s[1], np.sin(8 * s[0]) * np.cos(5 * s[1])], budget=10, save=False)
    both = domain_uncertainty(med)
    easy = medeq.MED(parameters, seed=3, verbose=0)
    easy.augment(med.evaluated, med.responses[:, 0])
    hard = medeq.MED(parameters, seed=3, verbose=0)
    hard.augment(med.evaluated, med.responses[:, 1])
    assert both == pytest.approx(max(domain_uncertainty(easy), domain_uncertainty(hard)))
    assert domain_uncertainty(hard) > domain_uncertainty(easy)


# ------------------------------------------------------------- saving, resuming
def test_saves_every_batch_and_resumes(unit_med, tmp_path):
    folder = tmp_path / "campaign"
    seen = []

    def watched(sample):
        seen.append(len(medeq.MED.load(folder).evaluated) if (folder / "setup.toml").exists() else 0)
        return smooth(sample)

    result = unit_med.explore(watched, budget=6, batch=2, directory=folder)
    assert result.directory == folder.resolve()
    assert sorted(set(seen)) == [0, 2, 4]            # results on disk before each batch
    record = load_exploration(folder)
    assert [(b["start"], b["end"]) for b in record["batches"]] == [(0, 2), (2, 4), (4, 6)]
    assert record["status"]["state"] == "stopped" and record["settings"]["budget"] == 6

    loaded = medeq.MED.load(folder)
    loaded.verbose = 0
    result = loaded.explore(smooth, budget=10, batch=3)
    assert loaded.n_evaluated == 10 and result.n_new == 4
    record = load_exploration(folder)
    assert [(b["start"], b["end"]) for b in record["batches"]][-2:] == [(6, 9), (9, 10)]
    assert medeq.MED.load(folder).n_evaluated == 10


def test_interrupted_exploration_resumes_without_losing_or_repeating(unit_med, tmp_path):
    folder = tmp_path / "campaign"
    calls = []

    def interrupt_at_seventh(sample):
        calls.append(tuple(sample))
        if len(calls) == 7:
            raise KeyboardInterrupt
        return smooth(sample)

    with pytest.raises(KeyboardInterrupt):
        unit_med.explore(interrupt_at_seventh, budget=12, batch=4, directory=folder)
    record = load_exploration(folder)
    assert record["status"]["state"] == "interrupted"
    resumed = medeq.MED.load(folder)
    assert resumed.n_evaluated == 6 and len(resumed.queue) == 2   # 4 + 2 finished, 2 queued
    queued = resumed.queue.copy()
    resumed.verbose = 0
    result = resumed.explore(smooth, budget=12, batch=4)
    assert resumed.n_evaluated == 12 and result.n_new == 6
    np.testing.assert_array_equal(resumed.evaluated[6:8], queued)   # the queue went first
    assert len(np.unique(resumed.evaluated, axis=0)) == 12


def test_discover_at_the_end(tmp_path):
    parameters = medeq.create_parameters(["a", "b"], [1.0, 1.0], [3.0, 3.0])
    med = medeq.MED(parameters, seed=5, verbose=0)
    result = med.explore(lambda s: 3 * s[0] * s[1], budget=16, batch=8, discover=True,
                         directory=tmp_path / "camp",
                         discover_options={"binary_operators": ["+", "*"],
                                           "timeout_in_seconds": 4})
    hall_of_fame = result.equations["response"]
    assert hall_of_fame is med.sr["response"]
    a, b = sp.symbols("a b")
    points = med.evaluated
    assert any(
        np.allclose(sp.lambdify((a, b), sp.sympify(str(eq), locals={"a": a, "b": b}))(*points.T),
                    3 * points[:, 0] * points[:, 1], rtol=1e-6)
        for eq in hall_of_fame
    )
    assert (tmp_path / "camp" / "equations.csv").is_file()
    assert not (tmp_path / "equations.csv").exists()     # no stray file in the working folder
    assert "best equation for response" in str(result)


# -------------------------------------------------------------------- progress
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_modes():
    silent = io.StringIO()
    with Progress(total=3, desc="work", verbose=0, stream=silent) as bar:
        bar.update(3)
        bar.write("hello")
    assert silent.getvalue() == ""

    lines = io.StringIO()
    with Progress(total=4, desc="work", stream=lines, interval=3600, unit="jobs") as bar:
        for _ in range(4):
            bar.update(postfix="ok")
    text = lines.getvalue().splitlines()
    assert text[0].startswith("work: 1/4 jobs (25%)")
    assert text[-1].startswith("work: 4/4 jobs (100%)") and text[-1].endswith("ok")
    assert len(text) == 2          # first line, then only the last one within the interval

    terminal = FakeTerminal()
    with Progress(total=2, desc="work", stream=terminal) as bar:
        bar.update(2)
    assert "\r" in terminal.getvalue() and "2/2" in terminal.getvalue()

    assert list(track(range(3), desc="t", verbose=0)) == [0, 1, 2]
    with pytest.raises(ValueError, match="mode"):
        Progress(mode="fancy")


def test_explore_progress_is_silent_at_verbose_zero(unit_med, capsys):
    unit_med.explore(smooth, budget=4, batch=2, save=False, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    unit_med.explore(smooth, budget=8, batch=2, save=False, verbose=1)
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("exploring: 8/8 results (100%)") and "uncertainty" in err[-1]
