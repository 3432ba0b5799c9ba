"""Exact laws of the Galton-Watson process with Poisson(m) offspring."""

import numpy as np
import pytest

from crackle.sim import branching_process


def test_same_seed_same_avalanches():
    a = branching_process(0.9, 5000, seed=7)
    b = branching_process(0.9, 5000, seed=7)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    c = branching_process(0.9, 5000, seed=8)
    assert not np.array_equal(a.sizes, c.sizes)


def test_m_zero_is_single_units():
    av = branching_process(0.0, 100, seed=0)
    assert av.sizes.tolist() == [1.0] * 100
    assert av.durations.tolist() == [1] * 100


@pytest.mark.parametrize("m", [0.3, 0.6, 0.8])
def test_subcritical_mean_size_and_extinction_law(m):
    n = 200_000
    av = branching_process(m, n, seed=1)
    assert av.n_censored == 0
    # E[S] = 1/(1 - m) and Var[S] = m / (1 - m)^3 for Poisson offspring.
    se = np.sqrt(m / (1 - m) ** 3 / n)
    assert abs(av.sizes.mean() - 1 / (1 - m)) < 4 * se
    # P(T = 1) = P(no offspring) = exp(-m).
    p1 = np.mean(av.durations == 1)
    assert abs(p1 - np.exp(-m)) < 4 * np.sqrt(np.exp(-m) * (1 - np.exp(-m)) / n)


def test_profiles_sum_to_sizes():
    av = branching_process(1.0, 20_000, seed=2, max_shape_duration=50)
    for t in (1, 5, 20, 50):
        sel = av.durations == t
        if sel.any():
            assert av.shapes.counts[t - 1] == sel.sum()
            np.testing.assert_allclose(av.shapes.profile_sum(t).sum(), av.sizes[sel].sum())
            assert av.shapes.profile_sum(t)[0] == sel.sum()  # one ancestor each


def test_supercritical_runaways_are_censored_not_overflowing():
    av = branching_process(3.0, 2000, seed=3, max_duration=200)
    assert av.n_censored > 1500
    assert np.isfinite(av.censored_sizes).all()
    assert av.censored_sizes.max() < 1e14


def test_bad_input():
    with pytest.raises(ValueError, match="'m'"):
        branching_process(-0.1, 10)
    with pytest.raises(ValueError, match="'n'"):
        branching_process(1.0, 0)
    with pytest.raises(ValueError, match="'seed'"):
        branching_process(1.0, 10, seed=-1)
