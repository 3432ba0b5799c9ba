"""Shape collapse on profiles with a known exponent, and on the critical branching process."""

import numpy as np
import pytest

import crackle as ck
from crackle.events import ShapeSums
from crackle.stats.collapse import collapse_error


def synthetic_shapes(gamma, durations, noise=0.0, seed=0):
    """Mean profiles T^(gamma-1) * 4x(1-x) at x = (t + 1/2)/T, stored as sums of 10."""
    rng = np.random.default_rng(seed)
    dur, pos, val, ev = [], [], [], []
    for t in durations:
        x = (np.arange(t) + 0.5) / t
        prof = t ** (gamma - 1) * 4 * x * (1 - x) * (1 + noise * rng.normal(size=t))
        dur += [t] * t
        pos += list(range(t))
        val += list(10 * prof)
        ev += [t] * 10
    return ShapeSums.from_flat(
        np.array(dur), np.array(pos), np.array(val), np.array(ev), max(durations)
    )


@pytest.mark.parametrize("gamma", [1.3, 1.5, 2.0, 2.5])
def test_recovers_exact_exponent(gamma):
    col = ck.shape_collapse(synthetic_shapes(gamma, list(range(10, 200, 7))), min_count=10)
    assert col.success
    assert abs(col.gamma - gamma) <= 0.002
    assert col.error_min < 1e-3


def test_error_is_a_slow_twin_match():
    rng = np.random.default_rng(0)
    profiles = rng.random((5, 30)) + 0.5
    ts = np.array([5.0, 8, 13, 21, 34])
    gammas = np.array([1.2, 1.9, 2.4])
    fast = collapse_error(profiles, ts, gammas)
    for g, f in zip(gammas, fast, strict=True):
        scaled = np.array([p / t ** (g - 1) for p, t in zip(profiles, ts, strict=True)])
        mean = scaled.mean(axis=0)
        slow = np.mean(np.var(scaled, axis=0)) / (mean.max() - mean.min()) ** 2
        assert f == pytest.approx(slow, rel=1e-12)


def test_noise_gives_an_honest_error_bar():
    col = ck.shape_collapse(
        synthetic_shapes(1.7, list(range(10, 300, 5)), noise=0.05), min_count=10
    )
    assert np.isfinite(col.gamma_err)
    assert col.gamma_err > 0
    assert abs(col.gamma - 1.7) < 4 * col.gamma_err + 0.01


def test_critical_branching_process_collapses_at_two():
    from crackle.sim import branching_process

    col = ck.shape_collapse(branching_process(1.0, 300_000, seed=4), tmin=10)
    assert abs(col.gamma - 2.0) < 0.1
    assert col.to_dict()["n_durations"] == col.durations.size


def test_bad_input():
    with pytest.raises(ValueError, match="'data'"):
        ck.shape_collapse(ck.Avalanches.from_arrays([1.0, 2.0], [1, 2]))
    with pytest.raises(ValueError, match="'data'"):
        ck.shape_collapse(synthetic_shapes(2.0, [10, 20]), min_count=10)
    with pytest.raises(ValueError, match="'gamma_range'"):
        ck.shape_collapse(synthetic_shapes(2.0, [10, 20, 30]), gamma_range=(2.0, 1.0))
