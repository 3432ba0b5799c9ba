"""crackle.stats.branching_ratio against the ``mrestimator`` package on the same data.

Source of every expected value: ``mrestimator.coefficients(data, method="ts")`` (the
trial-separated coefficients of Spitzner et al. 2021, the reference implementation
of Wilting & Priesemann 2018) and ``mrestimator.fit(rk, fitfunc="exponential")``
(unweighted ``curve_fit`` of |A| exp(-k / tau), so m = exp(-1 / tau)), run in this
test on the same seeded driven branching processes. Both fit the same two-parameter
family by unweighted least squares, so the minima must coincide. The stationary-mean
coefficients (``method="sm"``) and the offset and complex fits
(``fitfunc="exponential_offset"`` / ``"complex"``) are compared the same way, one pair
per test, on one seeded set of 40 trials.
"""

import logging

import numpy as np
import pytest

import crackle as ck
from crackle.sim import driven_branching_process

mre = pytest.importorskip("mrestimator")
logging.getLogger("mrestimator").setLevel(logging.ERROR)
pytestmark = pytest.mark.filterwarnings("ignore")  # mrestimator's own overflow warnings


def _mre(data, kmax):
    rk = mre.coefficients(np.asarray(data, dtype=float), method="ts", steps=(1, kmax), numboot=0)
    fit = mre.fit(rk, fitfunc="exponential")
    return rk, fit


@pytest.mark.parametrize(
    ("m", "subsample", "n_trials", "kmax"),
    [
        (0.9, 0.05, None, 60),
        (0.98, 0.01, None, 300),
        (0.95, 0.1, 5, 100),  # several trials of equal length
    ],
)
def test_same_coefficients_and_m_as_mrestimator(m, subsample, n_trials, kmax):
    run = driven_branching_process(m, 10.0, 40_000, subsample=subsample, n_trials=n_trials, seed=9)
    est = ck.branching_ratio(run.observed, kmax=kmax, n_boot=0)
    rk, fit = _mre(run.observed if n_trials else run.observed[None, :], kmax)
    np.testing.assert_array_equal(rk.steps, est.k)
    np.testing.assert_allclose(est.r_k, rk.coefficients, rtol=1e-9, atol=1e-12)
    assert est.m == pytest.approx(fit.mre, abs=1e-7)
    assert est.b == pytest.approx(abs(fit.popt[1]), rel=1e-5)
    assert est.tau == pytest.approx(fit.tau, rel=1e-5)


_FITS = {"exp": "exponential", "exp_offset": "exponential_offset", "complex": "complex"}


@pytest.mark.parametrize("coefficients", ["ts", "sm"])
@pytest.mark.parametrize("fit", ["exp", "exp_offset", "complex"])
def test_each_coefficients_and_fit_pair_as_mrestimator(coefficients, fit):
    """40 trials of 400 steps: ``mrestimator.coefficients(method=...)`` and
    ``mrestimator.fit(fitfunc=...)`` on the same data, in this run."""
    run = driven_branching_process(0.95, 10.0, 400, subsample=0.1, n_trials=40, seed=9)
    data = run.observed.astype(float)
    kmax = 60
    method = {"ts": "trialseparated", "sm": "stationarymean"}[coefficients]
    rk = mre.coefficients(data, method=method, steps=(1, kmax), numboot=0)
    ft = mre.fit(rk, fitfunc=_FITS[fit])
    est = ck.branching_ratio(data, kmax=kmax, coefficients=coefficients, fit=fit, n_boot=0)
    np.testing.assert_allclose(est.r_k, rk.coefficients, rtol=1e-9, atol=1e-12)
    sse = float(np.sum((est.fitted() - est.r_k) ** 2))
    # Same least-squares problem: our minimum is at least as low as curve_fit's.
    assert sse <= ft.ssres * (1 + 1e-6)
    if fit == "complex":
        # Nine parameters, several local minima: the same m to 1e-3 (seen: 3e-6, 1.6e-4).
        assert est.m == pytest.approx(ft.mre, abs=1e-3)
    else:
        # curve_fit stops at its default tolerance (seen: up to 1.1e-7 in m).
        assert est.m == pytest.approx(ft.mre, abs=5e-7)
        if fit == "exp_offset":
            assert est.offset == pytest.approx(ft.popt[2], abs=1e-6)
