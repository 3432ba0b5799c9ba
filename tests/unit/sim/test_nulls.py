"""Null models: their laws are the ones documented, and the battery runs on them.

Expected values are exact laws of the generators: Poisson counts (mean = variance =
rate, no correlation between bins, geometric run lengths P(T = k) = q^(k-1) (1 - q),
q = 1 - exp(-rate)); the discretised lognormal and stretched exponential duration laws
P(T = k) = P(k <= X < k + 1 | X >= 1); sizes with <S / T^gamma> = 1 and log-standard
deviation ``size_noise``. Tolerances: 4 standard errors.
"""

import numpy as np
import pytest
from scipy.special import ndtr

import crackle as ck
from crackle.sim import (
    iid_poisson_activity,
    lognormal_avalanches,
    stretched_exponential_avalanches,
)

NULLS = (lognormal_avalanches, stretched_exponential_avalanches)


def lognormal_cdf_above_one(x, mu=-3.5, sigma=2.6):
    """P(X <= x | X >= 1) for ln X ~ N(mu, sigma^2)."""
    tail = ndtr(mu / sigma)  # P(X >= 1) = P(Z >= -mu / sigma)
    return 1.0 - ndtr((mu - np.log(x)) / sigma) / tail


def stretched_cdf_above_one(x, beta=0.14, lam=4.6):
    return 1.0 - np.exp(-lam * (x**beta - 1.0))


CDFS = {
    lognormal_avalanches: lognormal_cdf_above_one,
    stretched_exponential_avalanches: (stretched_cdf_above_one),
}


def duration_pmf(gen, k):
    cdf = CDFS[gen]
    k = np.asarray(k, dtype=float)
    return cdf(k + 1.0) - cdf(k)


# -- i.i.d. Poisson activity --------------------------------------------------------


def test_iid_poisson_counts_and_runs():
    rate, steps = 1.0, 400_000
    x = iid_poisson_activity(rate, steps, seed=0)
    assert x.dtype == np.int64
    assert x.shape == (steps,)
    assert abs(x.mean() - rate) < 4 * np.sqrt(rate / steps)
    assert abs(x.var() - rate) < 4 * np.sqrt((rate + 2 * rate**2) / steps)
    # No branching: the lag-1 correlation is zero.
    r1 = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert abs(r1) < 4 / np.sqrt(steps)
    av = ck.avalanches_from_counts(x)
    q = 1 - np.exp(-rate)
    ks = np.arange(1, 8)
    p = q ** (ks - 1) * (1 - q)
    freq = np.array([np.mean(av.durations == k) for k in ks])
    np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / av.n))
    # About steps q (1 - q) avalanches (runs of non-empty bins).
    expected = steps * q * (1 - q)
    assert abs(av.n + av.n_censored - expected) < 4 * np.sqrt(expected) + 2


def test_iid_poisson_seeded():
    a = iid_poisson_activity(2.0, 1000, seed=4)
    np.testing.assert_array_equal(a, iid_poisson_activity(2.0, 1000, seed=4))
    assert not np.array_equal(a, iid_poisson_activity(2.0, 1000, seed=5))


def test_iid_poisson_bad_input():
    with pytest.raises(ValueError, match="'rate'"):
        iid_poisson_activity(0.0, 10)
    with pytest.raises(ValueError, match="'n_steps'"):
        iid_poisson_activity(1.0, 0)
    with pytest.raises(ValueError, match="'seed'"):
        iid_poisson_activity(1.0, 10, seed=-2)


# -- lognormal and stretched-exponential avalanches ---------------------------------


@pytest.mark.parametrize("gen", NULLS)
def test_duration_law(gen):
    n = 200_000
    av = gen(n, seed=1, max_shape_duration=None)
    assert av.n == n
    assert av.n_censored == 0
    assert av.durations.min() >= 1
    ks = np.array([1, 2, 3, 5, 10, 30, 100])
    p = duration_pmf(gen, ks)
    freq = np.array([np.mean(av.durations == k) for k in ks])
    np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / n))
    # The far tail, P(T >= 1000).
    p_tail = 1.0 - CDFS[gen](1000.0)
    assert abs(np.mean(av.durations >= 1000) - p_tail) < 4 * np.sqrt(p_tail / n)


@pytest.mark.parametrize("gen", NULLS)
def test_heavy_tailed_but_curved(gen):
    """The documented hard null: the local exponent of the exact duration law stays
    between 1.4 and 2.7 over three decades, yet drifts by more than 0.7."""
    ks = np.array([3.0, 10.0, 30.0, 100.0, 300.0, 1000.0])
    lo, hi = duration_pmf(gen, ks), duration_pmf(gen, ks * 1.1)
    local = -np.log(hi / lo) / np.log(1.1)
    assert np.all((local > 1.4) & (local < 2.7))
    assert np.all(np.diff(local) > 0)
    assert local[-1] - local[0] > 0.7


