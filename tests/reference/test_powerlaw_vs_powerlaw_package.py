"""crackle.stats.fit_power_law against the ``powerlaw`` package 2.0.0 on the same data.

Source of every expected value: ``powerlaw.Fit`` (Alstott et al. 2014) run in this test
on the same seeded data. To compare like with like, crackle is called with
``ks="left"`` (powerlaw 2.0 compares P(X < v) at the distinct tail values) and
``min_tail=2`` (powerlaw scans every distinct value but the largest), and powerlaw with
``estimate_discrete=False`` (its exact zeta likelihood, fitted by Nelder-Mead,
tolerance 1e-4, instead of the xmin - 1/2 approximation). powerlaw also drops
candidates whose alpha is not in (0, 3); the data here keep the minimum far from that.
"""

import warnings

import numpy as np
import pytest

from crackle.stats import fit_power_law, sample_power_law

powerlaw = pytest.importorskip("powerlaw")
# powerlaw fits its distributions lazily and warns when lambda sits near 0 (our data).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _mixture(alpha, xmin, n, discrete, seed):
    rng = np.random.default_rng(seed + 500)
    tail = sample_power_law(alpha, xmin, int(0.7 * n), discrete=discrete, seed=seed)
    m = n - tail.size
    low = rng.integers(1, xmin, m) if discrete else rng.uniform(1.0, xmin, m)
    return np.concatenate([tail, np.asarray(low, dtype=float)])


def _pl_fit(x, discrete, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return powerlaw.Fit(x, discrete=discrete, estimate_discrete=False, verbose=0, **kw)


CASES = [(d, a) for d in (False, True) for a in (1.5, 2.0, 2.5)]


@pytest.mark.parametrize(("discrete", "alpha"), CASES)
def test_same_xmin_and_alpha(discrete, alpha):
    x = _mixture(alpha, 5, 2000, discrete, seed=int(alpha * 10) + discrete)
    ref = _pl_fit(x, discrete)
    got = fit_power_law(x, discrete=discrete, ks="left", min_tail=2)
    assert got.xmin == ref.xmin
    assert got.exponent == pytest.approx(ref.power_law.alpha, abs=0.005)
    assert got.ks == pytest.approx(ref.D, abs=1e-4)
    assert got.n_tail == ref.n_tail


def test_same_xmin_where_the_ks_minimum_is_far_from_the_truth():
    # 20 000 continuous values, power law above 20: both pick xmin = 52.19, not 20.
    rng = np.random.default_rng(1020)
    tail = sample_power_law(2.0, 20, 14_000, seed=20)
    x = np.concatenate([tail, rng.uniform(1.0, 20.0, 6000)])
    ref = _pl_fit(x, False, xmin=(15.0, 70.0))
    got = fit_power_law(x, xmin=(15.0, 70.0), ks="left", min_tail=2)
    assert got.xmin == ref.xmin
    assert got.exponent == pytest.approx(ref.power_law.alpha, abs=1e-9)


@pytest.mark.parametrize("discrete", [False, True])
def test_lognormal_comparison_on_lognormal_data(discrete):
    rng = np.random.default_rng(7 + discrete)
    x = np.exp(rng.normal(2.0, 1.0, 3000))
    x = np.ceil(x) if discrete else x
    ref = _pl_fit(x, discrete, xmin=5.0)
    r_ref, p_ref = ref.distribution_compare("power_law", "lognormal", normalized_ratio=True)
    got = fit_power_law(x, discrete=discrete, xmin=5.0)
    r, p = got.compare("lognormal")
    assert got.exponent == pytest.approx(ref.power_law.alpha, abs=0.005)
    assert r == pytest.approx(r_ref, abs=0.01)
    assert p == pytest.approx(p_ref, abs=1e-3)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 2.5])
def test_exponential_comparison_continuous(alpha):
    x = _mixture(alpha, 5, 2000, False, seed=int(alpha * 10))
    ref = _pl_fit(x, False)
    r_ref, p_ref = ref.distribution_compare("power_law", "exponential", normalized_ratio=True)
    r, p = fit_power_law(x, xmin=ref.xmin).compare("exponential")
    # powerlaw fits lambda by Nelder-Mead (tol 1e-4); crackle uses the closed form.
    assert r == pytest.approx(r_ref, rel=1e-3)
    assert p == pytest.approx(p_ref, rel=0.05, abs=1e-12)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 2.5])
def test_exponential_comparison_discrete_is_at_least_as_likely(alpha):
    # powerlaw's discrete exponential is not its exact MLE: its Nelder-Mead stops at
    # tol 1e-4, and it floors each likelihood at 1e-307, so a far-tail value whose
    # exp(-lambda x) underflows costs log(1e-307) instead of -lambda x (alpha = 1.5:
    # lambda 3.8e-4 vs the exact 1.4e-4). Judged by the exact geometric likelihood,
    # crackle's closed-form lambda must do at least as well as powerlaw's.
    x = _mixture(alpha, 5, 2000, True, seed=int(alpha * 10) + 1)
    ref = _pl_fit(x, True)
    tail = x[x >= ref.xmin]

    def exact_ll(lam):
        return np.sum(np.log(-np.expm1(-lam)) - lam * (tail - ref.xmin))

    got = fit_power_law(x, discrete=True, xmin=ref.xmin).compare("exponential")
    assert exact_ll(got.params["lambda"]) >= exact_ll(ref.exponential.Lambda) - 1e-9
    assert got.params["lambda"] == pytest.approx(np.log1p(1 / np.mean(tail - ref.xmin)))
    assert got.R > 0
    assert got.p < 0.01


@pytest.mark.parametrize("discrete", [False, True])
def test_truncated_power_law_p_value(discrete):
    x = _mixture(2.0, 5, 2000, discrete, seed=20 + discrete)
    ref = _pl_fit(x, discrete)
    r_ref, p_ref = ref.distribution_compare(
        "power_law", "truncated_power_law", normalized_ratio=True
    )
    res = fit_power_law(x, discrete=discrete, xmin=ref.xmin).compare("truncated_power_law")
    assert res.nested
    assert res.p == pytest.approx(p_ref, abs=0.01)
    assert pytest.approx(r_ref, abs=0.02) == res.R
