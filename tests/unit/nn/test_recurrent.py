"""crackle.nn.recurrent: hidden states, hidden-state avalanches, checkpoints, bad input."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import crackle as ck
from crackle.nn.recurrent import (
    active_counts,
    checkpoint_criticality,
    hidden_state_criticality,
    hidden_states,
    recurrent_criticality,
)
from crackle.sim import driven_branching_process


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: on a busy 2-core machine two threads make small LSTMs crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- the slow, obvious twin --------------------------------------------------------


def twin_counts(h, theta, per_sequence=False):
    """A_t by loops: z-score each unit over the pool (or the sequence), count |z| > theta."""
    n, t_len, units = h.shape
    counts = np.zeros((n, t_len), dtype=np.int64)
    for u in range(units):
        for s in range(n):
            values = h[s, :, u] if per_sequence else h[:, :, u].ravel()
            mean = sum(values) / len(values)
            std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
            if max(values) == min(values):
                continue
            for t in range(t_len):
                if abs((h[s, t, u] - mean) / std) > theta:
                    counts[s, t] += 1
    return counts


def twin_avalanches(counts, threshold):
    """(complete, censored) lists of (size, duration): runs of counts > threshold."""
    complete, censored = [], []
    for row in counts:
        t = 0
        while t < len(row):
            if row[t] > threshold:
                start = t
                while t < len(row) and row[t] > threshold:
                    t += 1
                run = (float(sum(row[start:t])), t - start)
                (censored if start == 0 or t == len(row) else complete).append(run)
            else:
                t += 1
    return complete, censored


def correlated_hidden(seed, shape=(3, 60, 9)):
    rng = np.random.default_rng(seed)
    h = np.cumsum(rng.normal(size=shape), axis=1) * 0.3 + rng.normal(size=shape)
    h[:, :, 0] = 0.25  # a constant unit: never active
    return h


@pytest.mark.parametrize("theta", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("zscore", ["pooled", "per_sequence"])
def test_counts_equal_the_twin(theta, zscore):
    h = correlated_hidden(1)
    counts, n_silent = active_counts(h, theta, zscore=zscore)
    np.testing.assert_array_equal(counts, twin_counts(h, theta, zscore == "per_sequence"))
    assert n_silent == (1 if zscore == "pooled" else 3)


@pytest.mark.parametrize("percentile", [None, 30.0, 50.0, 80.0])
def test_avalanches_equal_the_twin(percentile):
    h = correlated_hidden(2, shape=(4, 80, 12))
    res = hidden_state_criticality(h, 1.2, percentile=percentile, n_boot=0)
    counts = twin_counts(h, 1.2)
    thr = 0.0 if percentile is None else float(np.percentile(counts, percentile))
    assert res.count_threshold == thr
    complete, censored = twin_avalanches(counts, thr)
    av = res.avalanches
    assert list(zip(av.sizes.tolist(), av.durations.tolist(), strict=True)) == complete
    assert sorted(zip(av.censored_sizes.tolist(), av.censored_durations.tolist(), strict=True)) == (
        sorted(censored)
    )
    assert res.fraction_above == pytest.approx(float((counts > thr).mean()))
    assert res.mean_active == pytest.approx(float(counts.mean()))


# --- exact construction: A_t is a known branching process ---------------------------


def hidden_from_counts(a, n_units, seed):
    """Hidden states (n, T, n_units) with exactly a[s, t] units at 1, the others at 0.

    Each unit is on in a fraction p << 1/2 of steps, so its z-score is
    sqrt((1 - p)/p) > 1 when on and sqrt(p/(1 - p)) < 1 when off: theta = 1 counts
    exactly the units that are on.
    """
    rng = np.random.default_rng(seed)
    n, t_len = a.shape
    h = np.zeros((n, t_len, n_units), dtype=np.float32)
    for s in range(n):
        for t in range(t_len):
            h[s, t, rng.choice(n_units, size=int(a[s, t]), replace=False)] = 1.0
    return h


def test_a_branching_process_in_the_hidden_states_gives_its_m():
    run = driven_branching_process(0.9, 2.0, 6000, n_trials=4, seed=5)
    a = np.asarray(run.activity)
    assert a.max() < 0.3 * 600
    h = hidden_from_counts(a, 600, seed=6)
    res = hidden_state_criticality(h, theta=1.0, kmax=40, n_boot=20, seed=0)
    np.testing.assert_array_equal(res.counts, a)  # the construction is exact
    kw = {"method": "mr", "kmax": 40, "n_boot": 20, "seed": 0}
    direct = ck.branching_ratio(a.astype(float), coefficients="sm", **kw)
    assert res.coefficients == "sm"
    assert res.m == direct.m
    assert res.branching.m_stderr == direct.m_stderr
    assert abs(res.m - 0.9) < 3 * res.branching.m_stderr + 0.005
    assert res.n_constant_sequences == 0
    assert res.summary()["m_valid"]
    assert res.summary()["m_reasons"] == ""
    ts = hidden_state_criticality(h, theta=1.0, kmax=40, n_boot=20, seed=0, coefficients="ts")
    assert ts.m == ck.branching_ratio(a.astype(float), coefficients="ts", **kw).m
    # A_t of a driven process with mean 20 almost never reaches 0: one run per sequence.
    assert res.avalanches.n + res.avalanches.n_censored <= 4 + int((a == 0).sum())


def test_a_stimulus_locked_time_course_biases_m_and_the_residual_removes_it():
    t = np.arange(60)
    profile = np.rint(25 * np.sin(np.pi * t / 60) ** 2).astype(np.int64)
    run = driven_branching_process(0.6, 2.0, 60, n_trials=300, seed=12)
    a = np.asarray(run.activity) + profile
    h = hidden_from_counts(a, 400, seed=13)
    res = hidden_state_criticality(h, theta=1.0, kmax=10, n_boot=20, seed=0)
    np.testing.assert_array_equal(res.counts, a)
    resid = a - a.mean(axis=0)
    direct = ck.branching_ratio(resid - resid.min(), coefficients="sm", kmax=10, n_boot=20, seed=0)
    assert res.branching_residual.m == direct.m
    assert res.summary()["m_residual"] == direct.m
    # Without the time course, MR on the process itself:
    alone = ck.branching_ratio(np.asarray(run.activity), coefficients="sm", kmax=10, n_boot=0).m
    assert abs(res.branching_residual.m - alone) < 0.01
    assert res.m > 0.8  # the shared time course looks like slow, near-critical decay


def test_short_sequences_keep_every_sequence_and_the_true_m_with_stationary_mean():
    # 400 sequences of 28 steps (an image read row by row) of a process with m = 0.9
    # and a low drive: A_t is often constant (0) over a whole sequence. The
    # trial-separated estimator must drop those sequences, and its per-sequence means
    # bias it low; the stationary-mean one keeps all and finds m within its errors.
    run = driven_branching_process(0.9, 0.05, 28, n_trials=400, seed=21)
    a = np.asarray(run.activity)
    h = hidden_from_counts(a, 100, seed=22)
    kw = {"theta": 1.0, "kmax": 8, "n_boot": 50, "seed": 0}
    sm = hidden_state_criticality(h, **kw)
    ts = hidden_state_criticality(h, coefficients="ts", **kw)
    np.testing.assert_array_equal(sm.counts, a)
    assert sm.n_constant_sequences == ts.n_constant_sequences > 0
    assert any("left out" in n for n in ts.notes)
    assert not any("left out" in n for n in sm.notes)
    assert sm.branching.n_trials == 400 > ts.branching.n_trials
    assert abs(sm.m - 0.9) < 3 * sm.branching.m_stderr
    assert ts.m < 0.9 - 3 * ts.branching.m_stderr


def test_enough_avalanches_get_the_crackling_battery_and_too_few_a_note():
    run = driven_branching_process(0.5, 0.5, 4000, n_trials=2, seed=8)
    a = np.asarray(run.activity)
    h = hidden_from_counts(a, 50, seed=9)
    res = hidden_state_criticality(h, theta=1.0, n_boot=0, min_avalanches=100)
    np.testing.assert_array_equal(res.counts, a)
    assert res.avalanches.n >= 100
    assert res.report is not None
    assert np.isfinite(res.report.tau)
    assert np.isfinite(res.summary()["alpha"])
    few = hidden_state_criticality(h, theta=1.0, n_boot=0, min_avalanches=10**6)
    assert few.report is None
    assert np.isnan(few.summary()["tau"])
    assert any("min_avalanches" in note for note in few.notes)
    assert few.dfa is not None
    assert few.psd is not None


def test_uncorrelated_activity_gives_no_valid_m():
    h = np.random.default_rng(4).normal(size=(4, 2000, 16))
    res = hidden_state_criticality(h, theta=1.5, kmax=20, n_boot=0)
    row = res.summary()
    assert not row["m_valid"]
    assert not row["m_residual_valid"]
    assert res.branching is not None
    assert (not res.branching.success) or res.branching.b < 0.05 or not res.branching.valid
    assert row["m_reasons"] != ""
    assert any("not valid" in n or "edge of its range" in n for n in res.notes)


def test_to_dict_is_strict_json():
    res = hidden_state_criticality(correlated_hidden(3, (2, 150, 6)), 1.0, n_boot=5)
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert '"theta": 1.0' in text


# --- hidden states from torch modules -----------------------------------------------


class Wrapped(nn.Module):
    """A model holding a time-major GRU and a readout."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3, 4)
        self.rnn = nn.GRU(4, 6)  # batch_first=False
        self.head = nn.Linear(6, 2)

    def forward(self, x):  # x: (n, T, 3), batch first like most models
        out, _ = self.rnn(self.embed(x).transpose(0, 1))
        return self.head(out[-1])


