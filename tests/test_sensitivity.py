"""Sensitivity analysis on the evaluated samples (SALib)."""

import numpy as np
import pytest

import medeq
from medeq.sensitivity import METHODS, sensitivity


def ishigami(x, a=7.0, b=0.1):
    """Ishigami function: S1 ranks x2 > x1 > x3 (x3 = 0), ST ranks x1 > x2 > x3."""
    x = np.atleast_2d(x)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


@pytest.fixture(scope="module")
def med():
    parameters = medeq.create_parameters(["x1", "x2", "x3"], [-np.pi] * 3, [np.pi] * 3)
    med = medeq.MED(parameters, response_names=["ishigami", "x3_only"],
                    sampler=medeq.LatinSampler, seed=11, verbose=0)
    med.sample(300)
    queue = med.queue
    med.evaluate(np.column_stack([ishigami(queue), queue[:, 2] ** 2]))
    return med


def order(series):
    return list(series.sort_values(ascending=False).index)


def test_rbd_fast_ranks_ishigami_first_order(med):
    frame = med.sensitivity("rbd_fast", response="ishigami", verbose=False)
    assert list(frame.index) == ["x1", "x2", "x3"]
    assert list(frame.columns) == ["S1", "S1_conf"]
    assert order(frame["S1"]) == ["x2", "x1", "x3"]
    assert frame.loc["x3", "S1"] < 0.1                # analytically 0
    assert frame.attrs == {"algorithm": "rbd_fast", "samples": {"ishigami": 300}, "skipped": {}}


def test_hdmr_ranks_ishigami_total_and_keeps_interactions(med):
    frame = med.sensitivity("hdmr", response=0, verbose=False)
    assert order(frame["ST"]) == ["x1", "x2", "x3"]
    full = med.sensitivity("hdmr", response=0, shorten=False, verbose=False)
    assert "x1/x3" in full.index and {"Sa", "Sb", "S", "ST"} <= set(full.columns)
    # The x1-x3 interaction is the only one in the Ishigami function.
    pairs = full.loc[["x1/x2", "x1/x3", "x2/x3"], "S"]
    assert order(pairs)[0] == "x1/x3"


def test_pawn_and_discrepancy_run_on_any_samples(med):
    pawn = med.sensitivity("pawn", response="ishigami", verbose=False)
    assert order(pawn["median"]) == ["x2", "x1", "x3"]
    discrepancy = med.sensitivity("discrepancy", response="ishigami", verbose=False)
    assert list(discrepancy.columns) == ["s_discrepancy"]


def test_delta_keyword_arguments_reach_salib():
    parameters = medeq.create_parameters(["x1", "x2", "x3"], [-np.pi] * 3, [np.pi] * 3)
    med = medeq.MED(parameters, sampler=medeq.LatinSampler, seed=2, verbose=0)
    med.sample(60)
    med.evaluate(ishigami(med.queue))
    frame = med.sensitivity("delta", num_resamples=3, verbose=False)
    assert {"delta_raw", "S1"} <= set(frame.columns) and len(frame) == 3


def test_every_response_by_default(med, capsys):
    frame = med.sensitivity("rbd_fast")
    assert frame.index.names == ["response", "parameter"]
    assert list(frame.index.get_level_values("response").unique()) == ["ishigami", "x3_only"]
    assert order(frame.loc["x3_only", "S1"])[0] == "x3"
    printed = capsys.readouterr().out
    assert "rbd_fast" in printed and "x3_only" in printed


def test_unknown_algorithm_names_the_accepted_ones(med):
    with pytest.raises(ValueError, match="unknown sensitivity algorithm 'sobol'") as err:
        med.sensitivity("sobol")
    for name in ("rbd_fast", "delta", "pawn", "hdmr"):
        assert name in str(err.value)


def test_unknown_keyword_is_refused(med):
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['bins'\].*'M'"):
        med.sensitivity("rbd_fast", bins=3)


def test_too_few_samples_is_a_clear_error():
    parameters = medeq.create_parameters(["A", "B"], [0, 0], [1, 1])
    med = medeq.MED(parameters, seed=1, verbose=0)
    with pytest.raises(ValueError, match="no evaluated samples|none"):
        sensitivity(med, "rbd_fast")
    med.sample(12)
    med.evaluate(med.queue.sum(axis=1))
    with pytest.raises(ValueError, match=r"'hdmr'.*at least 300 .* has 12"):
        med.sensitivity("hdmr")
    with pytest.raises(ValueError, match=r"at least 21"):
        med.sensitivity("rbd_fast")
    # Fewer harmonics need fewer samples.
    assert len(med.sensitivity("rbd_fast", M=4, verbose=False)) == 2


def test_failed_evaluations_are_left_out():
    parameters = medeq.create_parameters(["A", "B"], [0, 0], [1, 1])
    med = medeq.MED(parameters, sampler=medeq.LatinSampler, seed=3, verbose=0)
    med.sample(40)
    values = med.queue[:, 0] * 3 + 0.1 * med.queue[:, 1]
    values[:5] = np.nan
    with pytest.warns(RuntimeWarning):
        med.evaluate(values)
    frame = med.sensitivity("pawn", S=5, verbose=False)
    assert frame.attrs["samples"] == {"response": 35}
    assert order(frame["median"]) == ["A", "B"]


def test_methods_table_is_what_salib_offers():
    import importlib

    for name in METHODS:
        assert callable(importlib.import_module(f"SALib.analyze.{name}").analyze)
    assert isinstance(METHODS["rbd_fast"].summary, str)


def test_one_short_response_does_not_hide_the_others():
    parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=0, verbose=0)
    med.sample(80)
    med.evaluate(lambda x: {"y": x[0] + 0.1 * x[1], "z": x[1] if x[0] < 0.08 else np.nan})
    with pytest.warns(RuntimeWarning, match="'z' skipped"):
        frame = med.sensitivity("rbd_fast", verbose=False)
    assert list(frame.index) == ["a", "b"] and list(frame.attrs["samples"]) == ["y"]
    assert "z" in frame.attrs["skipped"]


def test_constant_response_is_a_clear_error():
    parameters = medeq.create_parameters(["a", "b"], [0.0, 0.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=0, verbose=0)
    med.sample(80)
    med.evaluate(lambda x: 3.0)
    with pytest.raises(ValueError, match="constant"):
        med.sensitivity("rbd_fast", verbose=False)
