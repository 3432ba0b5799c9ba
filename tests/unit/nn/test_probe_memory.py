"""Batches whose activations cannot fit are refused before they are allocated, with the
estimate and the limit."""

import pytest
import torch
from torch import nn

import crackle as ck
from crackle.nn._memory import per_input_bytes

PROBES = {
    "branching_parameter": lambda m, x, bs: ck.nn.branching_parameter(m, x, batch_size=bs),
    "lyapunov_exponent": lambda m, x, bs: ck.nn.lyapunov_exponent(m, x, batch_size=bs),
    "lyapunov_spectrum": lambda m, x, bs: ck.nn.lyapunov_spectrum(m, x, batch_size=bs),
    "random_direction_rate": lambda m, x, bs: ck.nn.random_direction_rate(m, x, batch_size=bs),
    "dynamic_range": lambda m, x, bs: ck.nn.dynamic_range(m, x, batch_size=bs),
    "layer_signals": lambda m, x, bs: ck.nn.layer_signals(m, x, batch_size=bs),
}


def wide_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 4096), nn.Tanh(), nn.Linear(4096, 16), nn.Tanh())


def test_per_input_bytes_counts_each_output_once():
    net = wide_net()
    largest, total = per_input_bytes(net, net, torch.randn(1, 16), "t")
    assert largest == 4096 * 4  # float32 entries of the widest output
    # Linear(4096), Tanh(4096), Linear(16), Tanh(16); the Sequential's output is the last
    # Tanh's tensor, counted once
    assert total == (4096 + 4096 + 16 + 16) * 4


@pytest.mark.parametrize("probe", list(PROBES))
def test_a_batch_beyond_the_limit_is_refused_before_it_runs(probe, monkeypatch):
    monkeypatch.setenv("CRACKLE_MEMORY_LIMIT_GB", str(1 / 1024))  # 1 MiB
    net = wide_net()
    x = torch.randn(256, 16)
    batches = []
    net.register_forward_pre_hook(lambda m, args: batches.append(args[0].shape[0]))
    with pytest.raises(ck.CrackleValueError) as err:
        PROBES[probe](net, x, 256)
    msg = str(err.value)
    assert "batch of 256 input(s)" in msg
    assert "the limit is 1 MiB" in msg
    assert "CRACKLE_MEMORY_LIMIT_GB" in msg
    assert "batch_size" in msg
    assert set(batches) <= {1}  # only the one-input pass that measures ran
    # a batch that fits runs
    PROBES[probe](net, x[:8], 2)


def test_the_message_says_where_the_limit_comes_from(monkeypatch):
    from crackle._validation import check_memory, memory_limit

    monkeypatch.delenv("CRACKLE_MEMORY_LIMIT_GB", raising=False)
    with pytest.raises(ck.CrackleValueError, match="3/4 of this machine's memory"):
        check_memory(2.0 * memory_limit(), "a test", "f")
    monkeypatch.setenv("CRACKLE_MEMORY_LIMIT_GB", "0.25")
    with pytest.raises(
        ck.CrackleValueError, match=r"limit is 0.25 GiB \(CRACKLE_MEMORY_LIMIT_GB\)"
    ):
        check_memory(2**30, "a test", "f")
    with pytest.raises(ck.CrackleValueError, match=r"the device's memory"):
        check_memory(2**30, "a test", "f", limit=2**20)
