"""Branching-ratio estimators against slow twins and driven processes of known m."""

import json

import numpy as np
import pytest

import crackle as ck
from crackle.sim import driven_branching_process, mixture_branching_process
from crackle.stats import fit_mixture_spectrum
from crackle.stats._expfit import fit_exponential
from crackle.stats._lagsums import lag_sums


def slow_rk(trials, kmax):
    """Trial-separated r_k: per trial, per lag, the least-squares slope; then the mean."""
    per = []
    for x in trials:
        x = np.asarray(x, dtype=float)
        row = []
        for k in range(1, kmax + 1):
            slope, _ = np.polyfit(x[:-k], x[k:], 1)
            row.append(slope)
        per.append(row)
    return np.mean(per, axis=0)


def slow_naive(trials):
    ratios = []
    for x in trials:
        for t in range(len(x) - 1):
            if x[t] > 0:
                ratios.append(x[t + 1] / x[t])
    return np.mean(ratios)


def ar_counts(rng, size, m=0.8):
    x = np.empty(size)
    x[0] = 20
    for t in range(1, size):
        x[t] = rng.poisson(m * x[t - 1] + 4)
    return x


@pytest.mark.parametrize(
    ("lengths", "kmax"),
    [
        ([3000], 25),  # one trial: pooled block sums
        ([500, 800, 650], 12),  # few unequal trials: one dot per (trial, lag)
        ([60 + 7 * i for i in range(40)], 8),  # many trials: per-lag cumulative sums
    ],
)
def test_rk_matches_slow_twin(lengths, kmax):
    rng = np.random.default_rng(len(lengths))
    trials = [ar_counts(rng, n) for n in lengths]
    est = ck.branching_ratio(trials if len(trials) > 1 else trials[0], kmax=kmax, n_boot=0)
    np.testing.assert_allclose(est.r_k, slow_rk(trials, kmax), rtol=1e-10, atol=1e-12)
    assert est.n_trials == len(lengths)
    assert est.n_steps == sum(lengths)


def test_lag_sums_match_direct_sums():
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    starts, stops, ends = (
        np.array([0, 100, 220]),
        np.array([100, 219, 299]),
        np.array([220, 220, 300]),
    )
    s = lag_sums(x, starts, stops, ends, 5)
    for i in range(3):
        for j, k in enumerate(range(1, 6)):
            t = np.arange(starts[i], min(stops[i], ends[i] - k))
            assert s.n[i, j] == t.size
            assert s.front[i, j] == pytest.approx(x[t].sum(), abs=1e-12)
            assert s.back[i, j] == pytest.approx(x[t + k].sum(), abs=1e-12)
            assert s.front_sq[i, j] == pytest.approx((x[t] ** 2).sum(), abs=1e-12)
            assert s.cross[i, j] == pytest.approx(x[t] @ x[t + k], abs=1e-12)


def test_two_dimensional_input_is_equal_length_trials():
    rng = np.random.default_rng(4)
    x = np.stack([ar_counts(rng, 400) for _ in range(3)])
    a = ck.branching_ratio(x, kmax=10, n_boot=0)
    b = ck.branching_ratio(list(x), kmax=10, n_boot=0)
    np.testing.assert_array_equal(a.r_k, b.r_k)
    assert a.n_trials == 3


def test_real_valued_activity_is_accepted_and_mr_is_affine_invariant():
    # Not only counts: MR is a regression, so scaling and shifting the activity
    # (rates, amplitudes) leaves r_k and m unchanged.
    x = ar_counts(np.random.default_rng(8), 3000)
    a = ck.branching_ratio(x, kmax=15, n_boot=0)
    b = ck.branching_ratio(0.37 * x + 2.5, kmax=15, n_boot=0)
    np.testing.assert_allclose(b.r_k, a.r_k, rtol=1e-10)
    assert b.m == pytest.approx(a.m, rel=1e-10)


def test_naive_matches_slow_twin_and_counts_zeros():
    trials = [np.array([0, 2, 3, 0, 0, 1, 4]), np.array([5, 0, 1, 2])]
    est = ck.branching_ratio(trials, method="naive", n_boot=10)
    assert est.m == pytest.approx(slow_naive(trials), rel=1e-14)
    assert est.n_zero == 3 + 1  # bins with A_t = 0 that have a successor in their trial
    one = np.array([1.0, 3, 0, 2, 2, 5, 0, 0, 4, 1, 2, 3])
    assert ck.branching_ratio(one, method="naive").m == pytest.approx(slow_naive([one]))


