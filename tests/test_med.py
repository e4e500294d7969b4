"""The MED campaign facade: the reference's local workflow and every error path."""


import numpy as np
import pandas as pd
import pytest
from conftest import assert_unchanged, instrument, snapshot

import medeq


# ------------------------------------------------------------ reference examples
def test_reference_local_workflow():
    parameters = medeq.create_parameters(["A", "B"], minimums=[-5.0, -5.0], maximums=[10.0, 10.0])
    med = medeq.MED(parameters)
    text = repr(med)
    assert text.startswith(f"MED(seed={med.seed})")
    for line in ("response_names = None", f"sampler = DVASampler(d=2, seed={med.seed}",
                 "samples = np.ndarray[(0, 2), float64]", "responses = NoneType",
                 "epochs = list[0, tuple[int, int]]"):
        assert line in text

    samples = med.sample(5)
    assert samples.shape == (5, 2)
    to_evaluate = med.queue
    np.testing.assert_array_equal(to_evaluate, samples)
    med.evaluate([1, 2, 3, 4, 5])
    np.testing.assert_array_equal(med.responses[:, 0], [1, 2, 3, 4, 5])

    # "Or evaluate simple Python function / model": the queue is empty now.
    with pytest.warns(RuntimeWarning, match="queue is empty"):
        med.evaluate(instrument)
    med.sample(5)
    med.evaluate(instrument)
    results = med.results
    assert list(results.columns) == ["A", "B", "variance", "response"]
    np.testing.assert_allclose(results["response"][5:], results["A"][5:] + results["B"][5:])

    med.augment([[1, 1], [2, 2], [1, 2]], [1, 2, 3])
    assert len(med.results) == 13
    assert med.epochs == [(0, 5), (5, 10), (10, 13)]
    assert med.epoch_origins == ["evaluated", "evaluated", "augmented"]


def test_docstring_evaluate_example(med):
    med.sample(3)
    med.evaluate([1, 2, 3])
    assert med.responses.shape == (3, 1)


def test_seed_drawn_and_recorded(parameters):
    med = medeq.MED(parameters, verbose=0)
    assert isinstance(med.seed, int)
    again = medeq.MED(parameters, seed=med.seed, verbose=0)
    np.testing.assert_array_equal(med.sample(4), again.sample(4))


# ----------------------------------------------------------------- construction
@pytest.mark.parametrize("seed", [-1, 1.5, "a", True])
def test_bad_seed(parameters, seed):
    with pytest.raises(ValueError, match="seed"):
        medeq.MED(parameters, seed=seed)


@pytest.mark.parametrize("verbose", [-1, 6, "x"])
def test_bad_verbose(parameters, verbose):
    with pytest.raises(ValueError, match="verbose"):
        medeq.MED(parameters, verbose=verbose)


def test_bad_parameters_and_names(parameters):
    with pytest.raises(TypeError, match="DataFrame"):
        medeq.MED([1, 2])
    with pytest.raises(ValueError, match="unique"):
        medeq.MED(parameters, response_names=["y", "y"])
    with pytest.raises(TypeError, match="scheduler"):
        medeq.MED(parameters, scheduler="local")


# --------------------------------------------------------------------- sample()
@pytest.mark.parametrize("n", [0, -2, 1.5, "3", True])
def test_sample_bad_n(med, n):
    with pytest.raises((ValueError, TypeError)):
        med.sample(n)
    assert med.samples.shape == (0, 2)


@pytest.mark.parametrize(
    "output, message",
    [
        (lambda n, med: np.zeros((n, 3)), r"shape \(4, 3\); expected \(4, 2\)"),
        (lambda n, med: np.full((n, 2), 2.0), "unit cube"),
        (lambda n, med: np.full((n, 2), np.nan), "non-finite"),
        (lambda n, med: "nope", "not numbers"),
    ],
)
def test_sample_validates_sampler_output(parameters, output, message):
    med = medeq.MED(parameters, sampler=medeq.sampler(output), verbose=0)
    with pytest.raises(ValueError, match=message) as info:
        med.sample(4)
    assert "sampler" in str(info.value)
    assert med.samples.shape == (0, 2)


# ------------------------------------------------------------------- evaluate()
def test_evaluate_array_shapes(med):
    med.sample(3)
    med.evaluate(np.array([[1, 10], [2, 20], [3, 30]]))
    assert med.names == ["response0", "response1"]
    assert list(med.results.columns[-4:]) == [
        "variance_response0", "variance_response1", "response0", "response1"]


def test_evaluate_count_mismatch_leaves_campaign_unchanged(med):
    med.sample(3)
    before = snapshot(med)
    with pytest.raises(ValueError, match="expected 3 rows"):
        med.evaluate([1, 2])
    with pytest.raises(ValueError, match="could not convert"):
        med.evaluate(["a", "b", "c"])
    with pytest.raises(ValueError, match=r"shaped \(n,\) or \(n, K\)"):
        med.evaluate(np.zeros((3, 1, 1)))
    assert_unchanged(before, med)


