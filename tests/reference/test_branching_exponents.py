"""Exact exponents of the critical Galton-Watson branching process, recovered end to end.

Source of the expected values: mean-field directed percolation / critical branching,
tau = 3/2, alpha = 2, 1/(sigma nu z) = 2 (exact; Harris 1963; Sethna, Dahmen & Myers
2001; docs/theory.md). Tolerances are the acceptance criteria set for this
test: tau +- 0.05, alpha +- 0.1, fitted and collapse 1/(sigma nu z) +- 0.1.
"""

import pytest

import crackle as ck
from crackle.sim import branching_process


def check(rep):
    assert abs(rep.tau - 1.5) <= 0.05
    assert abs(rep.alpha - 2.0) <= 0.1
    assert abs(rep.inv_snz_fitted - 2.0) <= 0.1
    assert abs(rep.inv_snz_collapse - 2.0) <= 0.1
    assert abs(rep.inv_snz_predicted - 2.0) <= 0.1
    assert rep.nearest.name.startswith("mean-field directed percolation")
    assert rep.critical


def test_critical_branching_process_exponents():
    check(ck.crackling_report(branching_process(1.0, 1_000_000, seed=0)))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_critical_branching_process_exponents_other_seeds(seed):
    check(ck.crackling_report(branching_process(1.0, 1_000_000, seed=seed)))


@pytest.mark.parametrize("m", [0.5, 0.8])
def test_subcritical_process_is_not_called_critical(m):
    rep = ck.crackling_report(branching_process(m, 200_000, seed=0))
    assert not rep.critical
    assert not (rep.sizes_verdict.plausible and rep.durations_verdict.plausible)
