"""Spearman's rho with two-stage bootstrap intervals, on data whose answer is known."""

import math

import numpy as np
import pytest
from scipy import stats

from crackle import CrackleValueError
from crackle.experiments._rank_bootstrap import (
    _draws,
    paired_rank_difference,
    rank_bootstrap,
    spearman_rows,
)


def test_spearman_rows_matches_scipy_row_by_row():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, size=(50, 12)).astype(float)  # many ties
    y = x + rng.normal(size=x.shape)
    fast = spearman_rows(x, y)
    slow = [stats.spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_draws_match_the_slow_loop_on_the_same_indices():
    # The slow, obvious twin of the vectorised two-stage bootstrap: the same generator
    # state, indices drawn in the same order, then a Python loop over draws.
    rng = np.random.default_rng(3)
    resp = rng.normal(size=(15, 3))
    pred = rng.normal(size=15)
    fast = _draws(resp, pred[:, None], 40, np.random.default_rng(9))[:, 0]
    g = np.random.default_rng(9)
    cells = g.integers(0, 15, size=(40, 15))
    reps = g.integers(0, 3, size=(40, 15, 3))
    slow = []
    for b in range(40):
        means = [resp[c, reps[b, t]].mean() for t, c in enumerate(cells[b])]
        slow.append(stats.spearmanr(means, pred[cells[b]]).statistic)
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_exact_monotone_relation_gives_rho_one_with_a_degenerate_interval():
    x = np.linspace(0, 1, 25)
    out = rank_bootstrap(np.column_stack([x**3] * 3), {"x": x, "-x": -x}, seed=1, n_boot=300)
    assert out["x"].rho == pytest.approx(1.0)
    assert (out["x"].low, out["x"].high) == (1.0, 1.0)
    assert out["-x"].rho == pytest.approx(-1.0)
    assert out["x"].n == 25


def test_interval_covers_the_population_spearman_of_a_gaussian_pair():
    # For a bivariate normal with correlation r, Spearman's population rho is
    # (6/pi) arcsin(r/2) (Pearson 1907; Kendall & Gibbons 1990, ch. 9).
    r = 0.6
    truth = 6 / math.pi * math.asin(r / 2)
    cov = [[1, r], [r, 1]]
    hits = 0
    trials = 60
    rng = np.random.default_rng(2024)
    for _ in range(trials):
        xy = rng.multivariate_normal([0, 0], cov, size=80)
        ci = rank_bootstrap(xy[:, 0], {"p": xy[:, 1]}, n_boot=400, seed=rng)["p"]
        hits += ci.low <= truth <= ci.high
    # Nominal 95 %: with 60 trials, fewer than 50 hits has probability < 1e-3.
    assert hits >= 50
    assert hits <= trials


def test_independent_predictor_interval_contains_zero():
    rng = np.random.default_rng(5)
    acc = rng.normal(size=(60, 3))
    ci = rank_bootstrap(acc, {"noise": rng.normal(size=60)}, seed=0, n_boot=500)["noise"]
    assert ci.low < 0 < ci.high


def test_seed_noise_widens_the_interval():
    # The same cell means; replicates that disagree more must give a wider interval.
    x = np.linspace(0, 1, 30)
    rng = np.random.default_rng(11)
    offsets = rng.normal(size=(30, 3))
    offsets -= offsets.mean(axis=1, keepdims=True)  # cell means stay x exactly
    quiet = rank_bootstrap(x[:, None] + 0.01 * offsets, {"x": x}, seed=0)["x"]
    loud = rank_bootstrap(x[:, None] + 1.0 * offsets, {"x": x}, seed=0)["x"]
    assert quiet.rho == loud.rho == pytest.approx(1.0)
    assert loud.high - loud.low > 5 * (quiet.high - quiet.low)


def test_nan_predictor_cells_are_left_out():
    x = np.arange(10.0)
    pred = x.copy()
    pred[:4] = np.nan
    ci = rank_bootstrap(x, {"p": pred}, seed=0, n_boot=50)["p"]
    assert ci.n == 6
    assert ci.rho == pytest.approx(1.0)
    few = rank_bootstrap(x, {"p": np.where(x < 8, np.nan, x)}, seed=0)["p"]
    assert few.n == 2
    assert math.isnan(few.rho)


def test_infinite_predictor_ranks_as_the_extreme():
    x = np.arange(8.0)
    pred = x.copy()
    pred[-1] = np.inf
    ci = rank_bootstrap(x, {"p": pred}, seed=0, n_boot=50)["p"]
    assert ci.n == 8
    assert ci.rho == pytest.approx(1.0)


def test_paired_difference_separates_a_good_and_a_poor_predictor():
    rng = np.random.default_rng(8)
    truth = rng.normal(size=80)
    acc = truth[:, None] + 0.3 * rng.normal(size=(80, 3))
    good, poor = truth, truth + 2.0 * rng.normal(size=80)
    d = paired_rank_difference(acc, good, poor, seed=0)
    assert d.low > 0
    same = paired_rank_difference(acc, good, good, seed=0)
    assert same.rho == same.low == same.high == 0.0


def test_to_dict_is_json_safe():
    import json

    ci = rank_bootstrap(np.arange(5.0), {"p": np.arange(5.0)}, seed=0, n_boot=20)["p"]
    assert json.loads(json.dumps(ci.to_dict()))["rho"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: rank_bootstrap(np.ones(5), {"p": np.ones(4)}), "'predictors'"),
        (lambda: rank_bootstrap(np.ones(5), {}), "'predictors'"),
        (lambda: rank_bootstrap([1.0, np.nan, 2.0], {"p": np.ones(3)}), "'response'"),
        (lambda: rank_bootstrap(np.ones(5), {"p": np.ones(5)}, n_boot=0), "'n_boot'"),
        (lambda: rank_bootstrap(np.ones(5), {"p": np.ones(5)}, confidence=1.0), "'confidence'"),
        (lambda: paired_rank_difference(np.ones(5), np.ones(5), np.ones(3)), "'second'"),
    ],
)
def test_bad_input_is_refused_by_name(call, name):
    with pytest.raises(CrackleValueError, match=name):
        call()
