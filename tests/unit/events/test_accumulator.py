"""The streaming accumulator merges to exactly the one-shot result."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crackle as ck


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8), st.integers(0, 10_000))
def test_merged_equals_one_shot(chunk_sizes, seed):
    rng = np.random.default_rng(seed)
    q = rng.exponential(1.0, size=(sum(chunk_sizes), 15)) + 0.05
    whole = ck.avalanches_from_trajectories(q, 0.3, max_shape_duration=10)
    acc = ck.AvalancheAccumulator(max_shape_duration=10)
    for chunk in np.split(q, np.cumsum(chunk_sizes)[:-1]):
        acc.update_trajectories(chunk, 0.3)
    got = acc.compute()
    np.testing.assert_array_equal(got.sizes, whole.sizes)
    np.testing.assert_array_equal(got.durations, whole.durations)
    assert got.n_censored == whole.n_censored
    assert got.n_empty == whole.n_empty
    np.testing.assert_allclose(got.shapes.sums, whole.shapes.sums, rtol=1e-12)
    np.testing.assert_array_equal(got.shapes.counts, whole.shapes.counts)
    assert got.shapes.n_too_long == whole.shapes.n_too_long
    np.testing.assert_array_equal(
        acc.duration_counts, np.bincount(whole.durations, minlength=acc.duration_counts.size)
    )


def test_summary_mode_streams_to_sink_and_refuses_compute():
    seen = []
    acc = ck.AvalancheAccumulator(keep_events=False, sink=seen.append)
    rng = np.random.default_rng(0)
    for _ in range(3):
        acc.update_trajectories(rng.exponential(1.0, (50, 8)), 0.5)
    assert len(seen) == 3
    assert acc.n == sum(c.n for c in seen)
    with pytest.raises(RuntimeError, match="keep_events=False"):
        acc.compute()
    acc.reset()
    assert acc.n == 0
    assert acc.shapes.counts.sum() == 0


def test_update_rejects_longer_shapes():
    acc = ck.AvalancheAccumulator(max_shape_duration=3)
    chunk = ck.avalanches_from_trajectories(np.ones((2, 6)) * [[1, 1, 1, 1, 0, 0]], 0.5)
    with pytest.raises(ValueError, match="max_shape_duration=3"):
        acc.update(chunk)
