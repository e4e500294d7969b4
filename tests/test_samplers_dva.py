"""DVASampler: the adaptive, variance-driven default sampler."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

import medeq
from medeq.parameters import to_unit


def bumpy(sample):
    x, y = sample
    return float(np.sin(x / 2) * np.cos(y / 3) + 0.05 * x * y)


def unit(med, points):
    return to_unit(points, med.parameters)


@pytest.fixture
def campaign(parameters):
    med = medeq.MED(parameters, seed=7, verbose=0)
    med.sample(8)
    med.evaluate(bumpy)
    return med


def test_deterministic_with_a_surrogate(parameters):
    runs = []
    for _ in range(2):
        med = medeq.MED(parameters, seed=5, verbose=0)
        for n in (6, 3, 3):
            med.sample(n)
            med.evaluate(bumpy)
        runs.append(med.sample(4))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_different_seeds_differ(parameters):
    a = medeq.MED(parameters, seed=1, verbose=0).sample(5)
    b = medeq.MED(parameters, seed=2, verbose=0).sample(5)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("n", [1, 7, 40])
def test_inside_bounds_with_a_surrogate(campaign, n):
    new = campaign.sample(n)
    assert new.shape == (n, 2)
    assert np.all(new >= -5.0) and np.all(new <= 10.0)


def test_batch_distinct_and_spread(campaign):
    new = unit(campaign, campaign.sample(12))
    old = unit(campaign, campaign.evaluated)
    total = len(new) + len(old)
    # A uniform random batch this size has a typical minimum distance far below this.
    threshold = 0.25 * total ** -0.5
    assert pdist(new).min() > threshold
    assert cdist(new, old).min() > threshold


def test_queue_counts_as_planned(campaign):
    first = unit(campaign, campaign.sample(6))
    second = unit(campaign, campaign.sample(6))  # nothing evaluated in between
    assert cdist(first, second).min() > 0.25 * 20**-0.5


def test_no_surrogate_yet_is_space_filling(parameters):
    med = medeq.MED(parameters, seed=3, verbose=0)
    first = unit(med, med.sample(10))
    for column in first.T:  # the first batch is a Latin hypercube
        assert sorted(np.floor(column * 10).astype(int)) == list(range(10))
    second = unit(med, med.sample(10))  # queued but unevaluated: still no surrogate
    assert med.gp is None
    assert cdist(first, second).min() > 0.25 * 20**-0.5


def test_variance_drops_where_points_were_added(campaign):
    new = campaign.sample(5)
    _, before = campaign.predict(new)
    campaign.evaluate(bumpy)
    _, after = campaign.predict(new)
    assert np.all(after < 0.5 * before)


def test_batch_targets_the_uncertain_region(parameters):
    # Results only in the left half: the next batch must go mostly right.
    med = medeq.MED(parameters, seed=2, verbose=0)
    rng = np.random.default_rng(0)
    left = np.column_stack([rng.uniform(-5, 2.5, 15), rng.uniform(-5, 10, 15)])
    med.augment(left, [bumpy(p) for p in left])
    new = med.sample(6)
    assert (new[:, 0] > 2.5).sum() >= 5


def test_all_responses_taken_into_account(parameters):
    med = medeq.MED(parameters, seed=4, response_names=["smooth", "wiggly"], verbose=0)
    med.sample(12)
    med.evaluate(lambda s: [s[0] + s[1], np.sin(2 * s[0])])
    sampler = med.sampler
    kernels = sampler.design_kernels(med, len(med.samples) + 4)
    assert len(kernels) == 2
    both = med.sample(4)
    single = medeq.MED(med.parameters, seed=4, response_names=["smooth"], verbose=0)
    single.augment(med.evaluated, med.responses[:, 0])  # same points, same seed
    assert not np.allclose(single.sample(4), both)


def test_failed_points_are_not_retried(parameters):
    med = medeq.MED(parameters, seed=6, verbose=0)
    med.sample(10)

    def sometimes_fails(sample):
        if sample[0] > 6:
            raise RuntimeError("simulation diverged")
        return bumpy(sample)

    with pytest.warns(RuntimeWarning, match="failed"):
        med.evaluate(sometimes_fails)
    failed = unit(med, med.evaluated[np.isnan(med.responses[:, 0])])
    assert len(failed)
    new = unit(med, med.sample(8))
    assert cdist(new, failed).min() > 0.05


def test_campaign_error_falls():
    parameters = medeq.create_parameters(["A", "B"], [-5.0, 0.0], [10.0, 15.0])

    def branin(s):
        x1, x2 = s
        return float((x2 - 5.1 / (4 * np.pi**2) * x1**2 + 5 / np.pi * x1 - 6) ** 2
                     + 10 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10)

    test = np.random.default_rng(1).uniform([-5, 0], [10, 15], (500, 2))
    truth = np.array([branin(p) for p in test])
    med = medeq.MED(parameters, seed=0, verbose=0)
    errors = []
    for n in (6, 4, 4, 4, 4, 4):
        med.sample(n)
        med.evaluate(branin)
        errors.append(np.sqrt(np.mean((med.predict(test, return_std=False) - truth) ** 2)))
    assert errors[-1] < 0.5 * errors[0]
    assert errors[-1] < 0.1 * truth.std()


def test_settings_round_trip_and_validation():
    sampler = medeq.DVASampler(3, seed=1, candidates=256, focus=0.0)
    again = medeq.DVASampler(3, seed=1, **sampler.settings())
    assert again.settings() == sampler.settings()
    assert "candidates=256" in repr(sampler)
    with pytest.raises(ValueError, match="candidates"):
        medeq.DVASampler(2, candidates=4)
    with pytest.raises(ValueError, match="focus"):
        medeq.DVASampler(2, focus=1.5)
    with pytest.raises(ValueError, match="floor"):
        medeq.DVASampler(2, floor=-1)


def test_saved_campaign_resumes_identically(campaign, tmp_path):
    campaign.save(tmp_path / "c")
    loaded = medeq.MED.load(tmp_path / "c")
    np.testing.assert_allclose(loaded.sample(4), campaign.sample(4))


def test_without_a_campaign():
    points = medeq.DVASampler(4, seed=0).sample(9)
    assert points.shape == (9, 4)
    assert np.all((points >= 0) & (points <= 1))


def test_refine_pass(campaign):
    sampler = medeq.DVASampler(2, seed=7, refine=8)
    first, again = sampler.sample(5, campaign), sampler.sample(5, campaign)
    np.testing.assert_array_equal(first, again)
    assert np.all((first >= 0) & (first <= 1))
    assert pdist(first).min() > 0.25 * 13**-0.5


def test_large_campaigns_condition_on_a_spread_subset(parameters, monkeypatch):
    from medeq import samplers

    points = np.random.default_rng(0).random((400, 2))
    subset = samplers.farthest_subset(points, 50)
    assert len(subset) == 50 and len(np.unique(subset, axis=0)) == 50
    assert pdist(subset).min() > pdist(points[:50]).min()

    monkeypatch.setattr(samplers, "MAX_KNOWN", 40)
    med = medeq.MED(parameters, seed=3, verbose=0)
    med.augment(-5 + 15 * points[:120], [bumpy(p) for p in -5 + 15 * points[:120]])
    new = unit(med, med.sample(6))
    assert np.all((new >= 0) & (new <= 1)) and pdist(new).min() > 0.02


# ------------------------------------------------------- hedging (issue 16)
def weak_input_campaign(results: int, seed: int = 0):
    """Five inputs; x0 matters a lot, x3 a little, x4 not at all."""
    parameters = medeq.create_parameters([f"x{i}" for i in range(5)], [0.0] * 5, [1.0] * 5)
    x = medeq.LatinSampler(5, seed=seed).sample(results)
    y = np.sin(4 * x[:, 0]) + 0.3 * x[:, 1] + 0.05 * x[:, 3] ** 2
    med = medeq.MED(parameters, seed=seed, verbose=0)
    med.augment(x, y)
    return med


def test_length_scale_uncertainty_shrinks_with_results():
    few, many = weak_input_campaign(12).gp[0], weak_input_campaign(120).gp[0]
    sd_few = np.sqrt(np.diag(few.hyperparameter_covariance())[1:-1])
    sd_many = np.sqrt(np.diag(many.hyperparameter_covariance())[1:-1])
    assert np.all(np.isfinite(sd_few)) and np.all(sd_few > 0)
    # the well-determined input (x0) is pinned down far better with more results
    assert sd_many[0] < 0.5 * sd_few[0]
    assert np.median(sd_many) < np.median(sd_few)


def test_hedge_members_early_only(monkeypatch):
    from medeq import samplers

    med = weak_input_campaign(12)
    reference = samplers.candidate_pool(64, 5, np.random.default_rng(0))
    hedged = medeq.DVASampler(5, seed=0, hedge=4)
    members = hedged.design_members(med, 17, reference, np.random.default_rng(0))
    assert len(members) == 5 and sum(share for *_, share in members) == pytest.approx(1.0)
    fitted = members[0][0].length_scale
    drawn = np.array([m[0].length_scale for m in members[1:]])
    assert not np.allclose(drawn, fitted)
    # antithetic pairs around the fit in log space (before the floor)
    floor = 17 ** (-1 / 5)
    both = (drawn[0] > floor) & (drawn[1] > floor) & (fitted > floor)
    np.testing.assert_allclose(np.log(drawn[0][both]) + np.log(drawn[1][both]),
                               2 * np.log(fitted[both]), rtol=1e-6, atol=1e-6)
    assert len(medeq.DVASampler(5, seed=0, hedge=0).design_members(
        med, 17, reference, np.random.default_rng(0))) == 1
    explore = medeq.DVASampler(5, seed=0, hedge=0, explore=0.5)
    members = explore.design_members(med, 17, reference, np.random.default_rng(0))
    loo = np.mean(med.gp[0].loo_residuals() ** 2)
    assert len(members) == 2 and members[1][3] == pytest.approx(min(1.0, 0.5 * loo))
    assert np.ptp(members[1][0].length_scale) == 0  # isotropic
    monkeypatch.setattr(samplers, "HEDGE_RESULTS", 10)
    assert len(hedged.design_members(med, 17, reference, np.random.default_rng(0))) == 1


def test_loo_residuals_match_refitting_without_the_point():
    from medeq.surrogate import GaussianProcessSurrogate

    x = np.random.default_rng(3).random((15, 2))
    y = np.sin(3 * x[:, 0]) + x[:, 1]
    gp = GaussianProcessSurrogate(seed=0).fit(x, y)
    loo = gp.loo_residuals()
    z = (y - gp.mean_) / gp.scale_
    for i in (0, 7):
        rest = np.delete(np.arange(15), i)
        gp._condition(x[rest], z[rest], np.full(14, 1e-8))
        mean = gp.predict(x[i : i + 1], return_std=False)[0]
        assert (y[i] - mean) / gp.scale_ == pytest.approx(loo[i], rel=1e-3, abs=1e-6)
        gp._condition(x, z, np.full(15, 1e-8))


def test_hedged_batch_explores_an_input_the_fit_calls_unimportant():
    # With 12 results the fit calls x3/x4 unimportant; the hedged design
    # still spreads the next batch along them.
    med = weak_input_campaign(12, seed=1)
    assert med.gp[0].length_scales[4] > 3 * med.gp[0].length_scales[0]
    spreads = {}
    for hedge in (0, 4):
        med.sampler = medeq.DVASampler(5, seed=1, hedge=hedge)
        batch = unit(med, med.sampler.sample(10, med))
        known = unit(med, med.evaluated)
        # coverage of the weak inputs: distance to the nearest point in (x3, x4)
        spreads[hedge] = cdist(batch[:, 3:], np.vstack([known, batch])[:, 3:]).copy()
        np.fill_diagonal(spreads[hedge][:, len(known):], np.inf)
        spreads[hedge] = spreads[hedge].min(axis=1).mean()
    assert spreads[4] > spreads[0]


def test_hedge_settings_validated():
    sampler = medeq.DVASampler(3, seed=1, hedge=2, explore=0.25)
    assert medeq.DVASampler(3, seed=1, **sampler.settings()).settings() == sampler.settings()
    with pytest.raises(ValueError, match="hedge"):
        medeq.DVASampler(2, hedge=-1)
    with pytest.raises(ValueError, match="explore"):
        medeq.DVASampler(2, explore=-0.1)
