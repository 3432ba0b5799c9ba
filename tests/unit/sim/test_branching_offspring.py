"""Exact laws of the Galton-Watson process, for Poisson and geometric offspring.

Sources of the expected values (all exact): the offspring laws themselves; the
survival probability P(T > t) = 1 - f_t(0), f_t the t-th iterate of the offspring
generating function, and Kolmogorov's estimate P(T > t) ~ 2 / (Var t) at m = 1
(Harris 1963, ch. I; Athreya & Ney 1972, ch. I.9), exactly 1 / (t + 1) for geometric
offspring at m = 1 (linear fractional generating function); the total progeny, Borel
for Poisson offspring (P(S = s) = exp(-m s) (m s)^(s - 1) / s!) and
C_(s-1) p^s (1 - p)^(s - 1) for geometric offspring (Dwass 1969, hitting-time
theorem; C the Catalan numbers). Tolerances: 4 binomial or sample standard errors.
"""

import numpy as np
import pytest
from scipy.special import gammaln

from crackle.sim import branching_process

LAWS = ("poisson", "geometric")


def offspring_sample(m, offspring, n, seed):
    """The first generation's offspring counts: with max_duration = 2 an avalanche
    whose root had k > 0 children is censored with size 1 + k."""
    av = branching_process(m, n, max_duration=2, offspring=offspring, seed=seed)
    k = np.concatenate([np.zeros(av.n), av.censored_sizes - 1])
    assert k.size == n
    return k


def offspring_pmf(m, offspring, k):
    k = np.asarray(k, dtype=float)
    if offspring == "poisson":
        return np.exp(-m + k * np.log(m) - gammaln(k + 1))
    p = 1.0 / (1.0 + m)
    return p * (1 - p) ** k


def generating_function(m, offspring):
    if offspring == "poisson":
        return lambda s: np.exp(m * (s - 1.0))
    p = 1.0 / (1.0 + m)
    return lambda s: p / (1.0 - (1.0 - p) * s)


def survival_exact(m, offspring, t_max):
    """P(T > t) for t = 0..t_max: one minus the iterated generating function at 0."""
    f = generating_function(m, offspring)
    q, out = 0.0, [1.0]
    for _ in range(t_max):
        q = f(q)
        out.append(1.0 - q)
    return np.array(out)


def progeny_pmf(m, offspring, s):
    s = np.asarray(s, dtype=float)
    if offspring == "poisson":  # Borel
        return np.exp(-m * s + (s - 1) * np.log(m * s) - gammaln(s + 1))
    p = 1.0 / (1.0 + m)  # Catalan: C_(s-1) = (2s-2)! / ((s-1)! s!)
    log_c = gammaln(2 * s - 1) - gammaln(s) - gammaln(s + 1)
    return np.exp(log_c + s * np.log(p) + (s - 1) * np.log(1 - p))


def test_default_offspring_is_poisson():
    a = branching_process(1.0, 5000, seed=3)
    b = branching_process(1.0, 5000, offspring="poisson", seed=3)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    np.testing.assert_array_equal(a.shapes.sums, b.shapes.sums)
    assert a.info["offspring"] == "poisson"


def test_geometric_same_seed_same_avalanches():
    a = branching_process(1.0, 5000, offspring="geometric", seed=3)
    b = branching_process(1.0, 5000, offspring="geometric", seed=3)
    np.testing.assert_array_equal(a.sizes, b.sizes)
    np.testing.assert_array_equal(a.durations, b.durations)
    assert a.info["offspring"] == "geometric"
    assert not np.array_equal(a.sizes, branching_process(1.0, 5000, seed=3).sizes)


@pytest.mark.parametrize("offspring", LAWS)
@pytest.mark.parametrize("m", [0.5, 1.0, 2.0])
def test_offspring_mean_variance_and_law(m, offspring):
    n = 200_000
    k = offspring_sample(m, offspring, n, seed=11)
    var = m if offspring == "poisson" else m * (1 + m)
    assert abs(k.mean() - m) < 4 * np.sqrt(var / n)
    se_var = np.sqrt(np.var((k - k.mean()) ** 2) / n)
    assert abs(k.var() - var) < 4 * se_var
    ks = np.arange(6)
    p = offspring_pmf(m, offspring, ks)
    freq = np.array([np.mean(k == j) for j in ks])
    np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / n))


