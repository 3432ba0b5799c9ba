"""Window scans: exponents against the lower cut-off, the stable window, systematic errors."""

import numpy as np
import pytest

import crackle as ck
from crackle.stats import _powerlaw_sampling as smp
from crackle.stats.windows import _stable_start, scan_power_law, scan_size_duration


def test_exact_power_law_is_stable_from_the_bottom():
    # An exact law has no corrections: the window starts at (or next to) the smallest value.
    x = ck.sample_power_law(2.2, 1.0, 50_000, seed=3)
    scan = scan_power_law(x, discrete=False)
    assert scan.stable
    assert scan.low <= 1.3
    assert scan.exponent == pytest.approx(2.2, abs=4 * scan.stat_err)
    # The systematic error is the spread over nested windows: of the order of a few
    # statistical errors for an exact law, never zero by construction of a floor.
    assert 0 < scan.sys_err < 6 * scan.stat_err


def test_lognormal_exponent_drifts():
    # The local exponent of a lognormal rises steadily with x: every window from the
    # bottom disagrees with the ones above it.
    x = np.random.default_rng(0).lognormal(0.0, 1.0, 200_000)
    scan = scan_power_law(x, discrete=False)
    assert not scan.stable or scan.counts[scan.chosen] < 0.05 * x.size
    assert np.nanmax(np.diff(scan.exponents[:20])) > 0  # rising


def test_stable_start_against_a_slow_loop():
    rng = np.random.default_rng(1)
    e = np.cumsum(rng.normal(0, 0.01, 30))
    s = np.linspace(0.01, 0.1, 30)

    def slow(e, s, z):
        for k in range(e.size):
            if all(
                abs(e[j] - e[k]) <= z * np.sqrt(max(s[j] ** 2 - s[k] ** 2, 0)) + 1e-12
                for j in range(k + 1, e.size)
            ):
                return k
        return -1

    for z in (1.0, 2.0, 3.0):
        assert _stable_start(e, s, z) == slow(e, s, z)


def test_fixed_low_is_kept_and_gives_the_spread():
    x = ck.sample_power_law(2.5, 5, 30_000, discrete=True, seed=2)
    scan = scan_power_law(x, discrete=True, fixed_low=10)
    assert scan.low == 10
    assert "fixed" in scan.message
    fit = ck.fit_power_law(x, discrete=True, xmin=10)
    assert scan.exponent == pytest.approx(fit.exponent, rel=1e-9)


def test_xmax_truncates_the_fits():
    x = ck.sample_power_law(1.5, 1, 100_000, discrete=True, xmax=10_000, seed=4)
    scan = scan_power_law(x, discrete=True, xmax=10_000)
    assert scan.upper == 10_000
    assert scan.exponent == pytest.approx(1.5, abs=max(0.02, 4 * scan.stat_err))
    # Without the truncation the fit is biased by the missing far tail.
    plain = ck.fit_power_law(x, discrete=True, xmin=scan.low)
    truncated = ck.fit_power_law(x, discrete=True, xmin=scan.low, xmax=10_000)
    assert abs(truncated.exponent - 1.5) < abs(plain.exponent - 1.5)


def test_too_little_data_is_said_not_raised():
    scan = scan_power_law([1.0, 2.0, 3.0, 5.0] * 10, discrete=False)
    assert not scan.stable
    assert "too few" in scan.message
    assert scan.to_dict()["exponent"] is None


def test_size_duration_scan_finds_the_slope_and_pools_long_durations():
    rng = np.random.default_rng(0)
    t = np.floor(ck.sample_power_law(2.0, 1, 200_000, discrete=True, seed=5)).astype(int)
    s = t**1.8 * np.exp(rng.normal(0, 0.3, t.size))
    scan = scan_size_duration(s, t)
    assert scan.stable
    assert scan.exponent == pytest.approx(1.8, abs=max(0.01, 4 * scan.stat_err))
    fit_plain = ck.fit_size_duration(s, t)
    fit_pool = ck.fit_size_duration(s, t, pool=True)
    # Pooling reaches durations that hold fewer than min_count avalanches each.
    assert fit_pool.durations.max() > 3 * fit_plain.durations.max()
    assert fit_pool.exponent == pytest.approx(1.8, abs=0.02)


def test_sorted_sampler_has_the_law_of_the_plain_one():
    from scipy import stats

    rng = np.random.default_rng(0)
    for discrete, xmin, xmax in ((True, 3, None), (True, 2, 500), (False, 1.5, None)):
        a = smp.sample_sorted(1.7, xmin, xmax, 40_000, discrete, rng)
        assert np.all(np.diff(a) >= 0)
        if discrete:
            b = smp.sample_discrete(1.7, xmin, xmax, 40_000, rng)
        else:
            b = smp.sample_continuous(1.7, xmin, xmax, 40_000, rng)
        assert stats.ks_2samp(a, b).pvalue > 1e-3
        assert a.min() >= xmin
        if xmax is not None:
            assert a.max() <= xmax


def test_fixed_xmin_bootstrap_accepts_the_law_and_rejects_a_wrong_one():
    x = ck.sample_power_law(2.0, 1, 20_000, discrete=True, seed=6)
    fit = ck.fit_power_law(x, discrete=True, xmin=1)
    assert fit.gof(n_boot=50, seed=0, fixed_xmin=True).p > 0.01
    y = np.floor(np.random.default_rng(0).lognormal(1.0, 1.0, 20_000)) + 1
    fit_y = ck.fit_power_law(y, discrete=True, xmin=1)
    assert fit_y.gof(n_boot=50, seed=0, fixed_xmin=True).p == 0.0
    with pytest.raises(ValueError, match="'fixed_xmin'"):
        fit.gof(n_boot=5, fixed_xmin="yes")
