"""<S>(T) weighted least squares against a slow twin and known slopes."""

import numpy as np
import pytest

import crackle as ck
from crackle.stats.scaling import predicted_exponent


def slow_wls(sizes, durations, tmin, tmax, min_count):
    xs, ys, ws = [], [], []
    for t in range(tmin, tmax + 1):
        s = sizes[durations == t]
        if s.size < min_count or np.ptp(s) == 0:  # all sizes equal
            continue
        xs.append(np.log(t))
        ys.append(np.log(s.mean()))
        ws.append(s.size / np.var(np.log(s), ddof=1))
    # np.polyfit weights multiply residuals, so pass sqrt of the WLS weights.
    slope, intercept = np.polyfit(xs, ys, 1, w=np.sqrt(ws))
    return slope, intercept


@pytest.mark.parametrize("gamma", [1.3, 1.5, 2.0, 2.7])
def test_recovers_known_slope(gamma):
    rng = np.random.default_rng(0)
    t = rng.integers(1, 200, 50_000)
    s = 0.7 * t**gamma * rng.lognormal(0, 0.3, t.size)
    fit = ck.fit_size_duration(s, t)
    assert abs(fit.exponent - gamma) < 3 * fit.stderr + 1e-3
    assert fit.stderr < 0.01


def test_matches_slow_twin():
    rng = np.random.default_rng(1)
    t = rng.integers(1, 60, 5000)
    s = t**1.8 * rng.lognormal(0, 0.5, t.size)
    s[t == 7] = 3.0  # a duration of identical sizes must be dropped, not weighted infinitely
    fit = ck.fit_size_duration(s, t, tmin=2, tmax=50, min_count=10)
    slope, intercept = slow_wls(s, t, 2, 50, 10)
    assert fit.exponent == pytest.approx(slope, rel=1e-10)
    assert fit.intercept == pytest.approx(intercept, rel=1e-10)
    assert fit.n_dropped_constant == 1
    np.testing.assert_allclose(fit.predict([10.0]), np.exp(intercept) * 10.0**slope)


def test_counts_what_it_dropped():
    t = np.array([1, 2, 2, 3, 3, 4, 4, 5])
    s = np.array([1.0, 2, 3, 4, 6, 7, 9, 20])
    fit = ck.fit_size_duration(s, t, min_count=2)
    assert fit.n_dropped_few == 2  # T = 1 and T = 5 hold one avalanche each
    assert fit.n_durations == 3
    assert fit.to_dict()["n_dropped_few"] == 2


def test_predicted_exponent_and_error():
    v, e = predicted_exponent(1.5, 2.0, 0.01, 0.02)
    assert v == 2.0
    assert e == pytest.approx(np.hypot(0.02 / 0.5, 1.0 * 0.01 / 0.25))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"sizes": [1.0, 2.0], "durations": [1, 2, 3]}, "'durations'"),
        ({"sizes": [1.0, np.nan, 3], "durations": [1, 2, 3]}, "'sizes'"),
        ({"sizes": [1.0, 0.0, 3], "durations": [1, 2, 3]}, "'sizes'"),
        ({"sizes": [1.0, 2.0, 3], "durations": [1, 2, 3]}, "'durations'"),  # too few usable
        ({"sizes": [1.0, 2.0, 3], "durations": [1, 2, 3], "tmin": 3, "tmax": 2}, "'tmax'"),
    ],
)
def test_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ck.fit_size_duration(**kwargs)


def test_very_long_durations_are_tabulated_without_a_dense_table():
    # Durations of 10^7 bins: the table holds one entry per duration present, so the
    # fit needs kilobytes, not the hundreds of megabytes of a table indexed by duration
    # (a duration of 4 x 10^9 bins asked for 27 GiB).
    import tracemalloc

    rng = np.random.default_rng(3)
    t = np.repeat(np.array([1, 2, 4, 8, 16, 10**7, 3 * 10**7]), 20)
    s = t**1.5 * np.exp(rng.normal(0, 0.1, t.size))
    tracemalloc.start()
    fit = ck.fit_size_duration(s, t)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6
    assert fit.exponent == pytest.approx(1.5, abs=0.02)
    short = ck.fit_size_duration(s[t < 100], t[t < 100])
    assert short.exponent == pytest.approx(1.5, abs=0.05)
