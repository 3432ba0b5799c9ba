"""Finite-width Monte Carlo against mean-field theory."""

import numpy as np
import pytest

from crackle.sim.finite_width import compare_with_mean_field, simulate_finite_width


def test_small_network_follows_mean_field_and_is_seeded():
    r = simulate_finite_width(2.0, 0.1, width=300, depth=15, n_networks=4, n_inputs=4, seed=3)
    again = simulate_finite_width(2.0, 0.1, width=300, depth=15, n_networks=4, n_inputs=4, seed=3)
    np.testing.assert_array_equal(r.q, again.q)
    c = compare_with_mean_field(r)
    assert abs(c["rel_q_late"]) < 0.1
    assert abs(c["rel_chi_1_late"]) < 0.05
    assert r.q[0] == pytest.approx(1.0)
    assert len(r.to_dict()["q"]) == 16


def test_chi_1_per_layer_matches_mean_field_at_the_measured_q():
    r = simulate_finite_width(
        1.2, 0.05, width=400, depth=8, n_networks=3, n_inputs=4, late=4, seed=1
    )
    c = compare_with_mean_field(r)
    np.testing.assert_allclose(r.chi_1, c["chi_1_mf"], rtol=0.05)


@pytest.mark.slow
@pytest.mark.parametrize(("sw", "sb"), [(1.5, 0.05), (3.0, 0.3), (0.8, 0.1)])
def test_width_1000_within_a_few_percent_away_from_the_transition(sw, sb):
    r = simulate_finite_width(sw, sb, width=1000, depth=30, n_networks=6, n_inputs=8, seed=0)
    c = compare_with_mean_field(r)
    assert abs(c["rel_q_late"]) < 0.04
    assert abs(c["rel_chi_1_late"]) < 0.02
    assert abs(c["rel_chi_w"]) < 0.05
