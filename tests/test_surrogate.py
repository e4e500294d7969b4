"""The Gaussian-process surrogate and the batch posterior covariance."""

import numpy as np
import pytest
from sklearn.gaussian_process.kernels import Matern

import medeq
from medeq.surrogate import BatchPosterior, GaussianProcessSurrogate, fit_surrogates


def smooth(x):
    return np.sin(3 * x[:, 0]) + x[:, 1] ** 2


@pytest.fixture
def data():
    x = np.random.default_rng(0).random((40, 2))
    return x, smooth(x)


def test_fit_predict_shapes_and_accuracy(data):
    x, y = data
    gp = GaussianProcessSurrogate(seed=0).fit(x, y)
    test = np.random.default_rng(1).random((200, 2))
    mean, std = gp.predict(test)
    assert mean.shape == std.shape == (200,)
    assert np.all(std >= 0)
    assert np.sqrt(np.mean((mean - smooth(test)) ** 2)) < 0.05 * smooth(test).std()
    assert gp.predict(test[0], return_std=False).shape == (1,)
    assert gp.n_train == 40


def test_std_small_at_data_large_far_from_it(data):
    x, y = data
    gp = GaussianProcessSurrogate(seed=0).fit(x[x[:, 0] < 0.5], y[x[:, 0] < 0.5])
    _, near = gp.predict(x[x[:, 0] < 0.5])
    _, far = gp.predict(np.array([[1.0, 0.5]]))
    assert near.max() < far[0]


def test_predict_errors(data):
    with pytest.raises(RuntimeError, match="not fitted"):
        GaussianProcessSurrogate().predict([[0.5, 0.5]])
    gp = GaussianProcessSurrogate(seed=0).fit(*data)
    with pytest.raises(ValueError, match=r"shaped \(m, 2\)"):
        gp.predict(np.zeros((3, 3)))


def test_two_results_are_enough():
    gp = GaussianProcessSurrogate(seed=0).fit([[0.2, 0.3], [0.7, 0.9]], [1.0, 3.0])
    mean, std = gp.predict([[0.2, 0.3], [0.45, 0.6]])
    assert mean[0] == pytest.approx(1.0, abs=0.05)
    assert std[1] > std[0]


def test_needs_two_finite_responses():
    with pytest.raises(ValueError, match="at least 2 finite"):
        GaussianProcessSurrogate().fit([[0.1], [0.2]], [1.0, np.nan])
    assert fit_surrogates(np.zeros((1, 2)), np.ones((1, 1))) is None
    assert fit_surrogates(np.zeros((0, 2)), None) is None


def test_nan_responses_left_out(data):
    x, y = data
    y = y.copy()
    y[::4] = np.nan
    gp = GaussianProcessSurrogate(seed=0).fit(x, y)
    assert gp.n_train == 30
    assert np.isfinite(gp.predict(x)[0]).all()


def test_per_response_models_with_a_missing_one(data):
    x, y = data
    responses = np.column_stack([y, np.full(len(y), np.nan), 2 * y])
    responses[0, 1] = 1.0
    models = fit_surrogates(x, responses, seed=0)
    assert models[1] is None and models[0] is not None and models[2] is not None
    np.testing.assert_allclose(models[2].predict(x[:5])[0], 2 * models[0].predict(x[:5])[0],
                               rtol=1e-3, atol=1e-3)


def test_deterministic_for_a_seed(data):
    a = GaussianProcessSurrogate(seed=3).fit(*data).predict(data[0][:7])
    b = GaussianProcessSurrogate(seed=3).fit(*data).predict(data[0][:7])
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_fitted_noise_level():
    rng = np.random.default_rng(2)
    x = rng.random((150, 1))
    clean = GaussianProcessSurrogate(seed=0).fit(x, np.sin(4 * x[:, 0]))
    noisy = GaussianProcessSurrogate(seed=0).fit(x, np.sin(4 * x[:, 0]) + rng.normal(0, 0.1, 150))
    assert clean.noise_variance < 1e-4
    assert 0.005 < noisy.noise_variance < 0.02  # true value 0.01


def test_known_variances_widen_the_model(data):
    x, y = data
    plain = GaussianProcessSurrogate(seed=0).fit(x, y)
    known = GaussianProcessSurrogate(seed=0).fit(x, y, noise_variance=np.full(len(y), 0.05))
    assert known.predict(x)[1].mean() > plain.predict(x)[1].mean()