def test_evaluate_k_must_stay_the_same(med):
    med.sample(3)
    med.evaluate([1, 2, 3])
    med.sample(2)
    before = snapshot(med)
    with pytest.raises(ValueError, match="same responses"):
        med.evaluate([[1, 2], [3, 4]])
    assert_unchanged(before, med)


def test_evaluate_without_argument_outside_script_mode(med):
    med.sample(2)
    with pytest.raises(ValueError, match="only a campaign created from a script"):
        med.evaluate()


def test_non_finite_kept_as_nan(med):
    med.sample(4)
    with pytest.warns(RuntimeWarning, match="non-finite"):
        med.evaluate([1.0, np.inf, np.nan, 4.0])
    assert np.isnan(med.responses[1:3, 0]).all()
    assert len(med.results) == 4
    assert med.gp is not None  # fitted on the two finite results


def test_function_returning_list_and_dict(parameters):
    med = medeq.MED(parameters, seed=1, verbose=0)
    med.sample(3)
    med.evaluate(lambda x: [x[0], x[1]])
    assert med.responses.shape == (3, 2)

    named = medeq.MED(parameters, seed=1, verbose=0)
    named.sample(3)
    named.evaluate(lambda x: {"sum": x[0] + x[1], "diff": x[0] - x[1]})
    assert named.response_names == ["sum", "diff"]
    assert list(named.results.columns[-2:]) == ["sum", "diff"]
    named.sample(2)
    named.evaluate(lambda x: {"diff": x[0] - x[1], "sum": x[0] + x[1]})  # any key order
    np.testing.assert_allclose(named.responses[:, 0], named.evaluated.sum(axis=1))
    named.sample(1)
    with pytest.raises(ValueError, match="response_names are"):
        named.evaluate(lambda x: {"other": 1.0})


def test_function_errors_become_nan_and_keep_the_rest(med):
    med.sample(4)

    def flaky(x):
        if x[0] > 2.5:
            raise RuntimeError("solver diverged")
        return 1.0

    failing = int((med.queue[:, 0] > 2.5).sum())
    assert 0 < failing < 4
    with pytest.warns(RuntimeWarning, match="solver diverged"):
        med.evaluate(flaky)
    assert np.isnan(med.responses[:, 0]).sum() == failing
    assert len(med.queue) == 0


def test_function_failing_everywhere_raises_and_keeps_queue(med):
    med.sample(3)
    before = snapshot(med)
    with pytest.raises(RuntimeError, match="every evaluation failed"):
        med.evaluate(lambda x: 1 / 0)
    assert_unchanged(before, med)


def test_function_bad_return(med):
    med.sample(2)
    before = snapshot(med)
    with pytest.raises(ValueError, match="a response must be"):
        med.evaluate(lambda x: "text")
    calls = []

    def growing(x):
        calls.append(1)
        return [1.0] * len(calls)

    with pytest.raises(ValueError, match="same number"):
        med.evaluate(growing)
    assert_unchanged(before, med)


def test_keyboard_interrupt_keeps_finished(med):
    med.sample(4)
    calls = []

    def interrupted_on_third(x):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return float(len(calls))

    with pytest.raises(KeyboardInterrupt):
        med.evaluate(interrupted_on_third)
    np.testing.assert_array_equal(med.responses[:, 0], [1.0, 2.0])
    assert len(med.queue) == 2
    med.evaluate(lambda x: 0.0)
    assert len(med.responses) == 4


def test_user_variances(med):
    med.sample(3)
    med.evaluate([1.0, 2.0, 4.0], variances=[0.1, 0.2, 0.3])
    np.testing.assert_allclose(med.variances[:, 0], [0.1, 0.2, 0.3])
    med.sample(2)
    before = snapshot(med)
    with pytest.raises(ValueError, match="non-negative"):
        med.evaluate([1.0, 2.0], variances=[-1.0, 0.1])
    assert_unchanged(before, med)


# --------------------------------------------------------------- response names
def test_response_names_pad_and_trim(parameters):
    med = medeq.MED(parameters, response_names=["a"], seed=0, verbose=0)
    med.sample(2)
    with pytest.warns(RuntimeWarning, match="padding"):
        med.evaluate([[1, 2, 3], [4, 5, 6]])
    assert med.response_names == ["a", "response1", "response2"]

    med = medeq.MED(parameters, response_names=["a", "b", "c"], seed=0, verbose=0)
    med.sample(2)
    with pytest.warns(RuntimeWarning, match="trimming"):
        med.evaluate([1, 2])
    assert med.response_names == ["a"]
    assert list(med.results.columns) == ["A", "B", "variance", "a"]


# -------------------------------------------------------------------- augment()
def test_augment_inserts_before_queue(med):
    med.sample(2)
    med.evaluate([1.0, 2.0])
    queued = med.sample(3)
    med.augment([[1, 1], [2, 2]], [5.0, 6.0])
    np.testing.assert_array_equal(med.queue, queued)
    np.testing.assert_array_equal(med.evaluated[2:], [[1, 1], [2, 2]])
    assert med.epochs[-1] == (2, 4) and med.epoch_origins[-1] == "augmented"


