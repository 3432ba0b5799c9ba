"""Mean-field values against published or exact references; each names its source."""

import numpy as np
import pytest
from scipy import special

from crackle.theory import meanfield as mf

# Source: docs/theory.md, "Reference values" (tanh; 201-node Gauss-Hermite quadrature
# computed independently of crackle's rule): edge-of-chaos sigma_w^2 at each sigma_b^2,
# quoted to 3 decimals.
REFERENCE_EDGE = {0.01: 1.424, 0.05: 1.761, 0.1: 1.986, 0.3: 2.505, 1.0: 3.443, 2.0: 4.266}


def test_tanh_edge_of_chaos_matches_reference_table():
    b = np.array(list(REFERENCE_EDGE))
    got = mf.edge_of_chaos(b, "tanh").sigma_w2
    np.testing.assert_allclose(got, list(REFERENCE_EDGE.values()), atol=1e-3)
    # and chi_1 = 1 there, by the independent grid evaluation
    for bb, s in zip(b, got, strict=True):
        assert mf.fixed_point(float(s), float(bb)).chi_1 == pytest.approx(1.0, abs=1e-12)


def test_relu_critical_at_two():
    # Exact law: E[relu'(u)^2] = 1/2 for every q, so chi_1 = sigma_w^2 / 2.
    assert mf.edge_of_chaos(0.0, "relu").sigma_w2 == 2.0
    assert mf.fixed_point(2.0, 0.0, "relu").chi_1 == 1.0


def test_relu_fixed_point_closed_form():
    # Exact law: q* = sigma_b^2 / (1 - sigma_w^2 / 2) for sigma_w^2 < 2.
    for sw, sb in [(0.5, 0.1), (1.5, 0.3), (1.99, 0.01)]:
        assert mf.fixed_point(sw, sb, "relu").q_star == pytest.approx(sb / (1 - sw / 2), rel=1e-13)


def test_linear_activation_closed_forms():
    # Exact laws for phi(u) = u: q* = sigma_b^2/(1 - sigma_w^2), chi_q = chi_1 = sigma_w^2,
    # chi_w = q*/(1 - sigma_w^2), chi_b = 1/(1 - sigma_w^2), and c* = 1.
    sw, sb = 0.6, 0.2
    p = mf.fixed_point(sw, sb, "linear")
    q = sb / (1 - sw)
    assert p.q_star == pytest.approx(q, rel=1e-14)
    assert p.chi_q == pytest.approx(sw)
    assert p.chi_1 == pytest.approx(sw)
    assert p.chi_w == pytest.approx(q / (1 - sw), rel=1e-13)
    assert p.chi_b == pytest.approx(1 / (1 - sw), rel=1e-13)
    assert p.c_star == 1.0
    assert mf.edge_of_chaos(0.0, "linear").sigma_w2 == 1.0


def test_erf_correlation_map_arcsin_closed_form():
    # Exact law (Williams 1997): for phi = erf, E[phi(u1) phi(u2)] =
    # (2/pi) arcsin(2 q c / (1 + 2 q)); E[phi^2] is the same at c = 1.
    sw, sb = 3.0, 0.2
    p = mf.fixed_point(sw, sb, "erf")
    q = p.q_star
    assert q == pytest.approx(sw * (2 / np.pi) * np.arcsin(2 * q / (1 + 2 * q)) + sb, rel=1e-13)
    c = p.c_star
    mapped = (sw * (2 / np.pi) * np.arcsin(2 * q * c / (1 + 2 * q)) + sb) / q
    assert mapped == pytest.approx(c, abs=1e-12)
    # chi_1 = sigma_w^2 E[(2/sqrt(pi)) exp(-u^2)]^2 = sigma_w^2 (4/pi) / sqrt(1 + 4 q)
    assert p.chi_1 == pytest.approx(sw * 4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-13)


def test_hard_tanh_closed_form_length_map():
    # Exact law: E[hardtanh(u)^2] = q (erf(a/sqrt2) - 2 a phi(a)) + erfc(a/sqrt2), a = 1/sqrt(q).
    sw, sb = 2.0, 0.3
    q = mf.fixed_point(sw, sb, "hard_tanh").q_star
    a = 1 / np.sqrt(q)
    v = q * (special.erf(a / np.sqrt(2)) - 2 * a * np.exp(-a * a / 2) / np.sqrt(2 * np.pi))
    v += special.erfc(a / np.sqrt(2))
    assert q == pytest.approx(sw * v + sb, rel=1e-13)


def test_critical_exponents_beta_gamma_are_one():
    # Source: Ghavasieh et al. 2025 (arXiv 2509.22649), Methods; docs/theory.md: beta = gamma = 1
    # (mean-field directed percolation); q* ~ (sigma_w^2 - 1)/2 just above.
    e = mf.critical_exponents("tanh")
    assert e.beta == pytest.approx(1.0, abs=0.05)
    assert e.gamma == pytest.approx(1.0, abs=0.05)
    assert e.gamma_above == pytest.approx(1.0, abs=0.05)
    assert e.gamma_below == pytest.approx(1.0, abs=0.05)
    assert mf.fixed_point(1.0 + 1e-4, 0.0).q_star == pytest.approx(0.5e-4, rel=1e-3)


def test_widom_line_peak_falls_and_meets_the_edge_at_the_critical_point():
    # Source: Ghavasieh et al. 2025, "Edge of chaos vs Widom-like line": the peak
    # height shrinks as sigma_b^2 grows, and the
    # Widom line and the edge of chaos meet only at (1, 0).
    b = np.array([1e-12, 1e-9, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3, 0.6, 1.0])
    w = mf.widom_line(b, "tanh")
    assert np.isfinite(w.peak).all()
    assert (np.diff(w.peak) < 0).all()
    e = mf.edge_of_chaos(b, "tanh")
    # Both lines approach sigma_w^2 = 1 as sigma_b^2 -> 0 (edge ~ b^(1/3), Widom ~ b^(1/2)).
    assert (np.diff(w.sigma_w2[:6]) > 0).all()
    assert (np.diff(e.sigma_w2[:6]) > 0).all()
    assert abs(w.sigma_w2[0] - 1.0) < 1e-3
    assert abs(e.sigma_w2[0] - 1.0) < 1e-3
    assert (w.sigma_w2 < e.sigma_w2).all()  # they do not meet for sigma_b^2 > 0
    w0 = mf.widom_line(0.0, "tanh")
    assert w0.sigma_w2 == 1.0
    assert np.isinf(w0.peak)
    assert mf.edge_of_chaos(0.0, "tanh").sigma_w2 == 1.0


def test_phase_diagram_agrees_with_quad_based_evaluation():
    # Source: scipy.integrate.quad / brentq evaluation (benchmarks/bench_meanfield.py).
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_meanfield.py"
    spec = importlib.util.spec_from_file_location("bench_meanfield", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sw, sb = np.array([0.8, 2.2, 3.7]), np.array([0.05, 0.6])
    ds = mf.phase_diagram(sw, sb)
    for i, w in enumerate(sw):
        for j, b in enumerate(sb):
            ref = bench.quad_point(float(w), float(b), with_c=False)
            for name, val in ref.items():
                assert abs(float(ds[name].values[i, j]) - val) < 1e-8, name