def test_exponential_fit_is_exact_on_exact_coefficients():
    k = np.arange(1, 201, dtype=float)
    for b, m in [(0.3, 0.9), (0.05, 0.995), (1.0, 0.5), (0.7, 1.003)]:
        bf, mf, ok = fit_exponential(k, b * m**k)
        assert ok
        assert mf == pytest.approx(m, rel=1e-12)
        assert bf == pytest.approx(b, rel=1e-9)


def test_exponential_fit_is_the_least_squares_minimum():
    rng = np.random.default_rng(5)
    k = np.arange(1, 61, dtype=float)
    r = 0.4 * 0.93**k + rng.normal(0, 0.01, k.size)
    b, m, _ = fit_exponential(k, r)
    sse = np.sum((b * m**k - r) ** 2)
    for db, dm in [(1e-4, 0), (-1e-4, 0), (0, 1e-5), (0, -1e-5), (1e-4, 1e-5)]:
        assert np.sum(((b + db) * (m + dm) ** k - r) ** 2) > sse


@pytest.mark.parametrize("m", [0.9, 0.95, 0.99, 0.995])
def test_mr_is_unbiased_under_one_percent_subsampling(m):
    # Wilting & Priesemann (2018), Fig. 2: at 1% subsampling the naive estimate is far
    # off while MR stays on m. Drive h = 10, 8 trials of 10^5 steps (enough for a
    # statistical error of m near 0.003 at m = 0.9, where 1% leaves ~1 unit per bin).
    run = driven_branching_process(m, 10.0, 100_000, subsample=0.01, n_trials=8, seed=11)
    kmax = int(min(1000, 8 / (1 - m)))
    est = ck.branching_ratio(run.observed, kmax=kmax, n_boot=50, seed=0)
    naive = ck.branching_ratio(run.observed, method="naive", n_boot=0)
    assert abs(est.m - m) < 0.01
    assert abs(est.m - m) < 4 * est.m_stderr + 1e-3
    assert est.b < 0.6  # subsampling shows up in b, not in m
    assert abs(naive.m - m) > 0.05  # badly biased
    full = ck.branching_ratio(run.activity, method="naive", n_boot=0)
    assert abs(full.m - m) < abs(naive.m - m)  # fully observed, only the drive bias is left


def test_unequal_trials_and_trial_bootstrap():
    parts = driven_branching_process(0.95, 5.0, 12_000, subsample=0.05, n_trials=6, seed=2)
    trials = [row[: 6000 + 1000 * i] for i, row in enumerate(parts.observed)]
    est = ck.branching_ratio(trials, kmax=80, n_boot=100, seed=1)
    assert abs(est.m - 0.95) < 0.01
    assert est.n_blocks == 6  # bootstrap resamples trials
    assert 0 < est.m_stderr < 0.01
    again = ck.branching_ratio(trials, kmax=80, n_boot=100, seed=1)
    assert again.m_stderr == est.m_stderr
    assert est.tau == pytest.approx(-1 / np.log(est.m))


def test_result_to_dict_is_json_and_plot_runs():
    run = driven_branching_process(0.9, 5.0, 5000, seed=0)
    for method in ("mr", "naive"):
        est = ck.branching_ratio(run.activity, method=method, kmax=20, n_boot=5)
        d = json.loads(json.dumps(est.to_dict(), allow_nan=False))
        assert d["method"] == method
        ax = est.plot()
        assert ax.get_xlabel() == "lag k"
    assert ck.branching_ratio(run.activity, n_boot=0).to_dict()["m_stderr"] is None
    assert ck.branching_ratio(run.activity, n_boot=0).kmax == 500  # min(T // 10, 1000)


