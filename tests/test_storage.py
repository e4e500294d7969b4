"""Campaign folders: save/load round trips, atomic writes, safety."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import instrument
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import medeq
from medeq import fileio, storage


def assert_same_campaign(a, b):
    np.testing.assert_array_equal(a.samples, b.samples)
    if a.responses is None:
        assert b.responses is None
    else:
        np.testing.assert_array_equal(a.responses, b.responses)
        np.testing.assert_array_equal(a.measured_variances, b.measured_variances)
    assert a.epochs == b.epochs and a.epoch_origins == b.epoch_origins
    assert a.response_names == b.response_names
    assert a.seed == b.seed and a.verbose == b.verbose
    assert repr(a.sampler) == repr(b.sampler)
    pd.testing.assert_frame_equal(a.parameters, b.parameters)
    pd.testing.assert_frame_equal(a.results, b.results)


def round_trip(med, folder):
    med.save(folder)
    return medeq.MED.load(folder)


def test_default_folder_name(med):
    paths = med.save()
    assert paths.directory.name == "med_seed42"
    assert {p.name for p in paths.directory.iterdir() if p.name != ".medeq-writer.lock"} == {
        "setup.toml", "results.csv", "queue.csv", "README.txt"}


def test_empty(med, tmp_path):
    assert_same_campaign(med, round_trip(med, tmp_path / "c"))


def test_queued_only(med, tmp_path):
    med.sample(5)
    loaded = round_trip(med, tmp_path / "c")
    assert_same_campaign(med, loaded)
    np.testing.assert_array_equal(loaded.sample(3), med.sample(3))  # resumes the same design


def test_evaluated_augmented_and_queued(evaluated_med, tmp_path):
    med = evaluated_med
    med.augment([[1, 1], [2, 2], [1, 2]], [1, 2, 3], variances=[0.1, 0.2, 0.3])
    med.sample(2)
    loaded = round_trip(med, tmp_path / "c")
    assert_same_campaign(med, loaded)
    np.testing.assert_allclose(loaded.predict([[0, 0]])[0], med.predict([[0, 0]])[0])


def test_several_named_responses_with_nan(parameters, tmp_path):
    med = medeq.MED(parameters, response_names=["u", "v"], seed=3, verbose=0)
    med.sample(4)
    with pytest.warns(RuntimeWarning):
        med.evaluate([[1, np.nan], [2, 3], [np.nan, 4], [5, 6]])
    assert_same_campaign(med, round_trip(med, tmp_path / "c"))


def test_several_unnamed_responses(parameters, tmp_path):
    med = medeq.MED(parameters, seed=3, verbose=0)
    med.sample(3)
    med.evaluate(lambda x: [x[0], x[1], x[0] * x[1]])
    loaded = round_trip(med, tmp_path / "c")
    assert loaded.response_names is None and loaded.names == ["response0", "response1", "response2"]
    assert_same_campaign(med, loaded)


def test_extra_parameter_columns_and_other_samplers(tmp_path):
    parameters = medeq.create_parameters(
        ["mu", "lambda"], [0.1, 1.0], [2.0, 3.0], values=[1.0, 2.0], units=["Pa s", "m"])
    for cls in (medeq.LatinSampler, medeq.SobolSampler, medeq.LatticeSampler, medeq.RandomSampler):
        med = medeq.MED(parameters, sampler=cls, seed=8, verbose=1)
        med.sample(3)
        loaded = round_trip(med, tmp_path / cls.__name__)
        assert type(loaded.sampler) is cls
        assert_same_campaign(med, loaded)
        assert list(loaded.parameters["units"]) == ["Pa s", "m"]


def test_custom_sampler_needs_opt_in(parameters, tmp_path):
    @medeq.sampler
    def centre(n, med):
        return np.full((n, 2), 0.5)

    med = medeq.MED(parameters, sampler=centre, seed=1, verbose=0)
    med.sample(1)
    med.save(tmp_path / "plain")
    with pytest.warns(RuntimeWarning, match="custom sampler"):
        loaded = medeq.MED.load(tmp_path / "plain")
    assert isinstance(loaded.sampler, medeq.DVASampler)
    assert not (tmp_path / "plain" / storage.SAMPLER_PICKLE).exists()

    med.save(tmp_path / "pickled", pickle_sampler=True)
    with pytest.raises(ValueError, match="allow_pickle=True"):
        medeq.MED.load(tmp_path / "pickled")
    loaded = medeq.MED.load(tmp_path / "pickled", allow_pickle=True)
    np.testing.assert_array_equal(loaded.sample(2), [[2.5, 2.5], [2.5, 2.5]])


def test_saved_campaign_stays_in_sync(med, tmp_path):
    med.save(tmp_path / "c")
    med.sample(3)
    med.evaluate(instrument)
    loaded = medeq.MED.load(tmp_path / "c")
    assert_same_campaign(med, loaded)
    assert loaded.paths.directory == (tmp_path / "c").resolve()


def test_crash_during_save_leaves_a_loadable_folder(evaluated_med, tmp_path, monkeypatch):
    med = evaluated_med
    folder = tmp_path / "c"
    med.save(folder)
    med.sample(3)  # autosaved: queue on disk
    real_write = storage.atomic_write

    def crash_after_results(path, data):
        real_write(path, data)
        if path.name == "results.csv":
            raise SystemExit("power cut")

    monkeypatch.setattr(storage, "atomic_write", crash_after_results)
    with pytest.raises(SystemExit):
        med.evaluate(instrument)
    monkeypatch.setattr(storage, "atomic_write", real_write)
    assert not list(folder.glob(".*.tmp"))
    with pytest.warns(RuntimeWarning, match="recovering them"):
        loaded = medeq.MED.load(folder)
    assert len(loaded.evaluated) == 9 and len(loaded.queue) == 0
    np.testing.assert_allclose(loaded.responses[:, 0], loaded.evaluated.sum(axis=1))


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    fileio.atomic_write(target, "old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", boom)
    with pytest.raises(OSError):
        fileio.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda d: (d / "setup.toml").unlink(), "not a medeq campaign folder"),
        (lambda d: (d / "setup.toml").write_text("seed = [unclosed"), "not valid TOML"),
        (lambda d: (d / "setup.toml").write_text('format = "other"\n'), "not a medeq campaign set-up"),
        (lambda d: (d / "results.csv").unlink(), "results.csv is missing"),
        (lambda d: (d / "results.csv").write_text("X,Y\n1,2\n"), "lacks the parameter column"),
        (lambda d: (d / "queue.csv").write_text("A,B\nx,1\n"), "non-numeric"),
        (lambda d: (d / "results.csv").write_text("A,B,variance,response\n"), "corrupted"),
    ],
)
def test_corrupted_or_foreign_folders(evaluated_med, tmp_path, corrupt, message):
    folder = tmp_path / "c"
    evaluated_med.save(folder)
    corrupt(folder)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        medeq.MED.load(folder)


def test_load_missing_folder_and_save_onto_file(med, tmp_path):
    with pytest.raises(FileNotFoundError, match="no campaign folder"):
        medeq.MED.load(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="it is a file"):
        med.save(tmp_path / "file")


def test_loading_executes_nothing(evaluated_med, tmp_path):
    folder = tmp_path / "c"
    evaluated_med.save(folder)
    (folder / storage.SAMPLER_PICKLE).write_bytes(b"cos\nsystem\n(S'touch pwned'\ntR.")
    medeq.MED.load(folder)  # builtin sampler: the pickle is never read
    assert not (tmp_path / "pwned").exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    responses=st.lists(
        st.lists(st.one_of(st.floats(-1e12, 1e12, allow_nan=False), st.just(np.nan)),
                 min_size=2, max_size=2),
        min_size=0, max_size=6,
    ),
    queued=st.integers(0, 3),
)
def test_round_trip_property(tmp_path_factory, responses, queued):
    parameters = medeq.create_parameters(["x", "y"], [0.0, -1.0], [1.0, 1.0])
    med = medeq.MED(parameters, seed=5, verbose=0, sampler=medeq.RandomSampler)
    if responses:
        med.sample(len(responses))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN responses and GP fits
            med.evaluate(np.array(responses))
    if queued:
        med.sample(queued)
    loaded = round_trip(med, tmp_path_factory.mktemp("c"))
    assert_same_campaign(med, loaded)

