"""Shared fixtures, and the CI rule that a missing service fails instead of skipping."""

import os

import numpy as np
import pytest

import medeq


@pytest.fixture
def parameters():
    return medeq.create_parameters(["A", "B"], minimums=[-5.0, -5.0], maximums=[10.0, 10.0])


@pytest.fixture
def med(parameters):
    return medeq.MED(parameters, seed=42, verbose=0)


@pytest.fixture(autouse=True)
def _in_tmp_cwd(tmp_path, monkeypatch):
    """Run every test in its own folder so default campaign folders stay out of the repo."""
    monkeypatch.chdir(tmp_path)


def instrument(sample):
    return sample[0] + sample[1]


@pytest.fixture
def evaluated_med(med):
    med.sample(6)
    med.evaluate(instrument)
    return med


def snapshot(med):
    """Everything observable about a campaign, for 'unchanged after failure' checks."""
    return {
        "samples": med.samples.copy(),
        "responses": None if med.responses is None else med.responses.copy(),
        "variances": None if med.measured_variances is None else med.measured_variances.copy(),
        "epochs": list(med.epochs),
        "origins": list(med.epoch_origins),
        "names": None if med.response_names is None else list(med.response_names),
        "gp": med.gp,
    }


def assert_unchanged(before, med):
    after = snapshot(med)
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, after[key], err_msg=key)
        else:
            assert value == after[key] if key != "gp" else value is after[key], key


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With MEDEQ_REQUIRE_SERVICES=1 (CI), a skipped test is a failure.

    Only tests marked ``optional`` (e.g. the PySR backend, which needs Julia)
    may still skip.
    """
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("MEDEQ_REQUIRE_SERVICES") == "1"
        and item.get_closest_marker("optional") is None
        and not hasattr(report, "wasxfail")
    ):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service must run: {reason}"
