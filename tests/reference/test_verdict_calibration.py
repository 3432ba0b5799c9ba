"""The verdict of crackling_report on ground truths and nulls, at a size CI affords.

Sources of the expected answers:
- critical Galton-Watson processes (m = 1, Poisson and geometric offspring) are in the
  mean-field directed percolation class with exact exponents tau = 3/2, alpha = 2,
  1/(sigma nu z) = 2 (Harris, "The Theory of Branching Processes", 1963; Sethna,
  Dahmen & Myers, Nature 410, 242, 2001): "critical", nearest class mean-field
  directed percolation;
- subcritical (m = 0.95, 0.98) and supercritical (m = 1.05) processes have an
  exponential cut-off of their size law at S_c = 1/(m - 1 - ln m), about
  2/(1 - m)^2 (the Borel law of the total progeny with Poisson offspring; Harris
  1963), the supercritical one censored where it runs away: not "critical";
- i.i.d. Poisson counts have geometric avalanche durations, exactly; lognormal
  avalanches (crackle.sim.lognormal_avalanches) are lognormal by construction:
  not "critical".

The full calibration, 10 seeds per case and larger samples, is
benchmarks/bench_verdict.py.
"""

import numpy as np
import pytest

import crackle as ck
from crackle.sim import branching_process, iid_poisson_activity, lognormal_avalanches

N = 100_000
OUTCOMES = {"critical", "not critical", "inconclusive"}


def outcome(rep):
    """The three-outcome verdict where the report has one, else its boolean."""
    verdict = getattr(rep, "verdict", None)
    if verdict is not None:
        return verdict.outcome
    return "critical" if rep.critical else "not critical"


def iid_poisson(seed):
    rate = 1.0
    q = 1.0 - np.exp(-rate)
    steps = int(np.ceil(N / (q * (1.0 - q))))
    return ck.avalanches_from_counts(iid_poisson_activity(rate, steps, seed=seed))


NULLS = {
    "subcritical m=0.95": lambda seed: branching_process(0.95, N, seed=seed),
    "subcritical m=0.98": lambda seed: branching_process(0.98, N, seed=seed),
    "supercritical m=1.05, censored": lambda seed: branching_process(
        1.05, N, max_duration=10_000, seed=seed
    ),
    "iid Poisson activity": iid_poisson,
    "lognormal avalanches": lambda seed: lognormal_avalanches(N, seed=seed),
}

SLOW_SEEDS = [pytest.param(s, marks=pytest.mark.slow) for s in (1, 2)]


@pytest.mark.parametrize("seed", [0, *SLOW_SEEDS])
@pytest.mark.parametrize("offspring", ["poisson", "geometric"])
def test_critical_branching_process_is_critical(offspring, seed):
    rep = ck.crackling_report(branching_process(1.0, N, offspring=offspring, seed=seed))
    assert outcome(rep) == "critical", getattr(rep, "verdict", rep.summary())
    assert rep.nearest.name.startswith("mean-field directed percolation"), rep.nearest


@pytest.mark.parametrize("seed", [0, *SLOW_SEEDS])
@pytest.mark.parametrize("case", list(NULLS))
def test_null_is_not_critical(case, seed):
    rep = ck.crackling_report(NULLS[case](seed))
    got = outcome(rep)
    assert got in OUTCOMES
    assert got != "critical", getattr(rep, "verdict", rep.summary())