def test_m_zero_geometric_is_single_units():
    av = branching_process(0.0, 100, offspring="geometric", seed=0)
    assert av.sizes.tolist() == [1.0] * 100


def test_survival_twin_matches_closed_form_and_kolmogorov():
    # The iterated generating function, checked where a closed form exists ...
    t = np.arange(0, 2001)
    np.testing.assert_allclose(survival_exact(1.0, "geometric", 2000), 1 / (t + 1), rtol=1e-9)
    # ... and its approach to Kolmogorov's 2 / (Var t) for Poisson offspring (Var = 1).
    s = survival_exact(1.0, "poisson", 100_000)
    ratio = s[[1000, 10_000, 100_000]] * np.array([1000, 10_000, 100_000]) / 2
    assert np.all(np.diff(np.abs(ratio - 1)) < 0)
    assert abs(ratio[-1] - 1) < 1e-3


@pytest.mark.parametrize(("offspring", "var"), [("poisson", 1.0), ("geometric", 2.0)])
def test_critical_survival_law(offspring, var):
    n = 200_000
    av = branching_process(1.0, n, offspring=offspring, seed=5, max_shape_duration=None)
    # Censored avalanches were alive at max_duration: they count as T > t for every t here.
    durations = np.concatenate([av.durations, av.censored_durations])
    ts = np.array([1, 2, 5, 10, 20, 50, 100, 200, 500])
    emp = np.array([np.mean(durations > t) for t in ts])
    exact = survival_exact(1.0, offspring, int(ts.max()))[ts]
    se = np.sqrt(exact * (1 - exact) / n)
    np.testing.assert_array_less(np.abs(emp - exact), 4 * se)
    # Kolmogorov: t Var P(T > t) / 2 -> 1; at finite t the exact law's own distance
    # from the asymptote is allowed, nothing more.
    kolmogorov = 2.0 / (var * ts)
    big = ts >= 100
    allowed = 4 * se[big] / kolmogorov[big] + np.abs(exact[big] / kolmogorov[big] - 1)
    np.testing.assert_array_less(np.abs(emp[big] / kolmogorov[big] - 1), allowed)
    assert np.all(np.abs(exact[big] / kolmogorov[big] - 1) < 0.05)


@pytest.mark.parametrize("offspring", LAWS)
@pytest.mark.parametrize("m", [0.5, 1.0])
def test_total_progeny_law(m, offspring):
    n = 200_000
    av = branching_process(m, n, offspring=offspring, seed=9, max_shape_duration=None)
    s = np.arange(1, 21)
    p = progeny_pmf(m, offspring, s)
    # The law sums to one over s >= 1 for m <= 1 (extinction is certain).
    assert abs(progeny_pmf(m, offspring, np.arange(1, 200_001)).sum() - 1) < 5e-3
    freq = np.array([np.sum(av.sizes == v) for v in s]) / n
    np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / n))


def test_supercritical_censoring_is_survival():
    # An avalanche is censored when generation max_duration - 1 is still active:
    # P = 1 - f_(max_duration - 1)(0), close to the survival probability 1 - 1/m of
    # geometric offspring.
    n, md = 20_000, 1000
    for offspring in LAWS:
        av = branching_process(1.05, n, offspring=offspring, max_duration=md, seed=1)
        p = survival_exact(1.05, offspring, md - 1)[-1]
        assert abs(av.n_censored / n - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert abs(survival_exact(1.05, "geometric", 999)[-1] - (1 - 1 / 1.05)) < 1e-9


def test_bad_offspring():
    with pytest.raises(ValueError, match="'offspring'"):
        branching_process(1.0, 10, offspring="binomial")
    with pytest.raises(ValueError, match="'offspring'"):
        branching_process(1.0, 10, offspring=None)
