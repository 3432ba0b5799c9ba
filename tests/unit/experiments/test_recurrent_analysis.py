"""The analysis of the recurrent-criticality experiment on processes of known m, and the
transformer's causal mask and parameter matching."""

import numpy as np
import pytest
import torch

import crackle as ck
from crackle.experiments._lstm_models import CharLM
from crackle.experiments._recurrent_analysis import (
    active_counts_pooled,
    analyse_states,
    mixture_account,
    unit_branching,
)
from crackle.experiments._transformer import (
    CharTransformer,
    layer_states,
    lstm_parameters,
    matched_width,
    n_parameters,
    transformer_parameters,
)
from crackle.sim import driven_branching_process


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def hidden_from_counts(a, n_units, seed):
    """Hidden states (n, T, n_units) with exactly a[s, t] units at 1, the others at 0:
    each unit is on in a fraction p << 1/2 of steps, so with theta = 1 the units with
    |z| > theta are exactly those that are on."""
    rng = np.random.default_rng(seed)
    n, t_len = a.shape
    h = np.zeros((n, t_len, n_units), dtype=np.float32)
    for s in range(n):
        for t in range(t_len):
            h[s, t, rng.choice(n_units, size=int(a[s, t]), replace=False)] = 1.0
    return h


def twin_counts(h, theta):
    """A_t by loops: each unit z-scored over all steps of all sequences."""
    n, t_len, units = h.shape
    out = np.zeros((n, t_len), np.int64)
    for u in range(units):
        v = h[:, :, u].astype(np.float64)
        if v.max() == v.min():
            continue
        z = np.abs(v - v.mean()) / v.std()
        out += (z > theta).astype(np.int64)
    return out


def test_counts_match_their_loop_twin():
    rng = np.random.default_rng(0)
    h = np.cumsum(rng.normal(size=(4, 50, 7)), axis=1)
    h[:, :, 3] = 0.5  # silent
    counts, n_silent = active_counts_pooled(h, 1.2)
    np.testing.assert_array_equal(counts, twin_counts(h, 1.2))
    assert n_silent == 1


@pytest.mark.slow
def test_a_branching_process_in_the_hidden_states_gives_its_m_in_the_pipeline():
    # 64 trials of 512 steps, as the experiment's held-out sequences; m = 0.9.
    run = driven_branching_process(0.9, 1.0, 512, n_trials=64, seed=3)
    a = np.asarray(run.activity)
    assert a.max() < 0.3 * 400
    h = hidden_from_counts(a, 400, seed=4)
    row = analyse_states(h, theta=1.0, percentile=50, kmax=50, n_boot=50, seed=0,
                         min_avalanches=50, crackling=False)  # fmt: skip
    assert row["n_silent_units"] == 0
    direct = ck.branching_ratio(a.astype(float), coefficients="sm", kmax=50, n_boot=50, seed=0)
    assert row["m"] == direct.m  # the construction is exact: same A_t, same estimator
    assert row["m_valid"]
    assert abs(row["m"] - 0.9) < 3 * row["m_stderr"] + 0.005


def test_constant_sequences_are_counted_and_kept():
    run = driven_branching_process(0.8, 2.0, 300, n_trials=40, seed=7)
    a = np.asarray(run.activity).copy()
    a[:8] = 0  # eight silent sequences (A_t = 0 throughout)
    h = hidden_from_counts(a, 150, seed=8)
    row = analyse_states(h, theta=1.0, percentile=50, kmax=30, n_boot=0, seed=0,
                         min_avalanches=50, crackling=False)  # fmt: skip
    assert row["n_constant_sequences"] == 8
    # Stationary mean: every sequence enters, the silent ones included.
    assert row["m"] == ck.branching_ratio(a.astype(float), coefficients="sm", kmax=30,
                                          n_boot=0).m  # fmt: skip
    assert row["n_sequences"] == 40


def ar1_units(ms, n, t_len, seed):
    """Independent AR(1) units x_{t+1} = m x_t + noise, shape (n, t_len, len(ms))."""
    rng = np.random.default_rng(seed)
    ms = np.asarray(ms)
    x = np.zeros((n, t_len + 200, ms.size))
    x[:, 0] = rng.normal(size=(n, ms.size)) / np.sqrt(1 - ms**2)
    eps = rng.normal(size=x.shape)
    for t in range(1, x.shape[1]):
        x[:, t] = ms * x[:, t - 1] + eps[:, t]
    return x[:, 200:]


def test_unit_branching_recovers_each_units_m():
    ms = np.array([0.6, 0.8, 0.9, 0.95])  # tau from 2 to 20 lags, inside 1..kmax
    h = ar1_units(ms, 32, 512, seed=1)
    m_i, ok = unit_branching(h, kmax=40)
    np.testing.assert_allclose(m_i, ms, atol=0.03)
    assert ok.all()


@pytest.mark.slow
def test_mixture_account_slope_from_m_i_matches_the_measured_slope():
    # Units with m_i ~ Beta(6, 1.5) (mean 0.8, a heavy end near 1): the slope their
    # measured m_i predict equals the measured slope of their averaged spectrum.
    rng = np.random.default_rng(2)
    ms = rng.beta(6.0, 1.5, 120)
    # Innovation variance 1 / (1 - m_i): the spectrum of a driven branching process
    # per unit drive, the components of the mixture model.
    h = ar1_units(ms, 24, 1024, seed=3) / np.sqrt(1 - ms)
    out = mixture_account(h, kmax=100)
    assert out["frac_units_valid"] > 0.8
    assert abs(out["beta_from_m_i"] - out["beta_units"]) < 0.15
    assert out["beta_units"] > 0.3  # not white


def test_transformer_is_causal_and_windowed():
    torch.manual_seed(0)
    model = CharTransformer(11, 8, n_layers=2, n_heads=2, window=5).eval()
    x = torch.randint(0, 11, (2, 20))
    base = model(x)
    for t in (0, 7, 18):
        y = x.clone()
        y[:, t + 1 :] = (y[:, t + 1 :] + 3) % 11  # change every input after t
        out = model(y)
        torch.testing.assert_close(out[:, : t + 1], base[:, : t + 1], rtol=0, atol=0)
        if t + 1 < 20:
            assert not torch.allclose(out[:, t + 1 :], base[:, t + 1 :])
    # Each layer looks back window - 1 steps: inputs more than
    # n_layers * (window - 1) = 8 steps back do not reach step t.
    y = x.clone()
    y[:, :10] = (y[:, :10] + 5) % 11
    out = model(y)
    torch.testing.assert_close(out[:, 18:], base[:, 18:], rtol=0, atol=0)
    assert not torch.allclose(out[:, 17], base[:, 17])
    states = layer_states(model, x, batch_size=1)
    assert states.shape == (2, 2, 20, 8)


def test_parameter_counts_and_matching():
    for h in (4, 8, 64):
        assert lstm_parameters(50, h) == n_parameters(CharLM(50, h))
    for d in (4, 10, 32):
        assert transformer_parameters(50, d, 2) == n_parameters(CharTransformer(50, d))
    target = lstm_parameters(108, 128)
    d = matched_width(108, target)
    got = transformer_parameters(108, d, 2)
    for other in (d - 2, d + 2):
        assert abs(np.log(transformer_parameters(108, other, 2) / target)) >= abs(
            np.log(got / target)
        )
    assert abs(got / target - 1) < 0.05
