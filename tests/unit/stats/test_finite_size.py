"""Straightness of log-log distributions and extrapolation in 1/N."""

import numpy as np
import pytest

from crackle.stats import _powerlaw_sampling
from crackle.stats.finite_size import (
    extrapolate_to_infinite_size,
    log_binned_density,
    straightness,
)


def test_log_binned_density_normalisation_discrete_and_continuous():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 5000, 50_000)
    d = log_binned_density(x, discrete=True, min_count=1)
    widths = np.diff(np.floor(d.edges))
    assert np.sum(d.density * widths[: d.density.size]) == pytest.approx(1.0)
    y = rng.lognormal(0, 2, 50_000)
    c = log_binned_density(y, min_count=1)
    kept = np.diff(c.edges)[np.histogram(y, c.edges)[0] >= 1]
    assert np.sum(c.density * kept) == pytest.approx(1.0)


def test_straightness_separates_power_law_from_cutoff_and_bump():
    rng = np.random.default_rng(1)
    pl = _powerlaw_sampling.sample_continuous(1.5, 1.0, None, 200_000, rng)
    cut = pl[rng.random(pl.size) < np.exp(-pl / 300.0)]  # exponential cut-off at 300
    s_pl, s_cut = straightness(pl), straightness(cut)
    assert s_pl.rms < 0.03
    assert s_cut.rms > 3 * s_pl.rms
    assert s_cut.curvature < 0 < s_cut.rms
    assert s_pl.slope == pytest.approx(-1.5, abs=0.03)
    bump = np.concatenate([pl, rng.uniform(1000, 2000, 2000)])
    assert straightness(bump).rms > 3 * s_pl.rms


def test_straightness_of_a_discrete_power_law():
    rng = np.random.default_rng(2)
    x = _powerlaw_sampling.sample_discrete(1.5, 1, None, 200_000, rng)
    s = straightness(x, discrete=True)
    assert s.rms < 0.03
    assert s.slope == pytest.approx(-1.5, abs=0.05)


def test_extrapolation_recovers_an_exact_line_and_matches_weighted_polyfit():
    n = np.array([50.0, 100, 200, 400, 800])
    r = extrapolate_to_infinite_size(n, 1.5 + 10 / n)
    assert r.intercept == pytest.approx(1.5, abs=1e-12)
    assert r.slope == pytest.approx(10.0, abs=1e-9)
    assert r.predict(np.inf) == pytest.approx(1.5)
    rng = np.random.default_rng(3)
    err = np.array([0.01, 0.02, 0.01, 0.03, 0.02])
    y = 1.5 + 10 / n + rng.normal(0, err)
    w = extrapolate_to_infinite_size(n, y, err)
    slope, intercept = np.polyfit(1 / n, y, 1, w=1 / err)
    assert w.intercept == pytest.approx(intercept, rel=1e-10)
    assert w.slope == pytest.approx(slope, rel=1e-8)
    assert abs(w.intercept - 1.5) < 4 * w.intercept_err


def test_extrapolation_error_covers_the_truth_at_the_stated_rate():
    # Over many noisy data sets, |intercept - truth| < 2 sigma about 95% of the time.
    rng = np.random.default_rng(4)
    n = np.array([50.0, 100, 200, 400, 800])
    err = np.full(5, 0.02)
    hits = 0
    for _ in range(400):
        r = extrapolate_to_infinite_size(n, 1.5 - 5 / n + rng.normal(0, err), err)
        hits += abs(r.intercept - 1.5) < 2 * r.intercept_err
    assert 0.9 < hits / 400 <= 1.0


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([50, 100], [1.0]), "'values'"),
        (([50, 50], [1.0, 1.1]), "'sizes'"),
        (([0, 100], [1.0, 1.1]), "'sizes'"),
        (([50, 100], [1.0, np.nan]), "'values'"),
        (([50, 100], [1.0, 1.1], [0.1, -0.1]), "'errors'"),
    ],
)
def test_extrapolation_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        extrapolate_to_infinite_size(*args)


@pytest.mark.parametrize(
    ("x", "kw", "name"),
    [
        ([1.0, 2.0, np.inf], {}, "'x'"),
        ([1.0, -2.0, 3.0], {}, "'x'"),
        ([1.5, 2.0, 3.0], {"discrete": True}, "'x'"),
        ([1.0, 2.0, 3.0], {}, "'x'"),  # too few bins
        (np.arange(1, 100.0), {"xmin": 0.0}, "'xmin'"),
    ],
)
def test_straightness_bad_input(x, kw, name):
    with pytest.raises(ValueError, match=name):
        straightness(x, **kw)
