"""The two readings of the Widom line: ridges of d sqrt(q*)/d sigma_w^2 and of
d sqrt(q*)/d sigma_w (Ghavasieh et al. 2025, arXiv 2509.22649, Methods 0.10; the
derivative variable of their Eq. 9 is lost in the surviving text)."""

import math

import numpy as np
import pytest

from crackle import CrackleValueError
from crackle.theory import meanfield as mf

KINDS = ("strength", "strength_sigma_w")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("activation", "critical"),
    # Exact: with sigma_b = 0 and phi(0) = 0 the transition sits at
    # sigma_w^2 = 1 / phi'(0)^2: 1 for tanh, pi/4 for erf (phi'(0) = 2/sqrt(pi)).
    [("tanh", 1.0), ("erf", math.pi / 4)],
)
def test_both_ridges_start_at_the_critical_point(kind, activation, critical):
    w = mf.widom_line(0.0, activation, susceptibility=kind)
    assert w.sigma_w2 == pytest.approx(critical, rel=1e-12)
    assert w.peak == math.inf
    assert mf.edge_of_chaos(0.0, activation).sigma_w2 == pytest.approx(critical, rel=1e-12)


def test_names_of_the_susceptibilities():
    assert mf.widom_line(0.1).susceptibility == "d sqrt(q*)/d sigma_w^2"
    w = mf.widom_line(0.1, susceptibility="strength_sigma_w")
    assert w.susceptibility == "d sqrt(q*)/d sigma_w"
    assert set(mf.WIDOM_SUSCEPTIBILITIES) == {"strength", "strength_sigma_w", "q"}


@pytest.mark.parametrize("sb", [0.3, 0.7])
@pytest.mark.parametrize("sw", [0.8, 1.7, 3.0])
def test_the_susceptibilities_are_the_derivatives_of_sqrt_q(sw, sb):
    # Central differences of sqrt(q*) from the fixed-point solver, in sigma_w^2 and in
    # sigma_w; the identity d/d sigma_w = 2 sigma_w d/d sigma_w^2 ties them.
    p = mf.fixed_point(sw, sb)

    def root_q(w2):
        return math.sqrt(mf.fixed_point(w2, sb).q_star)

    h = 1e-5
    d_w2 = (root_q(sw + h) - root_q(sw - h)) / (2 * h)
    s = math.sqrt(sw)
    d_w = (root_q((s + h) ** 2) - root_q((s - h) ** 2)) / (2 * h)
    assert p.chi_w_strength == pytest.approx(d_w2, rel=1e-6)
    assert p.chi_w_strength_sigma_w == pytest.approx(d_w, rel=1e-6)
    assert p.chi_w_strength_sigma_w == pytest.approx(2 * s * p.chi_w_strength, rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_ridge_matches_brute_force_argmax_over_a_fine_grid(kind):
    # The slow, obvious twin: evaluate the susceptibility pointwise on a fine grid of
    # sigma_w^2 with phase_diagram and take the argmax of each column.
    sb = np.array([0.02, 0.05, 0.1, 0.2])
    sw = np.linspace(0.9, 9.0, 4051)  # spacing 0.002
    ds = mf.phase_diagram(sw, sb)
    var = "chi_w_strength" if kind == "strength" else "chi_w_strength_sigma_w"
    grid = np.asarray(ds[var])
    brute = sw[np.argmax(grid, axis=0)]
    line = mf.widom_line(sb, susceptibility=kind)
    np.testing.assert_allclose(line.sigma_w2, brute, atol=2.5e-3)
    np.testing.assert_allclose(line.peak, grid.max(axis=0), rtol=1e-6)


def test_derivative_in_sigma_w_moves_the_ridge_right():
    # At the ridge of f = d sqrt(q*)/d sigma_w^2, d(2 sigma_w f)/d sigma_w^2 = f/sigma_w > 0,
    # so the sigma_w ridge lies at larger sigma_w^2 wherever both exist.
    sb = np.geomspace(1e-3, 0.4, 15)
    w2 = mf.widom_line(sb).sigma_w2
    w1 = mf.widom_line(sb, susceptibility="strength_sigma_w", sigma_w2_max=1e3).sigma_w2
    assert np.all(w1 > w2)
    assert np.all(np.diff(w1) > 0)


def test_sigma_w_ridge_has_no_interior_peak_at_large_bias():
    # d sqrt(q*)/d sigma_w -> 1 as sigma_w -> inf (sqrt(q*) ~ sigma_w for tanh); for
    # large sigma_b^2 it approaches 1 from below, so there is no interior maximum.
    w = mf.widom_line([0.5, 1.0, 2.0], susceptibility="strength_sigma_w", sigma_w2_max=1e4)
    assert np.isnan(w.sigma_w2).all()
    assert "search boundary" in w.note
    sw = np.geomspace(1.0, 1e3, 400)
    resp = np.asarray(mf.phase_diagram(sw, [1.0]).chi_w_strength_sigma_w)[:, 0]
    assert np.all(np.diff(resp) > 0)
    assert resp[-1] < 1.0


def test_strength_ridge_exists_at_every_bias_and_turns_back():
    w = mf.widom_line([0.1, 0.5, 1.0, 2.0])
    assert np.isfinite(w.sigma_w2).all()
    assert w.sigma_w2[1] > w.sigma_w2[0]
    assert w.sigma_w2[3] < w.sigma_w2[1]
    assert np.all(np.diff(w.peak) < 0)


def test_unknown_susceptibility_is_refused_by_name():
    with pytest.raises(CrackleValueError, match=r"'susceptibility'.*strength_sigma_w"):
        mf.widom_line(0.1, susceptibility="sigma_w")