def test_large_campaigns_use_bounded_subsets():
    rng = np.random.default_rng(4)
    x = rng.random((300, 2))
    gp = GaussianProcessSurrogate(seed=0, fit_size=60, max_exact=120).fit(x, smooth(x))
    assert gp.n_train == 300
    assert len(gp.x_train_) == 120
    test = rng.random((100, 2))
    error = gp.predict(test, return_std=False) - smooth(test)
    assert np.sqrt(np.mean(error**2)) < 0.05 * smooth(test).std()


def test_invalid_settings():
    with pytest.raises(ValueError, match="restarts"):
        GaussianProcessSurrogate(restarts=-1)
    with pytest.raises(ValueError, match="max_exact"):
        GaussianProcessSurrogate(max_exact=1)


def test_gradient_matches_finite_differences(data):
    gp = GaussianProcessSurrogate(seed=0).fit(*data)
    points = np.random.default_rng(5).random((6, 2)) * 0.8 + 0.1
    h = 1e-5
    numeric = np.column_stack([
        (gp.predict(points + h * e, return_std=False) - gp.predict(points - h * e, return_std=False))
        / (2 * h * gp.scale_)
        for e in np.eye(2)
    ])
    np.testing.assert_allclose(gp.gradient(points), numeric, rtol=1e-4, atol=1e-6)


def direct_posterior(kernel, noise, known, a, b):
    """Posterior covariance between a and b given noisy observations at known."""
    k = kernel(known) + noise * np.eye(len(known))
    return kernel(a, b) - kernel(a, known) @ np.linalg.solve(k, kernel(known, b))


def test_batch_posterior_updates_are_exact():
    rng = np.random.default_rng(6)
    kernel = Matern([0.3, 0.5], nu=2.5)
    known, reference, candidates = rng.random((8, 2)), rng.random((30, 2)), rng.random((25, 2))
    noise = 1e-3
    batch = BatchPosterior(kernel, noise, known, reference, candidates)
    for j in (4, 17, 9):
        batch.add(j)
        known = np.vstack([known, candidates[j]])
    effective = batch.noise  # noise plus jitter
    np.testing.assert_allclose(
        batch.cross, direct_posterior(kernel, effective, known, reference, candidates), atol=1e-8
    )
    np.testing.assert_allclose(
        batch.candidate_var,
        np.diag(direct_posterior(kernel, effective, known, candidates, candidates)), atol=1e-8,
    )
    assert batch.reduction()[[4, 17, 9]].max() < 1e-3 * batch.reduction().max()


def test_batch_posterior_without_known_points():
    rng = np.random.default_rng(7)
    batch = BatchPosterior(Matern(0.2, nu=2.5), 1e-6, np.empty((0, 2)), rng.random((20, 2)),
                           rng.random((10, 2)))
    assert batch.mean_variance() == pytest.approx(1.0)
    before = batch.mean_variance()
    batch.add(int(np.argmax(batch.reduction())))
    assert batch.mean_variance() < before


# ----------------------------------------------------------- through the facade
@pytest.mark.filterwarnings("ignore:variances. 1 non-finite")
def test_med_predict_and_variances(parameters):
    med = medeq.MED(parameters, seed=1, verbose=0)
    with pytest.raises(RuntimeError, match="at least 2"):
        med.predict([[0.0, 0.0]])
    med.sample(12)
    med.evaluate(lambda s: float(s[0] + s[1] ** 2 / 10))
    mean, std = med.predict(med.evaluated)
    np.testing.assert_allclose(mean, med.responses[:, 0], atol=0.05)
    assert std.shape == (12,)
    variance = med.variances[:, 0]
    assert np.all(variance == med.gp[0].noise_variance)
    med.sample(2)
    med.evaluate([1.0, 2.0], variances=[0.5, np.nan])
    assert med.variances[12, 0] == 0.5
    assert med.variances[13, 0] == med.gp[0].noise_variance


def test_med_multi_response_predict(parameters):
    med = medeq.MED(parameters, seed=1, response_names=["sum", "product"], verbose=0)
    med.sample(10)
    med.evaluate(lambda s: [s[0] + s[1], s[0] * s[1]])
    mean, std = med.predict([[0.0, 1.0], [2.0, 3.0], [5.0, 5.0]])
    assert mean.shape == std.shape == (3, 2)
    np.testing.assert_allclose(mean[:, 0], [1.0, 5.0, 10.0], atol=0.2)
    np.testing.assert_allclose(med.predict([[2.0, 3.0]], response="product")[0], [6.0], atol=1.0)
