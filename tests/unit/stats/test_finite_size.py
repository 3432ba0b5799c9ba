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


N5 = np.array([50.0, 100, 200, 400, 800])


def test_systematic_errors_propagate_as_the_refit_of_shifted_values():
    """The obvious way: shift one width's value by its systematic error, refit with the
    same weights (np.polyfit), and add the intercept's moves in quadrature."""
    rng = np.random.default_rng(5)
    err = np.array([0.004, 0.003, 0.003, 0.002, 0.002])
    sys_err = np.array([0.01, 0.0, 0.02, 0.005, 0.03])
    y = 1.5 + 10 / N5 + rng.normal(0, np.hypot(err, sys_err))
    r = extrapolate_to_infinite_size(N5, y, err, sys_err)
    sd = np.hypot(err, sys_err)

    def intercept(values):
        return np.polyfit(1 / N5, values, 1, w=1 / sd)[1]

    base = intercept(y)
    moves = [intercept(y + np.eye(5)[i] * sys_err[i]) - base for i in range(5)]
    stat_moves = [intercept(y + np.eye(5)[i] * err[i]) - base for i in range(5)]
    scale = max(r.chi2_dof, 1.0) ** 0.5
    assert r.intercept == pytest.approx(base, rel=1e-10)
    assert r.intercept_sys == pytest.approx(np.sqrt(np.sum(np.square(moves))) * scale, rel=1e-8)
    assert r.intercept_err == pytest.approx(np.sqrt(np.sum(np.square(stat_moves))) * scale)
    assert r.intercept_total_err == pytest.approx(np.hypot(r.intercept_err, r.intercept_sys))
    # chi^2 against the combined variances; without the systematic errors it is larger.
    assert r.chi2_dof == pytest.approx(np.sum((y - r.predict(N5)) ** 2 / sd**2) / 3)
    assert extrapolate_to_infinite_size(N5, y, err).chi2_dof > r.chi2_dof
    d = r.to_dict()
    assert d["systematic"] == sys_err.tolist()
    assert d["intercept_sys"] == r.intercept_sys


def test_a_poor_fit_is_flagged_and_its_errors_scaled():
    # Curvature in 1/N that errors of 1e-3 cannot hide: chi^2/dof in the hundreds.
    y = 1.5 + 10 / N5 + 4000 / N5**2
    err = np.full(5, 1e-3)
    r = extrapolate_to_infinite_size(N5, y, err)
    assert r.chi2_dof > 100
    assert r.chi2_p < 1e-6
    assert r.poor_fit
    assert r.scale == pytest.approx(np.sqrt(r.chi2_dof))
    plain = np.sqrt(np.polyfit(1 / N5, y, 1, w=1 / err, cov="unscaled")[1][1, 1])
    assert r.intercept_err == pytest.approx(plain * r.scale, rel=1e-8)
    assert "poor" in r.note
    assert f"{r.chi2_dof:.1f}" in r.note
    assert r.to_dict()["poor_fit"] is True
    # The same line with scatter its errors allow is not flagged, and not scaled.
    rng = np.random.default_rng(6)
    good = [
        extrapolate_to_infinite_size(N5, 1.5 + 10 / N5 + rng.normal(0, err), err)
        for _ in range(200)
    ]
    flagged = np.mean([g.poor_fit for g in good])
    assert flagged < 0.05  # about POOR_FIT_P = 1% by construction
    assert all(g.note == "" for g in good if not g.poor_fit)
    assert all(g.scale == 1.0 for g in good if g.chi2_dof <= 1)
    # Unweighted fits have no chi^2 probability and are never flagged.
    assert not extrapolate_to_infinite_size(N5, y).poor_fit


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([50, 100], [1.0]), "'values'"),
        (([50, 50], [1.0, 1.1]), "'sizes'"),
        (([0, 100], [1.0, 1.1]), "'sizes'"),
        (([50, 100], [1.0, np.nan]), "'values'"),
        (([50, 100], [1.0, 1.1], [0.1, -0.1]), "'errors'"),
        (([50, 100], [1.0, 1.1], None, [0.1, 0.1]), "'systematic'"),
        (([50, 100], [1.0, 1.1], [0.1, 0.1], [0.1, -0.1]), "'systematic'"),
        (([50, 100], [1.0, 1.1], [0.1, 0.1], [0.1]), "'systematic'"),
        (([50, 100], [1.0, 1.1], [0.1, 0.1], [0.1, np.nan]), "'systematic'"),
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