class Stepper(nn.Module):
    """Calls its LSTM one step at a time."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)

    def forward(self, x):
        state = None
        for t in range(x.shape[1]):
            _, state = self.lstm(x[:, t : t + 1], state)
        return state[0]


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_bare_modules_give_their_output_sequence(cls):
    torch.manual_seed(0)
    rnn = cls(3, 7, num_layers=2, batch_first=True)
    x = torch.randn(10, 12, 3)
    h = hidden_states(rnn, x, batch_size=3)  # four batches
    with torch.no_grad():
        np.testing.assert_allclose(h, rnn(x)[0].numpy(), rtol=1e-6, atol=1e-6)


def test_time_major_module_and_a_model_containing_it():
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4)  # (T, n, F)
    x = torch.randn(9, 5, 3)
    with torch.no_grad():
        expected = lstm(x)[0].transpose(0, 1).numpy()
    np.testing.assert_allclose(hidden_states(lstm, x, batch_size=2), expected, atol=1e-6)

    model = Wrapped().train()
    xb = torch.randn(5, 9, 3)
    h = hidden_states(model, xb)
    with torch.no_grad():
        expected = model.rnn(model.embed(xb).transpose(0, 1))[0].transpose(0, 1).numpy()
    np.testing.assert_allclose(h, expected, atol=1e-6)
    assert model.training  # mode restored
    assert not model.rnn._forward_hooks  # hook removed


def test_a_model_that_steps_through_time_gets_its_steps_joined():
    torch.manual_seed(2)
    model = Stepper()
    x = torch.randn(4, 8, 3)
    with torch.no_grad():
        expected = model.lstm(x)[0].numpy()
    np.testing.assert_allclose(hidden_states(model, x), expected, atol=1e-6)


def test_recurrent_criticality_equals_the_analysis_of_the_hidden_states():
    torch.manual_seed(3)
    lstm = nn.LSTM(2, 10, batch_first=True)
    x = torch.randn(6, 120, 2)
    res = recurrent_criticality(lstm, x, theta=1.5, percentile=50, n_boot=10)
    ref = hidden_state_criticality(hidden_states(lstm, x), 1.5, percentile=50, n_boot=10)
    assert res.summary() == pytest.approx(ref.summary(), nan_ok=True)


def test_checkpoints_give_one_row_each_and_the_model_keeps_its_weights(tmp_path):
    torch.manual_seed(4)
    lstm = nn.LSTM(2, 8, batch_first=True)
    x = torch.randn(5, 90, 2)
    paths = {}
    for step in (0, 10):
        other = nn.LSTM(2, 8, batch_first=True)
        torch.save(other.state_dict(), tmp_path / f"s{step}.pt")
        paths[step] = tmp_path / f"s{step}.pt"
    before = {k: v.clone() for k, v in lstm.state_dict().items()}
    table = checkpoint_criticality(lstm, paths, x, theta=1.0, n_boot=0)
    assert table["checkpoint"].tolist() == [0, 10]
    for k, v in lstm.state_dict().items():
        assert torch.equal(v, before[k])
    ref = nn.LSTM(2, 8, batch_first=True)
    ref.load_state_dict(torch.load(paths[10], weights_only=True))
    expected = recurrent_criticality(ref, x, theta=1.0, n_boot=0).summary()
    row = table.iloc[1]
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, nan_ok=True), key
    # state dicts in memory work too
    table2 = checkpoint_criticality(lstm, [ref.state_dict()], x, theta=1.0, n_boot=0)
    assert table2.iloc[0]["m"] == pytest.approx(expected["m"])


# --- bad input ----------------------------------------------------------------------


def test_bad_input_gives_clear_errors(tmp_path):
    lstm = nn.LSTM(3, 4, batch_first=True)
    good = torch.randn(2, 10, 3)
    with pytest.raises(
        ck.CrackleValueError, match=r"'sequences'.*\(n, T, input_size\).*input_size = 3"
    ):
        hidden_states(lstm, torch.randn(2, 10, 5))
    with pytest.raises(ck.CrackleValueError, match=r"'sequences'.*shape \(10, 3\)"):
        hidden_states(lstm, torch.randn(10, 3))
    for theta in (0.0, -1.0, float("nan")):
        with pytest.raises(ck.CrackleValueError, match="'theta' parameter of hidden_state"):
            recurrent_criticality(lstm, good, theta=theta)
    with pytest.raises(ck.CrackleValueError, match="no recurrent module"):
        hidden_states(nn.Sequential(nn.Linear(3, 3)), good)
    two = nn.ModuleDict({"a": nn.LSTM(3, 4), "b": nn.GRU(3, 4)})
    with pytest.raises(ck.CrackleValueError, match=r"several recurrent modules \('a', 'b'\)"):
        hidden_states(two, good)
    with pytest.raises(ck.CrackleValueError, match="'module' parameter"):
        hidden_states(Wrapped(), good, module="nope")
    broken = nn.LSTM(3, 4, batch_first=True)
    with torch.no_grad():
        broken.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ck.CrackleValueError, match=r"finite.*diverged.*2 sequence"):
        recurrent_criticality(broken, good)
    with pytest.raises(ck.CrackleValueError, match=r"'hidden'.*\(n_sequences, T, n_units\)"):
        hidden_state_criticality(np.zeros(10))
    with pytest.raises(ck.CrackleValueError, match="T >= 3"):
        hidden_state_criticality(np.zeros((1, 2, 4)))
    with pytest.raises(ck.CrackleValueError, match="'percentile'"):
        hidden_state_criticality(np.random.default_rng(0).normal(size=(1, 50, 3)), percentile=100)
    with pytest.raises(ck.CrackleValueError, match="'kmax'"):
        hidden_state_criticality(np.random.default_rng(0).normal(size=(1, 50, 3)), kmax=25)
    with pytest.raises(ck.CrackleValueError, match="'zscore'"):
        active_counts(np.zeros((1, 5, 2)), zscore="global")
    bad_file = tmp_path / "bad.pt"
    bad_file.write_bytes(b"not a checkpoint")
    with pytest.raises(ck.CrackleValueError, match="not a readable torch checkpoint"):
        checkpoint_criticality(lstm, [bad_file], good)
    with pytest.raises(ck.CrackleValueError, match="'checkpoints'"):
        checkpoint_criticality(lstm, 3.0, good)
