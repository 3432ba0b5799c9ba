"""Fano factor, Shew's kappa, susceptibility and the surrogates, against their
definitions (Shew et al. 2009, J. Neurosci.; Williams-Garcia et al. 2014, Phys. Rev. E)
written out as slow loops, and against exact laws (Poisson: Fano factor 1)."""

import numpy as np
import pytest

import crackle as ck
from crackle.events.spikes import Spikes
from crackle.events.surrogates import isi_shuffle, poisson_surrogate, shuffle_counts
from crackle.stats.neural import fano_factor, shew_kappa, susceptibility


def slow_kappa(sizes, exponent=1.5, n_points=10):
    s = np.asarray(sizes, float)
    lo, hi = int(s.min()), int(s.max())
    grid = np.arange(lo, hi + 1)
    w = grid.astype(float) ** -exponent
    total = 0.0
    for beta in np.geomspace(lo, hi, n_points):
        f_ref = w[grid <= beta + 1e-9].sum() / w.sum()
        f_data = np.mean(s <= beta)
        total += f_ref - f_data
    return 1 + total / n_points


def test_kappa_matches_slow_twin_and_reads_the_exponent():
    for a, seed in ((1.5, 0), (2.2, 1), (1.2, 2)):
        s = ck.sample_power_law(a, 1, 5000, discrete=True, xmax=2000, seed=seed)
        assert shew_kappa(s) == pytest.approx(slow_kappa(s), abs=1e-12)
    crit = ck.sample_power_law(1.5, 1, 50_000, discrete=True, xmax=5000, seed=3)
    sub = ck.sample_power_law(2.5, 1, 50_000, discrete=True, xmax=5000, seed=3)
    sup = ck.sample_power_law(1.1, 1, 50_000, discrete=True, xmax=5000, seed=3)
    assert abs(shew_kappa(crit) - 1) < 0.03
    assert shew_kappa(sub) < 0.9
    assert shew_kappa(sup) > 1.1


def test_fano_factor_and_susceptibility():
    rng = np.random.default_rng(0)
    x = rng.poisson(4.0, (3, 200_000))
    np.testing.assert_allclose(fano_factor(x), 1.0, atol=0.02)  # Poisson: exactly 1
    y = np.array([0.0, 2, 4, 2])
    assert fano_factor(y) == pytest.approx(np.var(y) / np.mean(y))
    assert susceptibility(y, n_units=4) == pytest.approx(np.var(y / 4) * 4)
    assert np.isnan(fano_factor(np.zeros((2, 5)))).all()


def test_surrogates_keep_what_they_promise():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 100, 3000))
    u = rng.integers(0, 6, t.size)
    sp = Spikes.from_arrays(t, u, t_stop=100.0)
    isi = isi_shuffle(sp, seed=2)
    assert isi.n_spikes == sp.n_spikes
    for code in range(sp.n_units):
        a, b = sp.unit_times(code), isi.unit_times(code)
        assert b[0] == a[0]
        np.testing.assert_allclose(np.sort(np.diff(b)), np.sort(np.diff(a)), atol=1e-9)
        assert not np.allclose(np.diff(b), np.diff(a))
    rates = np.mean([poisson_surrogate(sp, seed=s).spike_counts for s in range(40)], axis=0)
    np.testing.assert_allclose(rates, sp.spike_counts, rtol=0.05)
    c = np.arange(50.0)
    s = shuffle_counts(c, seed=0)
    np.testing.assert_array_equal(np.sort(s), c)
    assert not np.array_equal(s, c)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: shew_kappa([1.0, 0.0, 3.0]), "sizes"),
        (lambda: shew_kappa([2.0, 2.0]), "sizes"),
        (lambda: fano_factor([-1.0, 2.0]), "counts"),
        (lambda: susceptibility([1.0, np.nan]), "counts"),
        (lambda: isi_shuffle(np.ones(3)), "spikes"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ck.CrackleValueError, match=f"The '{name}' parameter"):
        call()
