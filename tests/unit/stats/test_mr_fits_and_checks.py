"""Multistep regression: stationary-mean coefficients, offset and complex fits, checks.

Expected values come from exact laws: the stationary autocorrelation m^k of a driven
branching process (Wilting & Priesemann 2018) and of an AR(1) process, slow twins
computed with ``np.polyfit``, and least-squares minima checked by perturbation.
"""

import json

import numpy as np
import pytest

import crackle as ck
from crackle.sim import driven_branching_process
from crackle.stats._mrfits import COMPLEX_NAMES, fit_complex, fit_offset, model


def slow_sm(trials, kmax):
    """Stationary-mean r_k: one regression over the pooled pairs of every trial."""
    out = []
    for k in range(1, kmax + 1):
        x = np.concatenate([np.asarray(t, float)[:-k] for t in trials])
        y = np.concatenate([np.asarray(t, float)[k:] for t in trials])
        out.append(np.polyfit(x, y, 1)[0])
    return np.array(out)


def ar1(rng, n, phi, mean=0.0, sd=1.0):
    e = rng.normal(0.0, sd, n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x + mean


@pytest.mark.parametrize("lengths", [[3000], [400, 523, 611], [50 + 3 * i for i in range(40)]])
def test_sm_coefficients_match_pooled_regression(lengths):
    rng = np.random.default_rng(len(lengths))
    trials = [rng.poisson(3.0, n) + ar1(rng, n, 0.8).round() + 5 for n in lengths]
    est = ck.branching_ratio(
        trials if len(trials) > 1 else trials[0], coefficients="sm", kmax=8, n_boot=0
    )
    np.testing.assert_allclose(est.r_k, slow_sm(trials, 8), rtol=1e-10, atol=1e-12)
    assert est.coefficients == "sm"


def test_one_trial_ts_equals_sm():
    x = driven_branching_process(0.9, 2.0, 5000, seed=2).activity
    a = ck.branching_ratio(x, kmax=30, n_boot=0, coefficients="ts")
    b = ck.branching_ratio(x, kmax=30, n_boot=0, coefficients="sm")
    np.testing.assert_allclose(a.r_k, b.r_k, rtol=1e-12)


def test_sm_is_unbiased_on_short_trials_where_ts_is_not():
    # 1000 trials of 28 steps of a stationary driven branching process, m = 0.9.
    run = driven_branching_process(0.9, 2.0, 28, n_trials=1000, seed=3)
    sm = ck.branching_ratio(run.activity, coefficients="sm", kmax=10, n_boot=20)
    ts = ck.branching_ratio(run.activity, coefficients="ts", kmax=10, n_boot=20)
    assert abs(sm.m - 0.9) < 0.02
    assert sm.valid, sm.reasons
    assert ts.m < 0.8  # each trial's own mean biases r_k down on 28 steps
    assert not ts.valid  # and the checks say so


@pytest.mark.parametrize(
    ("seed", "n", "rate"), [(0, 50_000, 5.0), (1, 20_000, 0.5), (2, 200_000, 20.0), (3, 5_000, 2.0)]
)
@pytest.mark.parametrize("fit", ["exp", "exp_offset"])
def test_iid_poisson_counts_are_not_valid(seed, n, rate, fit):
    x = np.random.default_rng(seed).poisson(rate, n)
    est = ck.branching_ratio(x, kmax=50, n_boot=20, fit=fit, seed=seed)
    assert not est.valid
    assert any(r.startswith("amplitude ~0") for r in est.reasons)


@pytest.mark.parametrize("m", [0.9, 0.95])
@pytest.mark.parametrize("fit", ["exp", "exp_offset"])
def test_subsampled_driven_process_is_valid_and_accurate(m, fit):
    run = driven_branching_process(m, 10.0, 400_000, subsample=0.05, seed=5)
    est = ck.branching_ratio(run.observed, fit=fit, kmax=int(8 / (1 - m)), n_boot=20)
    assert est.valid, est.reasons
    assert abs(est.m - m) < 0.01


def test_real_valued_activity_with_negative_values():
    # A zero-mean AR(1) signal (like band-passed MUA or LFP): r_k = phi^k exactly.
    x = ar1(np.random.default_rng(4), 100_000, 0.85)
    assert (x < 0).any()
    est = ck.branching_ratio(x, kmax=40, n_boot=20)
    assert abs(est.m - 0.85) < 0.01
    assert est.valid, est.reasons
    with pytest.raises(ck.CrackleValueError, match="non-negative"):
        ck.branching_ratio(x, method="naive")


def test_offset_fit_is_exact_and_a_least_squares_minimum():
    k = np.arange(1.0, 61.0)
    exact = 0.4 * 0.93**k + 0.05
    f = fit_offset(k, exact)
    assert f.m == pytest.approx(0.93, abs=1e-10)
    assert f.params["b"] == pytest.approx(0.4, abs=1e-9)
    assert f.offset == pytest.approx(0.05, abs=1e-9)
    noisy = exact + np.random.default_rng(0).normal(0, 0.01, k.size)
    g = fit_offset(k, noisy)
    base = np.sum((noisy - model("exp_offset", g.params, k)) ** 2)
    assert base == pytest.approx(g.sse, rel=1e-9)
    for dm in (1e-4, -1e-4):
        for key in ("b", "m", "c"):
            p = dict(g.params)
            p[key] += dm
            assert np.sum((noisy - model("exp_offset", p, k)) ** 2) > base


def test_complex_fit_recovers_an_exact_curve():
    k = np.arange(1.0, 301.0)
    true = dict(zip(COMPLEX_NAMES, (40.0, 0.5, 0.02, 80.0, 0.1, 1.0, 0.02, 3.0, 0.2), strict=True))
    r = model("complex", true, k)
    f = fit_complex(k, r)
    assert f.sse < 1e-8
    assert f.params["tau"] == pytest.approx(40.0, rel=1e-3)
    assert f.m == pytest.approx(np.exp(-1 / 40), abs=1e-5)


def test_oscillation_is_flagged():
    # AR(2) with complex roots: r_k oscillates and goes negative.
    rng = np.random.default_rng(6)
    n, a1, a2 = 100_000, 1.6, -0.8
    x = np.zeros(n)
    e = rng.normal(size=n)
    for t in range(2, n):
        x[t] = a1 * x[t - 1] + a2 * x[t - 2] + e[t]
    est = ck.branching_ratio(x, kmax=40, n_boot=20)
    assert not est.valid
    assert any(r.startswith("oscillation") for r in est.reasons)


def test_slow_drift_makes_the_fits_disagree():
    # m = 0.8 plus a slow random offset per 2000-step block (non-stationary mean):
    # the exponential without offset stretches tau, the offset fit does not.
    rng = np.random.default_rng(7)
    x = ar1(rng, 200_000, 0.8) + np.repeat(rng.normal(0, 1.0, 100), 2000)
    est = ck.branching_ratio(x, kmax=60, n_boot=20)
    assert not est.valid
    assert any(r.startswith("the fits disagree") for r in est.reasons)
    off = ck.branching_ratio(x, kmax=60, n_boot=20, fit="exp_offset")
    assert abs(off.m - 0.8) < 0.03


def test_tau_beyond_the_fitted_lags_is_flagged():
    x = ar1(np.random.default_rng(8), 200_000, 0.995)
    est = ck.branching_ratio(x, kmax=20, n_boot=0)
    assert any(r.startswith("tau outside the fitted lag range") for r in est.reasons)


def test_result_records_checks_and_is_json():
    x = np.random.default_rng(9).poisson(4.0, 20_000)
    est = ck.branching_ratio(x, kmax=20, n_boot=10, fit="exp_offset")
    d = json.loads(json.dumps(est.to_dict()))
    assert d["valid"] is False
    assert d["reasons"]
    assert d["fit"] == "exp_offset"
    assert set(d["alternatives"]) == {"exp"}
    assert est.fitted().shape == (20,)


def test_a_resample_without_variance_is_left_out_of_the_bootstrap_silently():
    # 18 bins, one of them off: many block resamples have A_t constant at some lag.
    # Those replicas have no slope; they are left out, with no RuntimeWarning and no
    # floating-point error inside.
    import warnings

    x = np.array([True] * 5 + [False] + [True] * 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            res = ck.branching_ratio(x, kmax=3, n_boot=20, seed=0)
    assert not res.valid
    assert np.isnan(res.m_stderr) or res.m_stderr >= 0