@pytest.mark.parametrize("gen", NULLS)
def test_sizes_follow_the_scaling_law(gen):
    n = 200_000
    av = gen(n, gamma=1.7, size_noise=0.4, seed=2, max_shape_duration=None)
    ratio = av.sizes / av.durations.astype(float) ** 1.7
    assert abs(ratio.mean() - 1) < 4 * ratio.std() / np.sqrt(n)
    logs = np.log(ratio)
    assert abs(logs.std() - 0.4) < 4 * 0.4 / np.sqrt(2 * n)
    assert av.info["gamma"] == 1.7
    assert av.info["size_noise"] == 0.4
    exact = gen(100, size_noise=0.0, seed=2)
    np.testing.assert_allclose(exact.sizes, exact.durations.astype(float) ** 2.0)


def slow_shape_sums(sizes, durations, gamma, shape_noise, max_shape, noise_rng):
    """The profiles one avalanche at a time, drawing the noise as the generator does
    (one vector for the block, avalanches in order, positions in order)."""
    keep = durations <= max_shape
    dur = durations[keep]
    noise = (
        np.exp(noise_rng.normal(-0.5 * shape_noise**2, shape_noise, int(dur.sum())))
        if shape_noise > 0
        else np.ones(int(dur.sum()))
    )
    sums = {t: np.zeros(t) for t in range(1, max_shape + 1)}
    counts = np.zeros(max_shape, dtype=int)
    at = 0
    for s, t in zip(sizes[keep], dur, strict=True):
        w = np.array([((i + 0.5) / t * (1 - (i + 0.5) / t)) ** (gamma - 1) for i in range(t)])
        w = w * noise[at : at + t]
        at += t
        sums[t] += s * w / w.sum()
        counts[t - 1] += 1
    return sums, counts, int((~keep).sum())


@pytest.mark.parametrize("gen", NULLS)
@pytest.mark.parametrize("shape_noise", [0.0, 0.3])
def test_shape_sums_match_slow_twin(gen, shape_noise):
    n, max_shape = 3000, 40
    av = gen(n, shape_noise=shape_noise, max_shape_duration=max_shape, seed=3)
    # Replay the generator's stream: uniforms, size noise, then the block's shape noise.
    rng = np.random.default_rng(3)
    rng.random(n)
    rng.normal(size=n)
    sums, counts, too_long = slow_shape_sums(
        av.sizes, av.durations, 2.0, shape_noise, max_shape, rng
    )
    np.testing.assert_array_equal(av.shapes.counts, counts)
    assert av.shapes.n_too_long == too_long
    for t in range(1, max_shape + 1):
        np.testing.assert_allclose(av.shapes.profile_sum(t), sums[t], rtol=1e-10, atol=1e-12)
        sel = av.durations == t
        np.testing.assert_allclose(av.shapes.profile_sum(t).sum(), av.sizes[sel].sum())


@pytest.mark.parametrize("gen", NULLS)
def test_blocks_do_not_change_the_avalanches(gen):
    # Above one block (2^16 avalanches) the shape sums are merged block by block.
    big = gen(70_000, seed=5, max_shape_duration=30)
    for t in (1, 4, 30):
        sel = big.durations == t
        np.testing.assert_allclose(big.shapes.profile_sum(t).sum(), big.sizes[sel].sum())
    assert big.shapes.counts.sum() + big.shapes.n_too_long == 70_000


@pytest.mark.parametrize("gen", NULLS)
def test_shape_collapse_recovers_gamma(gen):
    """Profiles scale as T^(gamma - 1) by construction, so the collapse exponent is
    gamma (the battery runs on these nulls, shape collapse included)."""
    av = gen(200_000, gamma=2.0, seed=6)
    col = ck.shape_collapse(av, tmin=4, tmax=100)
    assert abs(col.gamma - 2.0) < 0.1


@pytest.mark.parametrize("gen", NULLS)
def test_seeded_and_info(gen):
    a, b = gen(2000, seed=9), gen(2000, seed=9)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    np.testing.assert_array_equal(a.shapes.sums, b.shapes.sums)
    assert not np.array_equal(a.sizes, gen(2000, seed=10).sizes)
    assert a.info["source"] == gen.__name__
    assert a.info["seed"] == 9
    assert a.info["n"] == 2000


@pytest.mark.parametrize(
    ("gen", "kwargs", "name"),
    [
        (lognormal_avalanches, {"sigma": 0.0}, "sigma"),
        (lognormal_avalanches, {"mu": float("nan")}, "mu"),
        (stretched_exponential_avalanches, {"beta": 1.5}, "beta"),
        (stretched_exponential_avalanches, {"lam": 0.0}, "lam"),
        (lognormal_avalanches, {"gamma": 0.0}, "gamma"),
        (stretched_exponential_avalanches, {"size_noise": -0.1}, "size_noise"),
        (lognormal_avalanches, {"shape_noise": -1.0}, "shape_noise"),
        (lognormal_avalanches, {"max_shape_duration": 0}, "max_shape_duration"),
        (lognormal_avalanches, {"n": 0}, "n"),
        (stretched_exponential_avalanches, {"seed": -1}, "seed"),
    ],
)
def test_bad_input(gen, kwargs, name):
    with pytest.raises(ck.CrackleValueError, match=f"'{name}' parameter of {gen.__name__}"):
        gen(**kwargs)
