"""Every fast power-law kernel against a slow, obvious twin written here."""

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from crackle.stats import fit_power_law, sample_power_law
from crackle.stats._powerlaw_alternatives import (
    _fit_exponential,
    _fit_lognormal,
    _lognormal_loglik,
    _tpl_log_norm,
)
from crackle.stats._powerlaw_core import log_hurwitz, log_norm_continuous
from crackle.stats._powerlaw_sampling import sample_discrete


def _mixture(alpha, xmin, n, discrete, seed):
    rng = np.random.default_rng(seed)
    tail = sample_power_law(alpha, xmin, int(0.7 * n), discrete=discrete, seed=seed + 1)
    low = rng.integers(1, xmin, n - tail.size) if discrete else rng.uniform(1, xmin, n - tail.size)
    return np.concatenate([tail, np.asarray(low, dtype=float)])


# ------------------------------------------------------------------ Hurwitz zeta
def test_log_hurwitz_matches_scipy_zeta():
    a = np.linspace(1.001, 20.0, 120)[:, None]
    v = np.unique(np.round(np.geomspace(1, 1e9, 150)))[None, :]
    ref = np.log(special.zeta(a, v))
    np.testing.assert_allclose(log_hurwitz(a, v), ref, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ MLE per candidate
def _slow_discrete_alpha(tail, xmin, xmax=None):
    """Root of the score, with d log Z / d alpha by a central difference of scipy's zeta."""
    m = np.log(tail).mean()

    def log_z(a):
        return np.log(special.zeta(a, xmin) - (0.0 if xmax is None else special.zeta(a, xmax + 1)))

    def score(a, h=1e-6):
        return -(log_z(a + h) - log_z(a - h)) / (2 * h) - m

    return optimize.brentq(score, 1.001, 19.0, xtol=1e-13)


def _slow_continuous_alpha(tail, xmin, xmax):
    s = np.log(tail).sum()
    n = tail.size

    def nll(a):
        z = (xmin ** (1 - a) - xmax ** (1 - a)) / (a - 1)
        return n * np.log(z) + a * s

    return optimize.minimize_scalar(
        nll, bounds=(1.0001, 20), method="bounded", options={"xatol": 1e-10}
    ).x


@pytest.mark.parametrize(
    ("alpha", "xmin", "xmax"), [(1.5, 1, None), (2.5, 4, None), (1.3, 2, 5000), (3.0, 50, None)]
)
def test_discrete_mle_matches_numerical_optimisation(alpha, xmin, xmax):
    x = sample_power_law(alpha, xmin, 3000, discrete=True, xmax=xmax, seed=1)
    fit = fit_power_law(x, discrete=True, xmin=xmin, xmax=xmax)
    assert fit.exponent == pytest.approx(_slow_discrete_alpha(x, xmin, xmax), abs=1e-6)
    # sigma from the observed information: numerical second derivative of the loglik
    h = 1e-4

    def ll(a):
        z = special.zeta(a, xmin) - (0.0 if xmax is None else special.zeta(a, xmax + 1))
        return -x.size * np.log(z) - a * np.log(x).sum()

    d2 = (ll(fit.exponent + h) - 2 * ll(fit.exponent) + ll(fit.exponent - h)) / h**2
    assert fit.exponent_err == pytest.approx(1 / np.sqrt(-d2), rel=1e-4)
    assert fit.loglik == pytest.approx(ll(fit.exponent), rel=1e-10)


def test_truncated_continuous_mle_matches_numerical_optimisation():
    x = sample_power_law(1.4, 2.0, 3000, xmax=1e3, seed=2)
    fit = fit_power_law(x, xmin=2.0, xmax=1e3)
    assert fit.exponent == pytest.approx(_slow_continuous_alpha(x, 2.0, 1e3), abs=1e-6)
    z = log_norm_continuous(np.array([fit.exponent]), np.array([np.log(2.0)]), np.log(1e3))
    ref = integrate.quad(lambda t: t**-fit.exponent, 2.0, 1e3)[0]
    assert np.exp(z[0]) == pytest.approx(ref, rel=1e-10)


def test_discrete_mle_to_thirty_digits():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    x = sample_power_law(1.7, 4, 2000, discrete=True, seed=5)
    fit = fit_power_law(x, discrete=True, xmin=4)
    m = mp.mpf(float(np.log(x).sum())) / x.size
    exact = mp.findroot(lambda a: -mp.zeta(a, 4, 1) / mp.zeta(a, 4) - m, fit.exponent)
    assert fit.exponent == pytest.approx(float(exact), abs=1e-9)


# ------------------------------------------------------------------ the xmin scan
def _slow_scan_discrete(x, sup, min_tail=10):
    """Loop over candidates: numerical MLE, then KS at every integer (Clauset's plfit)."""
    x = np.sort(x)
    best = (np.inf, None, None)
    vals = np.unique(x)
    for u in vals[:-1]:
        tail = x[x >= u]
        if tail.size < min_tail:
            break
        a = _slow_discrete_alpha(tail, u)
        k = np.arange(u, tail.max() + 1)
        pmf = k**-a / special.zeta(a, u)
        m_le = np.cumsum(pmf)  # model P(X <= k)
        e_le = np.searchsorted(tail, k, side="right") / tail.size
        if sup:
            d = np.max(np.abs(e_le - m_le))
        else:  # P(X < v) at distinct tail values v only
            tv = np.unique(tail)
            e_lt = np.searchsorted(tail, tv, side="left") / tail.size
            m_lt = 1 - special.zeta(a, tv) / special.zeta(a, u)
            d = np.max(np.abs(e_lt - m_lt))
        if d < best[0]:
            best = (d, u, a)
    return best


def _slow_scan_continuous(x, min_tail=10):
    x = np.sort(x)
    best = (np.inf, None, None)
    for i in range(x.size - min_tail + 1):
        tail = x[i:]
        n = tail.size
        a = 1 + n / np.log(tail / tail[0]).sum()
        cdf = 1 - (tail / tail[0]) ** (1 - a)
        j = np.arange(1, n + 1)
        d = max(np.max(j / n - cdf), np.max(cdf - (j - 1) / n))
        if d < best[0]:
            best = (d, tail[0], a)
    return best


@pytest.mark.parametrize("sup", [True, False])
@pytest.mark.parametrize(("alpha", "seed"), [(1.7, 1), (2.5, 2), (2.2, 3)])
def test_discrete_scan_matches_the_python_loop(alpha, seed, sup):
    x = _mixture(alpha, 8, 3000, True, seed)
    x = x[x <= 20_000]
    d, u, a = _slow_scan_discrete(x, sup)
    fit = fit_power_law(x, discrete=True, ks="sup" if sup else "left")
    assert fit.xmin == u
    assert fit.exponent == pytest.approx(a, abs=1e-6)
    # the twin's alpha is good to ~1e-9 (brentq on a finite-difference score)
    assert fit.ks == pytest.approx(d, abs=1e-8)


@pytest.mark.parametrize("seed", [4, 5])
def test_continuous_scan_matches_the_python_loop(seed):
    x = _mixture(2.0, 6.0, 2500, False, seed)
    d, u, a = _slow_scan_continuous(x)
    fit = fit_power_law(x)
    assert fit.xmin == u
    assert fit.xmin_candidates == x.size - 9
    assert fit.exponent == pytest.approx(a, rel=1e-12)
    assert fit.ks == pytest.approx(d, abs=1e-12)


# ------------------------------------------------------------------ discrete sampler
@pytest.mark.parametrize(
    ("alpha", "xmin", "xmax"), [(2.5, 1, None), (1.6, 3, None), (2.0, 2, 30_000)]
)
def test_discrete_sampler_is_the_exact_inverse_cdf(alpha, xmin, xmax):
    n = 3000
    got = sample_discrete(alpha, xmin, xmax, n, np.random.default_rng(9))
    u = 1.0 - np.random.default_rng(9).random(n)  # the same stream
    ztop = 0.0 if xmax is None else special.zeta(alpha, xmax + 1)
    z0 = special.zeta(alpha, xmin) - ztop

    def surv(k):  # P(X >= k)
        return (special.zeta(alpha, k) - ztop) / z0

    # slow: integer bisection for the largest k with surv(k) >= u
    lo = np.full(n, float(xmin))
    hi = np.full(n, 1e15 if xmax is None else float(xmax) + 1)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        ok = surv(mid) >= u
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    np.testing.assert_array_equal(got, lo)


# ------------------------------------------------------------------ alternatives
def test_exponential_closed_forms_match_numerical_mle():
    rng = np.random.default_rng(3)
    for discrete in (False, True):
        x = 5.0 + rng.exponential(7.0, 2000)
        x = np.floor(x) if discrete else x
        vals, cnt = np.unique(x, return_counts=True)
        params, ll, ok = _fit_exponential(vals, cnt.astype(float), 5.0, None, discrete)

        def nll(lam, x=x, discrete=discrete):
            if discrete:  # geometric on k = x - 5
                return -np.sum(stats.geom.logpmf(x - 4.0, -np.expm1(-lam)))
            return -np.sum(stats.expon.logpdf(x, loc=5.0, scale=1 / lam))

        slow = optimize.minimize_scalar(
            nll, bounds=(1e-4, 10), method="bounded", options={"xatol": 1e-12}
        ).x
        assert ok
        assert params["lambda"] == pytest.approx(slow, rel=1e-6)
        assert np.sum(cnt * ll) == pytest.approx(-nll(params["lambda"]), rel=1e-10)


def test_lognormal_likelihoods_match_scipy():
    rng = np.random.default_rng(4)
    x = np.exp(rng.normal(1.5, 0.8, 2000))
    x = x[x >= 2.0]
    d = stats.lognorm(s=0.8, scale=np.exp(1.5))
    ref = d.logpdf(x) - d.logsf(2.0)
    np.testing.assert_allclose(_lognormal_loglik(1.5, 0.8, x, 2.0, None, False), ref, rtol=1e-10)
    ref_t = d.logpdf(x[x <= 30]) - np.log(d.cdf(30.0) - d.cdf(2.0))
    got_t = _lognormal_loglik(1.5, 0.8, x[x <= 30], 2.0, 30.0, False)
    np.testing.assert_allclose(got_t, ref_t, rtol=1e-10)
    k = np.arange(2.0, 20_000.0)
    pmf = np.exp(_lognormal_loglik(1.5, 0.8, k, 2.0, None, True))
    ref_pmf = (d.sf(k - 0.5) - d.sf(k + 0.5)) / d.sf(1.5)  # sf: no cancellation
    np.testing.assert_allclose(pmf[:200], ref_pmf[:200], rtol=1e-9)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    # MLE against a direct optimisation of scipy's truncated log-likelihood
    vals, cnt = np.unique(x, return_counts=True)
    params, _, ok = _fit_lognormal(vals, cnt.astype(float), 2.0, None, False)

    def nll(th):
        dd = stats.lognorm(s=np.exp(th[1]), scale=np.exp(th[0]))
        return -np.sum(dd.logpdf(x) - dd.logsf(2.0))

    slow = optimize.minimize(
        nll, [1.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12}
    ).x
    assert ok
    assert params["mu"] == pytest.approx(slow[0], abs=1e-5)
    assert params["sigma"] == pytest.approx(np.exp(slow[1]), rel=1e-5)


@pytest.mark.parametrize(
    ("a", "lam", "xmin", "xmax"),
    [(1.5, 1e-3, 1.0, None), (0.7, 0.02, 2.0, None), (2.2, 1e-4, 5.0, 40_000.0)],
)
def test_truncated_power_law_normalisation_matches_brute_force(a, lam, xmin, xmax):
    top = 4e6 if xmax is None else xmax
    k = np.arange(xmin, top + 1)
    brute = np.log(np.sum(k**-a * np.exp(-lam * k)))
    assert _tpl_log_norm(a, lam, xmin, xmax, True) == pytest.approx(brute, abs=1e-9)
    cont = integrate.quad(
        lambda t: t**-a * np.exp(-lam * t), xmin, np.inf if xmax is None else xmax, limit=400
    )[0]
    assert _tpl_log_norm(a, lam, xmin, xmax, False) == pytest.approx(np.log(cont), abs=1e-8)


@pytest.mark.slow
def test_lognormal_fit_on_power_law_like_tail_reaches_the_slow_optimum():
    """On critical branching sizes the lognormal MLE lies far out (mu ~ -100, sigma ~ 15):
    the fast (slope, curvature) search must reach the optimum that a long Nelder-Mead in
    the plain (mu, log sigma) coordinates finds, and say it converged."""
    from scipy import optimize

    from crackle.sim import branching_process
    from crackle.stats import _powerlaw_alternatives as alt

    av = branching_process(1.0, 300_000, seed=1)
    fit = fit_power_law(av.sizes, discrete=True)
    comp = fit.compare("lognormal")
    assert comp.converged
    tail = av.sizes[av.sizes >= fit.xmin]
    vals, wts = np.unique(tail, return_counts=True)

    def nll(th):
        with np.errstate(all="ignore"):
            ll = alt._lognormal_loglik(th[0], np.exp(th[1]), vals, fit.xmin, None, True)
        v = -float(np.sum(wts * ll))
        return v if np.isfinite(v) else np.inf

    slow = optimize.minimize(
        nll,
        [comp.params["mu"] + 5.0, np.log(comp.params["sigma"]) - 0.2],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxfev": 40_000, "maxiter": 40_000},
    )
    fast = nll([comp.params["mu"], np.log(comp.params["sigma"])])
    # Equal within the evaluation's own noise (a sum of 1e5 log-CDF differences is good
    # to ~1e-11 relative); a worse optimum would show up as 1e-3 or more.
    assert fast <= slow.fun + 1e-10 * abs(slow.fun)
