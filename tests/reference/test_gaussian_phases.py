"""Gaussian tanh networks at sigma_b = 0: power laws near sigma_w^2 = 1 + c/N only.

Reference: SCIENCE.md section 1 (random-walk excursions of log q near criticality:
alpha = 3/2, excess-size tau = 4/3) and seed 002 Fig. 2; ordered and chaotic networks
must give no power law, and the report must say so.
"""

import pytest

import crackle as ck
from crackle.sim import gaussian_avalanches

pytestmark = pytest.mark.slow  # about 15 s on 2 idle cores

KW = dict(n=60_000, q0=1e-3, method="marginal", sizes="excess", seed=0)


def test_near_critical_network_gives_random_walk_exponents():
    av = gaussian_avalanches(128, 400, 1 + 2 / 128, **KW)
    # x_min where the tail keeps 10% of the avalanches (the report's guard for large
    # samples): with every candidate, the minimal KS distance picked a steep far tail
    # (0.3-0.4 decades, tau 5-7) beyond the depth's cut-off for 5 of 12 seeds, with
    # this simulator and the one before it.
    rep = ck.crackling_report(av, min_tail_fraction=0.1)
    assert rep.durations_verdict.plausible
    assert rep.sizes_verdict.plausible
    assert rep.alpha == pytest.approx(1.5, abs=0.07)  # measured 1.488-1.499 (12 seeds)
    assert rep.tau == pytest.approx(4 / 3, abs=0.05)  # measured 1.299-1.317


@pytest.mark.parametrize("sigma_w2", [0.9, 1.1])
def test_ordered_and_chaotic_networks_give_no_power_law(sigma_w2):
    av = gaussian_avalanches(128, 400, sigma_w2, **KW)
    rep = ck.crackling_report(av)
    assert not rep.durations_verdict.plausible
    assert not rep.critical
    assert "decades" in rep.durations_verdict.reason  # the report says why
