"""DFA and PSD slope against slow twins and signals of known exponent."""

import json

import numpy as np
import pytest
from scipy.signal import lfilter

import crackle as ck
from crackle.stats.correlations import default_scales, log_binned
from crackle.stats.mixture import fit_mixture_spectrum, mixture_spectrum


def slow_fluctuation(x, n, order=1):
    """F(n) with one polyfit per window, windows from the start and from the end."""
    y = np.cumsum(x - np.mean(x))
    w = len(y) // n
    t = np.arange(n)
    res = []
    for start in [i * n for i in range(w)] + [len(y) - (i + 1) * n for i in range(w)]:
        seg = y[start : start + n]
        coef = np.polyfit(t, seg, order)
        res.append(np.mean((seg - np.polyval(coef, t)) ** 2))
    return np.sqrt(np.mean(res))


@pytest.mark.parametrize("order", [1, 2])
def test_dfa_matches_slow_twin(order):
    x = np.random.default_rng(0).normal(size=2503).cumsum() * 0.1 + 5.0
    scales = [7, 13, 40, 101, 250]
    res = ck.dfa(x, scales=scales, order=order)
    want = [slow_fluctuation(x, n, order) for n in scales]
    np.testing.assert_allclose(res.fluctuation, want, rtol=1e-9)
    slope, intercept = np.polyfit(np.log(scales), np.log(want), 1)
    assert res.exponent == pytest.approx(slope, rel=1e-9)
    assert res.intercept == pytest.approx(intercept, rel=1e-9)


def test_dfa_white_noise_and_random_walk():
    x = np.random.default_rng(1).normal(size=100_000)
    white, walk = ck.dfa(x), ck.dfa(np.cumsum(x))
    assert abs(white.exponent - 0.5) < 0.03
    assert abs(walk.exponent - 1.5) < 0.03
    np.testing.assert_array_equal(white.scales, default_scales(100_000))
    assert white.scales[0] == 10
    assert white.scales[-1] == 10_000
    d = json.loads(json.dumps(white.to_dict(), allow_nan=False))
    assert len(d["scales"]) == len(d["fluctuation"])
    white.plot()


def test_dfa_same_as_mfdfa_package():
    mfdfa = pytest.importorskip("MFDFA")
    x = np.random.default_rng(2).normal(size=20_000).cumsum()
    res = ck.dfa(x)
    lag, f = mfdfa.MFDFA(x, res.scales, q=2, order=1)
    np.testing.assert_array_equal(lag, res.scales)
    np.testing.assert_allclose(res.fluctuation, f[:, 0], rtol=1e-9)


def test_log_binned_matches_slow_twin():
    rng = np.random.default_rng(3)
    f = np.linspace(0, 0.5, 1001)
    s = rng.lognormal(size=f.size)
    bf, bs = log_binned(f, s, (0.003, 0.4), 12)
    edges = np.linspace(np.log10(0.003), np.log10(0.4), 13)
    want_f, want_s = [], []
    for j in range(12):
        lo, hi = edges[j], edges[j + 1]
        in_band = [i for i in range(f.size) if f[i] > 0 and 0.003 <= f[i] <= 0.4]
        # Half-open bins, the last one closed on the right.
        inside = [i for i in in_band if lo <= np.log10(f[i]) < hi or (j == 11 and f[i] == 0.4)]
        if inside:
            want_f.append(10 ** np.mean(np.log10(f[inside])))
            want_s.append(10 ** np.mean(np.log10(s[inside])))
    np.testing.assert_allclose(bf, want_f, rtol=1e-12)
    np.testing.assert_allclose(bs, want_s, rtol=1e-12)


def test_psd_slope_white_noise_and_random_walk():
    x = np.random.default_rng(4).normal(size=2**17)
    white, walk = ck.psd_slope(x), ck.psd_slope(np.cumsum(x))
    assert abs(white.beta) < 0.05
    assert abs(walk.beta - 2.0) < 0.1
    assert white.nperseg == 2**14
    assert white.band == (4 / 2**14, 0.25)
    json.dumps(white.to_dict(), allow_nan=False)
    white.plot()


