"""Built-in static samplers and the @sampler decorator."""

import numpy as np
import pytest

import medeq
from medeq.samplers import lattice_levels

STATIC = [medeq.RandomSampler, medeq.LatinSampler, medeq.SobolSampler, medeq.LatticeSampler]


@pytest.mark.parametrize("cls", STATIC + [medeq.DVASampler])
@pytest.mark.parametrize("n", [1, 5, 17])
def test_sample_inside_bounds_and_shape(cls, n, parameters):
    med = medeq.MED(parameters, sampler=cls, seed=3, verbose=0)
    samples = med.sample(n)
    assert samples.shape == (n, 2)
    assert np.all(samples >= -5.0) and np.all(samples <= 10.0)
    np.testing.assert_array_equal(med.queue, samples)


@pytest.mark.parametrize("cls", STATIC + [medeq.DVASampler])
def test_deterministic_for_a_seed(cls, parameters):
    first = medeq.MED(parameters, sampler=cls, seed=11, verbose=0)
    second = medeq.MED(parameters, sampler=cls, seed=11, verbose=0)
    for _ in range(2):
        np.testing.assert_array_equal(first.sample(4), second.sample(4))


@pytest.mark.parametrize("cls", [medeq.RandomSampler, medeq.LatinSampler, medeq.SobolSampler])
def test_different_seeds_differ(cls, parameters):
    a = medeq.MED(parameters, sampler=cls, seed=1, verbose=0).sample(4)
    b = medeq.MED(parameters, sampler=cls, seed=2, verbose=0).sample(4)
    assert not np.allclose(a, b)


def test_latin_is_a_latin_hypercube():
    unit = medeq.LatinSampler(3, seed=0).sample(10)
    for column in unit.T:
        assert sorted(np.floor(column * 10).astype(int)) == list(range(10))


def test_sobol_continues_the_sequence(parameters):
    med = medeq.MED(parameters, sampler=medeq.SobolSampler, seed=5, verbose=0)
    batches = np.vstack([med.sample(4), med.sample(4)])
    from scipy.stats import qmc

    whole = qmc.Sobol(2, scramble=True, seed=5).random(8)
    np.testing.assert_allclose(batches, -5 + 15 * whole)


@pytest.mark.parametrize("n, d", [(1, 2), (4, 2), (9, 2), (10, 2), (27, 3), (30, 3), (7, 1)])
def test_lattice_exact_count_and_grid(n, d):
    unit = medeq.LatticeSampler(d, seed=0).sample(n)
    assert unit.shape == (n, d)
    assert len({tuple(row) for row in unit}) == n
    levels = lattice_levels(n, d)
    assert np.prod(levels) >= n
    for column, k in zip(unit.T, levels):
        if k > 1:
            np.testing.assert_allclose(column * (k - 1), np.round(column * (k - 1)), atol=1e-12)


def test_full_lattice_includes_corners():
    unit = medeq.LatticeSampler(2, seed=0).sample(9)
    assert {(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)} <= {tuple(r) for r in unit}


def test_sampler_decorator(parameters):
    @medeq.sampler
    def centre(n, med):
        return np.full((n, len(med.parameters)), 0.5)

    med = medeq.MED(parameters, sampler=centre, seed=1, verbose=0)
    np.testing.assert_array_equal(med.sample(2), [[2.5, 2.5], [2.5, 2.5]])
    assert med.sampler is centre                # the function itself, with .sample


def test_sampler_instance_and_bad_sampler(parameters):
    instance = medeq.RandomSampler(2, seed=9)
    assert medeq.MED(parameters, sampler=instance, verbose=0).sampler is instance
    with pytest.raises(TypeError, match=r"\.sample\(n, med\)"):
        medeq.MED(parameters, sampler=object(), verbose=0)
    with pytest.raises(TypeError, match="decorates a function"):
        medeq.sampler(3)


def test_sampler_repr_and_settings():
    assert repr(medeq.DVASampler(2, seed=42)).startswith("DVASampler(d=2, seed=42")
    assert repr(medeq.LatinSampler(3, seed=1)) == "LatinSampler(d=3, seed=1)"
    with pytest.raises(ValueError, match="positive integer"):
        medeq.RandomSampler(0)
