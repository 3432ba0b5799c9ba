"""Avalanche extraction against slow, obvious twins written here."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crackle as ck


def slow_trajectories(q, thr):
    """One trajectory at a time, one layer at a time."""
    sizes, durs, cs, cd, empty, profiles = [], [], [], [], 0, {}
    for row in q:
        t, s = 0, 0.0
        while t < row.size and row[t] > thr[t]:
            s += row[t]
            t += 1
        if t == 0:
            empty += 1
        elif t == row.size:
            cs.append(s)
            cd.append(t)
        else:
            sizes.append(s)
            durs.append(t)
            profiles.setdefault(t, []).append(row[:t])
    return sizes, durs, cs, cd, empty, profiles


def slow_counts(counts, thr):
    sizes, durs, censored, profiles = [], [], 0, {}
    for row in np.atleast_2d(counts):
        t = 0
        while t < row.size:
            if row[t] > thr:
                start = t
                while t < row.size and row[t] > thr:
                    t += 1
                run = row[start:t]
                if start == 0 or t == row.size:
                    censored += 1
                else:
                    sizes.append(run.sum())
                    durs.append(run.size)
                    profiles.setdefault(run.size, []).append(run)
            else:
                t += 1
    return sizes, durs, censored, profiles


@pytest.mark.parametrize("per_layer", [False, True])
def test_trajectories_match_slow_twin(per_layer):
    rng = np.random.default_rng(1)
    q = rng.exponential(1.0, size=(500, 12)) + 0.2
    thr = rng.uniform(0.3, 0.9, 12) if per_layer else np.full(12, 0.5)
    av = ck.avalanches_from_trajectories(q, thr if per_layer else 0.5)
    sizes, durs, cs, cd, empty, profiles = slow_trajectories(q, thr)
    np.testing.assert_allclose(av.sizes, sizes)
    np.testing.assert_array_equal(av.durations, durs)
    np.testing.assert_allclose(av.censored_sizes, cs)
    np.testing.assert_array_equal(av.censored_durations, cd)
    assert av.n_empty == empty
    assert av.n + av.n_censored + av.n_empty == q.shape[0]
    for t, profs in profiles.items():
        np.testing.assert_allclose(av.shapes.mean_profile(t), np.mean(profs, axis=0))
        assert av.shapes.counts[t - 1] == len(profs)


def test_trajectories_hand_example():
    q = np.array([[2.0, 3.0, 0.5, 4.0], [2.0, 2.0, 2.0, 2.0], [0.1, 5.0, 5.0, 5.0]])
    av = ck.avalanches_from_trajectories(q, 1.0)
    assert av.sizes.tolist() == [5.0]
    assert av.durations.tolist() == [2]
    assert av.censored_sizes.tolist() == [8.0]
    assert av.n_censored == 1
    assert av.n_empty == 1


def test_entry_equal_to_threshold_ends_avalanche():
    av = ck.avalanches_from_trajectories([[2.0, 1.0, 3.0]], 1.0)
    assert av.durations.tolist() == [1]


def test_input_is_not_modified_and_results_are_readonly():
    q = np.array([[2.0, 0.1], [3.0, 0.1]])
    before = q.copy()
    av = ck.avalanches_from_trajectories(q, 1.0)
    np.testing.assert_array_equal(q, before)
    with pytest.raises(ValueError):
        av.sizes[0] = 0.0


def test_max_shape_duration_counts_long_profiles():
    q = np.array([[2.0] * 5 + [0.0], [2.0, 2.0, 0.0, 0, 0, 0]])
    av = ck.avalanches_from_trajectories(q, 1.0, max_shape_duration=3)
    assert av.shapes.n_too_long == 1
    assert av.shapes.counts.tolist() == [0, 1, 0]
    assert ck.avalanches_from_trajectories(q, 1.0, max_shape_duration=None).shapes is None


@pytest.mark.parametrize("thr", [0.0, 1.5])
def test_counts_match_slow_twin(thr):
    rng = np.random.default_rng(2)
    counts = rng.poisson(1.2, size=(4, 400)) * (rng.random((4, 400)) < 0.7)
    av = ck.avalanches_from_counts(counts, thr, raster=False)  # rows are trials
    sizes, durs, censored, profiles = slow_counts(counts, thr)
    np.testing.assert_allclose(av.sizes, sizes)
    np.testing.assert_array_equal(av.durations, durs)
    assert av.n_censored == censored
    for t, profs in profiles.items():
        np.testing.assert_allclose(av.shapes.mean_profile(t), np.mean(profs, axis=0))


def test_counts_hand_example_and_trial_boundaries():
    av = ck.avalanches_from_counts([0, 1, 2, 0, 0, 3, 0, 1])
    assert av.sizes.tolist() == [3.0, 3.0]
    assert av.durations.tolist() == [2, 1]
    assert av.n_censored == 1
    # A run at the end of one trial and the start of the next is two censored runs.
    av2 = ck.avalanches_from_counts([[0, 1, 1], [1, 1, 0]])
    assert av2.n == 0
    assert av2.n_censored == 2


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=60),
    st.integers(0, 2),
)
def test_counts_property(counts, thr):
    av = ck.avalanches_from_counts(counts, thr)
    sizes, durs, censored, _ = slow_counts(np.array(counts, float), thr)
    np.testing.assert_allclose(av.sizes, sizes)
    np.testing.assert_array_equal(av.durations, durs)
    assert av.n_censored == censored


def test_concat_equals_one_shot():
    rng = np.random.default_rng(3)
    q = rng.exponential(1.0, size=(300, 9)) + 0.1
    whole = ck.avalanches_from_trajectories(q, 0.4)
    parts = [ck.avalanches_from_trajectories(c, 0.4) for c in np.array_split(q, 7)]
    merged = ck.concat_avalanches(parts)
    np.testing.assert_array_equal(merged.sizes, whole.sizes)
    np.testing.assert_array_equal(merged.durations, whole.durations)
    assert merged.n_censored == whole.n_censored
    assert merged.n_empty == whole.n_empty
    np.testing.assert_allclose(merged.shapes.sums, whole.shapes.sums)
    np.testing.assert_array_equal(merged.shapes.counts, whole.shapes.counts)


def test_from_arrays_and_to_dict():
    av = ck.Avalanches.from_arrays([1.0, 2.0, 5.0], [1, 1, 3], n_censored=2)
    assert av.n == 3
    assert av.n_censored == 2
    d = av.to_dict()
    assert d["n"] == 3
    assert d["duration_range"] == [1, 3]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: ck.avalanches_from_trajectories(np.zeros((2, 2, 2)), 1.0), "'q'"),
        (lambda: ck.avalanches_from_trajectories([[1.0, np.nan]], 1.0), "'q'"),
        (lambda: ck.avalanches_from_trajectories(np.ones((3, 4)), [1.0, 2.0]), "'threshold'"),
        (lambda: ck.avalanches_from_trajectories(np.ones((0, 4)), 1.0), "'q'"),
        (
            lambda: ck.avalanches_from_trajectories(np.ones((2, 4)), 1.0, max_shape_duration=0),
            "'max_shape_duration'",
        ),
        (lambda: ck.avalanches_from_counts([1, -1, 2]), "'counts'"),
        (lambda: ck.avalanches_from_counts([1, np.inf]), "'counts'"),
        (lambda: ck.avalanches_from_counts([1, 2], threshold=np.nan), "'threshold'"),
        (lambda: ck.Avalanches.from_arrays([1.0, 2.0], [1]), "'durations'"),
        (lambda: ck.Avalanches.from_arrays([1.0, -2.0], [1, 2]), "'sizes'"),
        (lambda: ck.Avalanches.from_arrays([1.0, 2.0], [1, 2.5]), "'durations'"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