def test_augment_outside_bounds_warns(med):
    with pytest.warns(RuntimeWarning, match="outside the parameter bounds"):
        med.augment([[100.0, 0.0], [0.0, 0.0]], [1.0, 2.0])
    assert len(med.evaluated) == 2


@pytest.mark.parametrize(
    "samples, responses, message",
    [
        ([[1, 1], [2, 2]], [1.0], "expected 2 rows"),
        ([[1, 1, 1]], [1.0], r"shaped \(n, 2\)"),
        ([[np.nan, 1]], [1.0], "non-finite"),
        ([[1, 1]], [[1.0, 2.0]], "earlier results have 1; every epoch"),
    ],
)
def test_augment_errors_leave_campaign_unchanged(evaluated_med, samples, responses, message):
    evaluated_med.sample(2)
    before = snapshot(evaluated_med)
    with pytest.raises(ValueError, match=message):
        evaluated_med.augment(samples, responses)
    assert_unchanged(before, evaluated_med)


def test_augment_with_dataframe(med):
    med.augment(pd.DataFrame({"B": [1.0, 2.0], "A": [3.0, 4.0]}), [1.0, 2.0])
    np.testing.assert_array_equal(med.evaluated, [[3.0, 1.0], [4.0, 2.0]])


# --------------------------------------------------------------------- subset()
def test_subset_mask_indices_slice(evaluated_med):
    med = evaluated_med
    med.augment([[1, 1], [2, 2]], [2.0, 4.0])
    med.sample(2)
    mask = med.responses[:, 0] > 0
    sub = med.subset(mask)
    assert len(sub.evaluated) == mask.sum() and len(sub.queue) == 0
    np.testing.assert_array_equal(sub.responses, med.responses[mask])
    assert sub.seed == med.seed and repr(sub.sampler) == repr(med.sampler)
    assert sub.sampler is not med.sampler
    assert sum(b - a for a, b in sub.epochs) == mask.sum()

    sub = med.subset([0, 6, 7])
    assert sub.epochs == [(0, 1), (1, 3)] and sub.epoch_origins == ["evaluated", "augmented"]
    assert len(med.subset(slice(0, 3)).evaluated) == 3
    empty = med.subset([])
    assert empty.responses is None and empty.gp is None


@pytest.mark.parametrize("select", [[0, 0], [99], np.ones(3, bool), [0.5]])
def test_subset_errors(evaluated_med, select):
    with pytest.raises(ValueError):
        evaluated_med.subset(select)


# -------------------------------------------------------------------- predict()
def test_predict_without_surrogate(med):
    with pytest.raises(RuntimeError, match="no surrogate yet"):
        med.predict([[0.0, 0.0]])


def test_predict_shapes(evaluated_med):
    mean, std = evaluated_med.predict([[0.0, 0.0], [1.0, 2.0]])
    assert mean.shape == (2,) and std.shape == (2,)
    assert evaluated_med.predict([0.0, 0.0], return_std=False).shape == (1,)
    with pytest.raises(ValueError, match="unknown response"):
        evaluated_med.predict([0.0, 0.0], response="nope")


def test_response_index(parameters):
    med = medeq.MED(parameters, seed=0, verbose=0)
    med.sample(3)
    med.evaluate(lambda x: {"u": x[0], "v": x[1]})
    assert med.response_index("v") == 1 and med.response_index(-1) == 1
    with pytest.raises(ValueError, match="2 responses"):
        med.response_index()
    with pytest.raises(ValueError, match="out of range"):
        med.response_index(2)


def test_failed_refit_rolls_everything_back(evaluated_med, monkeypatch):
    evaluated_med.sample(2)
    before = snapshot(evaluated_med)

    def broken_refit():
        raise KeyboardInterrupt  # e.g. Ctrl-C during a long surrogate fit

    monkeypatch.setattr(evaluated_med, "refit", broken_refit)
    with pytest.raises(KeyboardInterrupt):
        evaluated_med.evaluate([1.0, 2.0])
    with pytest.raises(KeyboardInterrupt):
        evaluated_med.augment([[0.0, 0.0]], [1.0])
    assert_unchanged(before, evaluated_med)


def test_response_names_may_not_clash(parameters):
    with pytest.raises(ValueError, match="clash"):
        medeq.MED(parameters, response_names=["A"])
    med = medeq.MED(parameters, seed=0, verbose=0)
    med.sample(2)
    with pytest.raises(ValueError, match="clash"):
        med.evaluate(lambda x: {"variance": 1.0})
    assert med.responses is None


def test_boolean_response_rejected(med):
    med.sample(2)
    with pytest.raises(ValueError, match="boolean"):
        med.evaluate(lambda x: True)


def test_bad_variances_checked_before_evaluating(med):
    med.sample(3)
    calls = []
    with pytest.raises(ValueError, match="expected 3 rows"):
        med.evaluate(lambda x: calls.append(1) or 1.0, variances=[1.0, 2.0])
    assert calls == []


def test_lattice_continues_without_repeating(parameters):
    med = medeq.MED(parameters, sampler=medeq.LatticeSampler, seed=0, verbose=0)
    first, second = med.sample(4), med.sample(5)
    assert not {tuple(r) for r in first} & {tuple(r) for r in second}
