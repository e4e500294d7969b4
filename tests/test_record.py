"""The campaign record: MED's state as one plain, immutable value."""

import ast
from pathlib import Path

import numpy as np
import pytest
from conftest import instrument

import medeq
from medeq.record import CampaignRecord, Epoch


def test_med_holds_one_record_and_delegates(evaluated_med):
    med = evaluated_med
    med.sample(2)
    med.augment([[1.0, 2.0]], [3.0])
    record = med.record
    assert isinstance(record, CampaignRecord)
    assert record.epochs == (Epoch(0, 6, "evaluated"), Epoch(6, 7, "augmented"))
    np.testing.assert_array_equal(med.samples, np.vstack([record.evaluated, record.queue]))
    assert med.epochs == [(0, 6), (6, 7)] and med.epoch_origins == ["evaluated", "augmented"]
    assert med.responses is record.responses and med.measured_variances is record.variances
    assert len(med.queue) == 2 and med.n_evaluated == 7


def test_a_change_is_a_new_record(evaluated_med):
    before = evaluated_med.record
    evaluated_med.sample(3)
    assert len(before.queue) == 0 and len(evaluated_med.record.queue) == 3


def test_failed_call_keeps_the_old_record(evaluated_med):
    before = evaluated_med.record
    with pytest.raises(ValueError):
        evaluated_med.augment([[1.0, 2.0]], [[1.0, 2.0]])     # two responses, campaign has one
    assert evaluated_med.record is before


def test_record_checks_its_invariants():
    d = 2
    with pytest.raises(ValueError, match="consecutive"):
        CampaignRecord(np.zeros((2, d)), np.zeros((2, 1)), np.zeros((2, 1)), np.empty((0, d)),
                       (Epoch(0, 1), Epoch(0, 1)))
    with pytest.raises(ValueError, match="cover 1 rows"):
        CampaignRecord(np.zeros((2, d)), np.zeros((2, 1)), np.zeros((2, 1)), np.empty((0, d)),
                       (Epoch(0, 1),))
    with pytest.raises(ValueError, match="origin"):
        Epoch(0, 1, "magic")


def test_subset_keeps_epochs_and_drops_queue_and_equations(evaluated_med):
    evaluated_med.augment([[1.0, 2.0], [2.0, 3.0]], [3.0, 5.0])
    evaluated_med.sample(2)
    sub = evaluated_med.record.subset(np.array([1, 6, 7]))
    assert sub.epochs == (Epoch(0, 1, "evaluated"), Epoch(1, 3, "augmented"))
    assert len(sub.queue) == 0 and sub.equations == {}


def test_samples_setter_keeps_results(evaluated_med):
    evaluated_med.sample(2)
    samples = evaluated_med.samples.copy()
    samples[-1] = [0.5, 0.5]
    evaluated_med.samples = samples
    np.testing.assert_array_equal(evaluated_med.queue[-1], [0.5, 0.5])
    assert evaluated_med.n_evaluated == 6


def test_storage_does_not_import_med():
    source = Path(medeq.__file__).with_name("storage.py").read_text()
    imported = {node.module for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module}
    assert "med" not in imported and not any(m.endswith(".med") for m in imported)
    for module in ("report.py", "exploration.py"):
        text = Path(medeq.__file__).with_name(module).read_text()
        assert "from .storage import" not in text, module


def test_results_frame_columns(evaluated_med):
    frame = evaluated_med.record.results_frame(["A", "B"], ["response"])
    assert list(frame.columns) == ["A", "B", "variance", "response"]
    np.testing.assert_allclose(frame["response"], [instrument(x) for x in evaluated_med.evaluated])