@pytest.mark.parametrize("phi", [0.5, 0.9, 0.99])
def test_psd_of_ar1_matches_its_lorentzian(phi):
    # x_t = phi x_{t-1} + e_t, Var e = 1: one-sided density 2 / |1 - phi e^{-2 pi i f}|^2.
    rng = np.random.default_rng(5)
    x = lfilter([1.0], [1.0, -phi], rng.normal(size=2**18))[1000:]
    band = (1e-3, 0.2)
    res = ck.psd_slope(x, band=band, nperseg=2**13)
    f = res.freqs[1:-1]
    exact = 2.0 / np.abs(1 - phi * np.exp(-2j * np.pi * f)) ** 2
    ratio = res.psd[1:-1] / exact
    assert abs(np.mean(ratio) - 1) < 0.02  # unbiased on average
    lorentz = 2.0 / np.abs(1 - phi * np.exp(-2j * np.pi * res.freqs)) ** 2
    bf, bs = log_binned(res.freqs, lorentz, band, 20)
    beta_exact = -np.polyfit(np.log10(bf), np.log10(bs), 1)[0]
    assert abs(res.beta - beta_exact) < 3 * res.stderr + 0.02


def test_dfa_and_psd_agree_on_one_over_f_noise():
    # 1/f noise by spectral shaping: H = (1 + beta) / 2 = 1.
    rng = np.random.default_rng(6)
    n = 2**17
    f = np.fft.rfftfreq(n)
    amp = np.zeros_like(f)
    amp[1:] = f[1:] ** -0.5
    x = np.fft.irfft(amp * (rng.normal(size=f.size) + 1j * rng.normal(size=f.size)), n)
    beta = ck.psd_slope(x).beta
    h = ck.dfa(x).exponent
    assert abs(beta - 1.0) < 0.1
    assert abs(h - (1 + beta) / 2) < 0.05


def test_mixture_spectrum_fit_recovers_parameters():
    f = np.geomspace(1e-4, 0.5, 400)
    for a, b in [(5.0, 2.0), (1.5, 1.6), (20.0, 2.5)]:
        fit = fit_mixture_spectrum(f, 7.0 * mixture_spectrum(f, a, b) + 30.0, white_noise=True)
        assert fit.success
        assert fit.a == pytest.approx(a, rel=1e-4)
        assert fit.b == pytest.approx(b, rel=1e-4)
        assert fit.white == pytest.approx(30.0, rel=1e-3)
    json.dumps(fit.to_dict(), allow_nan=False)
    fit.plot()


def test_mixture_spectrum_is_the_mean_of_lorentzians():
    # Slow twin: adaptive quadrature over m of Beta(a, b) pdf / ((1 - m)(1 - 2 m cos w + m^2)).
    from scipy.integrate import quad
    from scipy.stats import beta

    for a, b in [(3.0, 2.5), (5.0, 2.0)]:
        for f in [0.003, 0.05, 0.4]:
            w = 2 * np.pi * f

            def integrand(m, a=a, b=b, w=w):
                return beta.pdf(m, a, b) / ((1 - m) * (1 - 2 * m * np.cos(w) + m * m))

            want = sum(
                quad(integrand, lo, hi, limit=200, epsabs=0, epsrel=1e-10)[0]
                for lo, hi in [(0, 0.9), (0.9, 0.99), (0.99, 0.999), (0.999, 1 - 1e-7)]
            )
            assert mixture_spectrum([f], a, b)[0] == pytest.approx(want, rel=1e-4)


@pytest.mark.parametrize(
    "x",
    [
        np.full(400, 8.98846567e305),  # a constant whose sum overflows
        np.full(400, np.finfo(float).max),  # log2 of it rounds up to 1024
        np.r_[1.27e308, np.zeros(399)],  # a spread whose power of two overflows
        np.random.default_rng(0).normal(size=4000) * 1e307,  # differences overflow
    ],
    ids=["constant", "max", "spike", "wide"],
)
def test_values_near_the_float64_limit_give_a_result_or_a_clear_error(x):
    # No overflow inside: every outcome is a finite result or a CrackleValueError.
    for f in (ck.dfa, ck.psd_slope):
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            try:
                res = f(x)
            except ck.CrackleValueError:
                continue
        assert np.isfinite(res.exponent if f is ck.dfa else res.beta)


def test_the_exponents_do_not_depend_on_the_scale():
    x = np.random.default_rng(1).normal(size=20_000)
    walk = np.cumsum(x)
    for scale in (1e-150, 1.0, 1e150):
        assert ck.dfa(walk * scale).exponent == pytest.approx(ck.dfa(walk).exponent, rel=1e-12)
        assert ck.psd_slope(x * scale).beta == pytest.approx(ck.psd_slope(x).beta, rel=1e-12)
