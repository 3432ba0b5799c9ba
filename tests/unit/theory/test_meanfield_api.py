"""crackle.meanfield: results, Dataset layout, special points and bad input."""

import json

import numpy as np
import pytest

import crackle as ck
from crackle import CrackleValueError
from crackle.theory import meanfield as mf


def test_reached_lazily_as_ck_meanfield():
    assert ck.meanfield.phase_diagram is mf.phase_diagram


def test_dataset_layout_and_attrs():
    ds = mf.phase_diagram([0.5, 1.0, 2.0], [0.0, 0.1], "tanh")
    assert dict(ds.sizes) == {"sigma_w2": 3, "sigma_b2": 2}
    for name in ("q_star", "chi_q", "chi_1", "c_star", "xi_q", "xi_c", "chi_w", "chi_b"):
        assert ds[name].dims == ("sigma_w2", "sigma_b2")
        assert ds[name].attrs["long_name"]
    assert ds.attrs["activation"] == "tanh"
    assert "Gauss-Legendre" in ds.attrs["quadrature"]
    assert ds.status.attrs["flag_meanings"].split()[0] == "ok"
    # (1, 0) is the critical point: inf chi_b, NaN chi_w, and the reason is recorded.
    crit = ds.sel(sigma_w2=1.0, sigma_b2=0.0)
    assert int(crit.status) == 2
    assert np.isinf(crit.chi_b)
    assert np.isnan(crit.chi_w)
    assert "critical_point" in ds.attrs["nonfinite_reasons"]


def test_ordered_and_chaotic_phases():
    ordered = mf.fixed_point(1.2, 0.3)
    chaotic = mf.fixed_point(3.0, 0.3)
    assert ordered.chi_1 < 1
    assert ordered.c_star == 1.0
    assert ordered.chi_c == ordered.chi_1
    assert chaotic.chi_1 > 1
    assert 0 < chaotic.c_star < 1
    assert chaotic.chi_c < 1
    # No bias and an odd activation: uncorrelated inputs stay uncorrelated.
    assert mf.fixed_point(3.0, 0.0).c_star == 0.0


def test_trivial_fixed_point_below_one_at_zero_bias():
    p = mf.fixed_point(0.6, 0.0)
    assert p.q_star == 0.0
    assert p.status == "trivial_fixed_point"
    assert p.chi_1 == pytest.approx(0.6)
    assert p.chi_b == pytest.approx(1 / 0.4)
    assert p.chi_w == 0.0


def test_relu_statuses_never_a_wrong_finite_number():
    below, at, above = (mf.fixed_point(s, 0.0, "relu") for s in (1.5, 2.0, 2.5))
    assert below.q_star == 0.0
    assert np.isnan(at.q_star)
    assert at.status == "marginal"
    assert np.isinf(above.q_star)
    assert above.status == "no_finite_fixed_point"
    assert np.isnan(above.chi_w)
    assert np.isnan(above.c_star)
    grown = mf.fixed_point(2.5, 0.1, "relu")
    assert np.isinf(grown.q_star)
    ds = mf.phase_diagram([1.0, 2.5], [0.0, 0.1], "relu")
    assert "no_finite_fixed_point" in ds.attrs["nonfinite_reasons"]
    assert np.isinf(ds.q_star.values[1]).all()


def test_user_callable_matches_builtin():
    p = mf.fixed_point(2.0, 0.1, lambda u: np.tanh(u))
    ref = mf.fixed_point(2.0, 0.1, "tanh")
    assert p.q_star == pytest.approx(ref.q_star, rel=1e-12)
    assert p.chi_1 == pytest.approx(ref.chi_1, rel=1e-8)  # numerical derivative
    assert p.chi_q == pytest.approx(ref.chi_q, rel=1e-5)  # numerical second derivative


def test_results_are_frozen_and_json_safe():
    p = mf.fixed_point(1.5, 0.05)
    with pytest.raises(AttributeError):
        p.q_star = 1.0  # type: ignore[misc]
    for res in (p, mf.edge_of_chaos([0.1, 0.2]), mf.widom_line(0.1), mf.critical_exponents()):
        json.dumps(res.to_dict(), allow_nan=True)


def test_scalars_in_scalars_out_arrays_in_arrays_out():
    assert isinstance(mf.edge_of_chaos(0.1).sigma_w2, float)
    assert mf.edge_of_chaos([0.1, 0.2]).sigma_w2.shape == (2,)
    assert isinstance(mf.widom_line(0.1).peak, float)
    assert mf.widom_line(np.array([0.1, 0.2])).peak.shape == (2,)


def test_widom_line_with_kind_q_has_no_interior_peak_for_tanh():
    # chi_w = dq*/dsigma_w^2 rises monotonically for tanh: no Widom peak to report.
    w = mf.widom_line([0.05, 0.3], susceptibility="q", sigma_w2_max=20.0)
    assert np.isnan(w.sigma_w2).all()
    assert "boundary" in w.note
    ds = mf.phase_diagram(np.linspace(0.5, 6, 40), [0.05, 0.3])
    assert (np.diff(ds.chi_w.values, axis=0) > 0).all()


BAD = [
    (lambda: mf.phase_diagram([-1.0, 1.0], [0.0]), "sigma_w2"),
    (lambda: mf.phase_diagram([1.0], [0.0, -0.1]), "sigma_b2"),
    (lambda: mf.phase_diagram([1.0, np.nan], [0.0]), "sigma_w2"),
    (lambda: mf.phase_diagram([1.0], [np.inf]), "sigma_b2"),
    (lambda: mf.phase_diagram([[1.0]], [0.0]), "sigma_w2"),
    (lambda: mf.phase_diagram([1.0], [0.0], "swish"), "activation"),
    (lambda: mf.phase_diagram([1.0], [0.0], n_hermite=0), "n_hermite"),
    (lambda: mf.fixed_point(-1.0, 0.0), "sigma_w2"),
    (lambda: mf.fixed_point(1.0, float("nan")), "sigma_b2"),
    (lambda: mf.fixed_point(1.0, 0.0, lambda u: np.ones(3)), "activation"),
    (lambda: mf.edge_of_chaos(-0.1), "sigma_b2"),
    (lambda: mf.edge_of_chaos([0.1, np.nan]), "sigma_b2"),
    (lambda: mf.widom_line(0.1, susceptibility="x"), "susceptibility"),
    (lambda: mf.widom_line(-2.0), "sigma_b2"),
    (lambda: mf.critical_exponents("relu"), "activation"),
    (lambda: mf.critical_exponents(eps_range=(0.1, 0.01)), "eps_range"),
    (lambda: mf.length_map_trajectory(1.0, 1.0, 0.0, -1), "depth"),
]


@pytest.mark.parametrize(("call", "name"), BAD)
def test_bad_input_raises_one_clear_error(call, name):
    with pytest.raises(CrackleValueError, match=f"The '{name}' parameter of"):
        call()
