"""Driven and mixture branching processes against scalar loops and exact moments."""

import json

import numpy as np
import pytest

from crackle.sim import DrivenActivity, driven_branching_process, mixture_branching_process


def slow_driven(m, h, steps, burn_in, p, seed):
    """A scalar loop over steps and processes with the same draws, in the same order."""
    rng = np.random.default_rng(seed)
    m = np.atleast_1d(np.asarray(m, dtype=float))
    a = [float(rng.poisson(h / (1 - mi))) for mi in m]
    out = []
    for t in range(burn_in + steps):
        a = [float(rng.poisson(mi * ai + h)) for mi, ai in zip(m, a, strict=True)]
        if t >= burn_in:
            out.append(a)
    act = np.array(out, dtype=np.int64)
    return act, rng


def test_driven_matches_scalar_loop():
    run = driven_branching_process(0.8, 3.0, 500, subsample=0.3, burn_in=20, seed=5)
    act, rng = slow_driven(0.8, 3.0, 500, 20, 0.3, 5)
    np.testing.assert_array_equal(run.activity, act[:, 0])
    np.testing.assert_array_equal(run.observed, rng.binomial(act[:, 0], 0.3))


def test_trials_match_scalar_loop():
    # Several trials step together as one vector; the loop draws them in the same order.
    run = driven_branching_process(0.8, 3.0, 200, n_trials=3, burn_in=10, seed=8)
    act, _ = slow_driven([0.8] * 3, 3.0, 200, 10, 1.0, 8)
    np.testing.assert_array_equal(run.activity, act.T)


def test_mixture_matches_scalar_loop():
    m = [0.2, 0.7, 0.95]
    run = mixture_branching_process(m, 2.0, 300, burn_in=15, seed=6)
    act, _ = slow_driven(m, 2.0, 300, 15, 1.0, 6)
    np.testing.assert_array_equal(run.activity, act.sum(axis=1))
    np.testing.assert_array_equal(run.observed, run.activity)
    np.testing.assert_array_equal(run.m, m)


def test_driven_moments_are_the_exact_ones():
    # Stationary mean h / (1 - m), variance h / ((1 - m)(1 - m^2)), lag-k autocorrelation m^k.
    m, h = 0.9, 4.0
    run = driven_branching_process(m, h, 100_000, n_trials=4, subsample=0.2, seed=7)
    a = run.activity.astype(float)
    assert run.activity.shape == (4, 100_000)
    assert a.mean() == pytest.approx(h / (1 - m), rel=0.02)
    assert a.var() == pytest.approx(h / ((1 - m) * (1 - m * m)), rel=0.05)
    x = a[0] - a[0].mean()
    for k in (1, 5):
        assert (x[:-k] @ x[k:]) / (x @ x) == pytest.approx(m**k, abs=0.02)
    assert run.observed.mean() / a.mean() == pytest.approx(0.2, rel=0.01)
    assert (run.observed <= run.activity).all()


def test_seeded_and_recorded():
    a = driven_branching_process(0.5, 1.0, 100, seed=3)
    b = driven_branching_process(0.5, 1.0, 100, seed=3)
    np.testing.assert_array_equal(a.activity, b.activity)
    assert isinstance(a, DrivenActivity)
    d = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert d["seed"] == 3
    assert d["shape"] == [100]


def test_mixture_distribution_specs():
    named = mixture_branching_process(("beta", 2.0, 3.0), 1.0, 50, n_components=40, seed=1)
    assert named.m.shape == (40,)
    assert ((named.m >= 0) & (named.m < 1)).all()
    called = mixture_branching_process(
        lambda rng, n: rng.uniform(0.1, 0.5, n), 1.0, 50, n_components=7, seed=1
    )
    assert called.m.shape == (7,)
    assert (called.m <= 0.5).all()
    again = mixture_branching_process(("beta", 2.0, 3.0), 1.0, 50, n_components=40, seed=1)
    np.testing.assert_array_equal(named.m, again.m)
    np.testing.assert_array_equal(named.activity, again.activity)
    json.dumps(named.to_dict(), allow_nan=False)