@pytest.mark.slow
def test_mixture_of_subcritical_processes_looks_critical_only_in_its_spectrum():
    # Ren & Feng (2026): 1/f noise from a broad distribution of m < 1. m at the 1000
    # quantiles of Beta(5, 2): (1 - m) has density ~ (1 - m)^1 near 0, so the
    # spectrum falls as f^-(3 - b) = 1/f between the slowest relaxation rate
    # ((1 - m_max) / 2 pi = 9e-4 cycles per step) and the typical one; band 1e-3..1e-2
    # cycles per step, where the exact mixture spectrum has beta = 1.01.
    from scipy.stats import beta

    m = beta.ppf((np.arange(1000) + 0.5) / 1000, 5.0, 2.0)
    run = mixture_branching_process(m, 1.0, 2**16, seed=3)
    psd = ck.psd_slope(run.activity, band=(1e-3, 1e-2), nperseg=2**13)
    assert abs(psd.beta - 1.0) < 0.2
    est = ck.branching_ratio(run.activity, kmax=2000, n_boot=50)
    assert est.m + 3 * est.m_stderr < 1.0  # the population MR estimate stays subcritical
    assert est.m > 0.9
    fit = fit_mixture_spectrum(psd.freqs, psd.psd, band=(2e-3, 0.5))
    assert fit.success
    assert abs(fit.b - 2.0) < 0.5  # the exponent-setting shape near m = 1
    assert abs(fit.mean_m - 5 / 7) < 0.1


def _bad_calls():
    ok = np.arange(1.0, 101.0) % 7 + 1
    br = ck.branching_ratio
    return [
        (lambda: br(np.array([1.0, np.nan, 2.0] * 20)), "counts", "finite"),
        (lambda: br(-ok, method="naive"), "counts", "non-negative"),
        (lambda: br(ok, coefficients="stationarymean"), "coefficients", "one of"),
        (lambda: br(ok, fit="exponential"), "fit", "one of"),
        (lambda: br(np.ones((2, 2, 2))), "counts", "1-D array"),
        (lambda: br(ok, method="ols"), "method", "one of"),
        (lambda: br(ok, kmax=60), "counts", "longer than 2 * kmax"),
        (lambda: br(ok, kmax=0), "kmax", "integer in"),
        (lambda: br(np.full(100, 3.0), kmax=5), "counts", "varies"),
        (lambda: br(np.zeros(50), method="naive"), "counts", "active"),
        (lambda: br(ok, n_boot=-1), "n_boot", "integer in"),
        (lambda: br(ok, seed=-3), "seed", "non-negative int"),
        (lambda: br([ok, ok[:10]], kmax=5), "counts", "trial(s) too short"),
        (lambda: ck.dfa(np.ones(50)), "x", "at least 200"),
        (lambda: ck.dfa(np.arange(1000.0), scales=[2, 10]), "scales", "window sizes"),
        (lambda: ck.dfa(np.arange(1000.0), scales=[10.5, 20]), "scales", "integer window"),
        (lambda: ck.dfa(np.r_[np.inf, np.ones(300)]), "x", "finite"),
        (lambda: ck.dfa(np.arange(1000.0), order=0), "order", "integer in"),
        (lambda: ck.psd_slope(np.ones(1000)), "x", "varies"),
        (lambda: ck.psd_slope(ok.repeat(10), band=(0.3, 0.1)), "band", "f_lo < f_hi"),
        (lambda: ck.psd_slope(ok.repeat(10), nperseg=8), "nperseg", "integer in"),
        (lambda: fit_mixture_spectrum([0.1, 0.2], [1.0, 2.0]), "freqs", "at least 5"),
        (lambda: driven_branching_process(1.0, 1.0, 10), "m", "in [0, 1)"),
        (lambda: driven_branching_process(0.5, 0.0, 10), "h", "in (0, inf]"),
        (lambda: driven_branching_process(0.5, 1.0, 10, subsample=0), "subsample", "(0, 1]"),
        (lambda: mixture_branching_process([0.5, 1.2], 1.0, 10), "m_distribution", "[0, 1)"),
        (lambda: mixture_branching_process(("gamma", 1, 2), 1.0, 10), "m_distribution", "beta"),
        (lambda: mixture_branching_process(("beta", 1, 2), 1.0, 10), "n_components", "given"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_calls())))
def test_bad_input_gives_clear_errors(case):
    call, name, words = _bad_calls()[case]
    with pytest.raises(ck.CrackleValueError) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(f"The '{name}' parameter of ")
    assert words in msg
