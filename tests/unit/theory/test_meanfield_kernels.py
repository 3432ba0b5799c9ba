"""Every fast kernel of crackle.theory against a slow, obvious twin written here.

Twins: scipy.integrate.quad for Gaussian expectations, plain iteration of the length
map for q*, a numerical derivative of q* for chi_w and chi_b, dblquad for the
correlation map, and brute-force grid search for the Widom peak.
"""

import numpy as np
import pytest
from scipy import integrate, optimize

from crackle.theory import meanfield as mf
from crackle.theory._activations import ACTIVATIONS
from crackle.theory._quadrature import hermite_coefficients, moments

SQ2PI = np.sqrt(2 * np.pi)


def quad_gauss(f, q):
    """E[f(sqrt(q) z)] by adaptive quadrature in u, with breaks at the kinks 0, +-1."""
    s = np.sqrt(q)
    pts = [p for p in (-1.0, 0.0, 1.0) if abs(p) < 12 * s]
    val, _ = integrate.quad(
        lambda u: f(u) * np.exp(-0.5 * (u / s) ** 2) / (s * SQ2PI),
        -12 * s,
        12 * s,
        points=pts,
        epsabs=1e-15,
        epsrel=1e-13,
        limit=500,
    )
    return val


@pytest.mark.parametrize("name", ["tanh", "erf", "relu", "hard_tanh", "linear", "selu", "gelu"])
@pytest.mark.parametrize("q", [1e-6, 0.3, 2.0, 30.0, 1e3])
def test_moments_match_quad(name, q):
    act = ACTIVATIONS[name]
    m = moments(act, np.array([q]))
    assert m.v[0] == pytest.approx(quad_gauss(lambda u: act.phi(u) ** 2, q), rel=1e-11, abs=1e-15)
    assert m.d[0] == pytest.approx(quad_gauss(lambda u: act.d1(u) ** 2, q), rel=1e-11, abs=1e-15)


@pytest.mark.parametrize("name", ["tanh", "erf", "hard_tanh", "selu", "gelu"])
@pytest.mark.parametrize("q", [0.05, 1.0, 8.0])
def test_dv_is_the_derivative_of_v(name, q):
    # dV/dq (Gaussian integration by parts, plus the kink terms) against a finite
    # difference of V itself.
    act = ACTIVATIONS[name]
    h = 1e-5 * q
    vp, vm = (moments(act, np.array([x])).v[0] for x in (q + h, q - h))
    assert moments(act, np.array([q])).dv[0] == pytest.approx((vp - vm) / (2 * h), rel=1e-7)


def test_plain_gauss_hermite_is_not_enough_for_large_q():
    # The reason for the composite rule: 201-node Gauss-Hermite at q = 10.
    x, w = np.polynomial.hermite_e.hermegauss(201)
    w = w / w.sum()
    q = 10.0
    gh = float(np.sum(w * np.tanh(np.sqrt(q) * x) ** 2))
    ref = quad_gauss(lambda u: np.tanh(u) ** 2, q)
    assert abs(gh - ref) > 1e-6
    assert moments(ACTIVATIONS["tanh"], np.array([q])).v[0] == pytest.approx(ref, rel=1e-13)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("name", ["tanh", "hard_tanh", "relu"])
def test_hermite_coefficients_match_quad(name):
    act = ACTIVATIONS[name]
    q = np.array([0.4, 3.0])
    a = hermite_coefficients(act, q, 12)
    for i, qq in enumerate(q):
        for k in (1, 2, 3, 7, 11):
            he = np.polynomial.hermite_e.HermiteE.basis(k)
            ref = quad_gauss(lambda u, he=he, qq=qq: act.phi(u) * he(u / np.sqrt(qq)), qq)
            ref /= np.sqrt(float(np.prod(np.arange(1, k + 1))))
            assert a[i, k] == pytest.approx(ref, abs=1e-12)


def iterate_q(sw, sb, act="tanh", q0=1.0, n=20000):
    phi = ACTIVATIONS[act].phi
    q = q0
    for _ in range(n):
        q = sw * quad_gauss(lambda u: phi(u) ** 2, q) + sb
    return q


