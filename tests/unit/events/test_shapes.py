import numpy as np
import pytest

from crackle.events import ShapeSums


def test_packed_layout_and_merge():
    a = ShapeSums.from_flat(
        np.array([2, 2, 3, 3, 3]),
        np.array([0, 1, 0, 1, 2]),
        np.array([1.0, 2, 3, 4, 5]),
        np.array([2, 3]),
        3,
    )
    assert a.profile_sum(2).tolist() == [1.0, 2.0]
    assert a.profile_sum(3).tolist() == [3.0, 4.0, 5.0]
    b = ShapeSums.from_flat(np.array([1]), np.array([0]), np.array([7.0]), np.array([1]), 1)
    m = a.merge(b)
    assert m.max_duration == 3
    assert m.counts.tolist() == [1, 1, 1]
    assert m.profile_sum(1).tolist() == [7.0]
    assert np.isnan(ShapeSums.empty(4).mean_profile(4)).all()


def test_round_trip_and_damage_detected():
    a = ShapeSums.from_flat(
        np.array([2, 2]), np.array([0, 1]), np.array([1.0, 2]), np.array([2]), 4
    )
    b = ShapeSums.from_arrays(a.to_arrays())
    np.testing.assert_array_equal(a.sums, b.sums)
    bad = a.to_arrays()
    bad["sums"] = bad["sums"][:-1]
    with pytest.raises(ValueError, match="damaged"):
        ShapeSums.from_arrays(bad)
    with pytest.raises(ValueError):
        a.profile_sum(5)