@pytest.mark.parametrize(("sw", "sb"), [(1.5, 0.05), (3.0, 0.3), (0.7, 0.5), (4.0, 0.0)])
def test_q_star_matches_plain_iteration(sw, sb):
    ref = iterate_q(sw, sb, n=300)
    assert mf.fixed_point(sw, sb).q_star == pytest.approx(ref, rel=1e-12)


def test_q_star_fast_where_iteration_is_hopeless():
    # Near the critical point the map contracts by chi_q ~ 1 - 1e-4 per step: plain
    # iteration would need ~1e5 steps; brentq on quad is the slow twin here.
    sw, sb = 1.0, 1e-8
    f = lambda q: sw * quad_gauss(lambda u: np.tanh(u) ** 2, q) + sb - q  # noqa: E731
    ref = optimize.brentq(f, 1e-12, 1.0, xtol=1e-18, rtol=1e-14)
    p = mf.fixed_point(sw, sb)
    assert p.q_star == pytest.approx(ref, rel=1e-9)
    assert p.chi_q > 0.999


@pytest.mark.parametrize(("sw", "sb"), [(1.5, 0.05), (2.5, 0.5)])
def test_susceptibilities_match_numerical_derivatives_of_q_star(sw, sb):
    h = 1e-5
    p = mf.fixed_point(sw, sb)
    dw = (mf.fixed_point(sw + h, sb).q_star - mf.fixed_point(sw - h, sb).q_star) / (2 * h)
    db = (mf.fixed_point(sw, sb + h).q_star - mf.fixed_point(sw, sb - h).q_star) / (2 * h)
    assert p.chi_w == pytest.approx(dw, rel=1e-7)
    assert p.chi_b == pytest.approx(db, rel=1e-7)
    strength = (
        np.sqrt(mf.fixed_point(sw + h, sb).q_star) - np.sqrt(mf.fixed_point(sw - h, sb).q_star)
    ) / (2 * h)
    assert p.chi_w_strength == pytest.approx(strength, rel=1e-7)


def correlation_map(c, q, sw, sb):
    s = np.sqrt(1 - c * c)
    sq = np.sqrt(q)
    val, _ = integrate.dblquad(
        lambda z2, z1: (
            np.tanh(sq * z1)
            * np.tanh(sq * (c * z1 + s * z2))
            * np.exp(-0.5 * (z1 * z1 + z2 * z2))
            / (2 * np.pi)
        ),
        -10,
        10,
        -10,
        10,
        epsabs=1e-13,
        epsrel=1e-12,
    )
    return (sw * val + sb) / q


def test_c_star_matches_dblquad():
    sw, sb = 2.5, 0.1
    p = mf.fixed_point(sw, sb)
    assert p.chi_1 > 1
    assert correlation_map(p.c_star, p.q_star, sw, sb) == pytest.approx(p.c_star, abs=1e-10)
    # chi_c is the slope of the map at c*: central difference of the dblquad map.
    h = 1e-4
    slope = (
        correlation_map(p.c_star + h, p.q_star, sw, sb)
        - correlation_map(p.c_star - h, p.q_star, sw, sb)
    ) / (2 * h)
    assert p.chi_c == pytest.approx(slope, rel=1e-6)


def test_widom_peak_matches_brute_force_scan():
    sb = 0.1
    w = mf.widom_line(sb)
    sw = np.linspace(w.sigma_w2 - 0.05, w.sigma_w2 + 0.05, 201)
    ds = mf.phase_diagram(sw, [sb])
    strength = ds.chi_w_strength.values[:, 0]
    i = int(np.argmax(strength))
    assert 0 < i < sw.size - 1
    assert w.sigma_w2 == pytest.approx(sw[i], abs=1e-3)
    assert w.peak == pytest.approx(strength.max(), rel=1e-6)
    assert w.peak >= strength.max() - 1e-12


def test_phase_diagram_equals_pointwise_evaluation():
    sw, sb = np.array([0.5, 1.0, 1.7, 3.2]), np.array([0.0, 0.02, 0.9])
    ds = mf.phase_diagram(sw, sb)
    for i, w in enumerate(sw):
        for j, b in enumerate(sb):
            p = mf.fixed_point(float(w), float(b))
            for name in ("q_star", "chi_1", "chi_q", "c_star", "xi_c", "chi_b"):
                np.testing.assert_allclose(ds[name].values[i, j], getattr(p, name), rtol=1e-12)
