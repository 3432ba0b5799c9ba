"""crackle.nn.record: signals, selection, hooks removed, outputs unchanged, clear errors."""

import re
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import crackle as ck
from crackle.nn import BatchNormTrainingWarning


def n_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_signals_match_a_plain_loop(mlp):
    x = torch.randn(7, 6)
    with ck.nn.record(mlp, modules=nn.Linear) as rec:
        out = mlp(x)
        mlp(x[:3])
    assert rec.names == ["0", "2", "4"]
    assert rec.signals.shape == (10, 3)
    h = x
    expected = []
    for layer in mlp:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            expected.append(h.detach().pow(2).mean(dim=1))
    np.testing.assert_allclose(rec.signals[:7], torch.stack(expected, 1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(rec.signals[7:], rec.signals[:3], rtol=1e-6)
    assert torch.equal(out, mlp(x))


def test_norm_statistic(small_cnn):
    x = torch.randn(4, 3, 8, 8)
    with ck.nn.record(small_cnn, modules=nn.Conv2d, stat="norm") as rec:
        small_cnn(x)
    ref = small_cnn[0](x).detach().reshape(4, -1).norm(dim=1)
    np.testing.assert_allclose(rec.signals[:, 0], ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("modules", "names"),
    [
        (None, ["0", "1", "2", "3", "4", "5"]),
        ("leaves", ["0", "1", "2", "3", "4", "5"]),
        ((nn.Conv2d, nn.Linear), ["0", "5"]),
        ("[0-2]", ["0", "1", "2"]),
        (re.compile(r"[35]"), ["3", "5"]),
        ([nn.ReLU, "5"], ["2", "5"]),
    ],
)
def test_selection(small_cnn, modules, names):
    with ck.nn.record(small_cnn, modules=modules) as rec:
        small_cnn(torch.randn(2, 3, 8, 8))
    assert rec.names == names


def test_default_for_non_sequential_is_leaves_with_parameters():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
            self.head = nn.Linear(3, 1)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    with ck.nn.record(net) as rec:
        net(torch.randn(2, 3))
    assert rec.names == ["body.0", "head"]


def test_layers_in_call_order_and_repeated_calls():
    class Reuse(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Linear(4, 4)
            self.a = nn.ReLU()

        def forward(self, x):
            return self.a(self.b(self.a(self.b(x))))

    net = Reuse()
    with ck.nn.record(net, modules="leaves") as rec:
        net(torch.randn(3, 4))
    assert rec.names == ["b", "a", "b#2", "a#2"]


def test_recorder_never_changes_outputs(small_cnn):
    x = torch.randn(5, 3, 8, 8)
    before = small_cnn(x)
    with ck.nn.record(small_cnn, modules="leaves"):
        during = small_cnn(x)
    after = small_cnn(x)
    assert torch.equal(before, during)
    assert torch.equal(before, after)


def test_hooks_removed_on_error_and_when_nested(small_cnn):
    assert n_hooks(small_cnn) == 0
    with pytest.raises(KeyError), ck.nn.record(small_cnn, modules="leaves"):
        assert n_hooks(small_cnn) > 0
        raise KeyError("boom")
    assert n_hooks(small_cnn) == 0
    with ck.nn.record(small_cnn, modules=nn.Conv2d) as outer:
        n_outer = n_hooks(small_cnn)
        with pytest.raises(ValueError), ck.nn.record(small_cnn, modules="leaves") as inner:
            small_cnn(torch.randn(2, 3, 8, 8))
            assert n_hooks(small_cnn) > n_outer
            small_cnn(torch.randn(2, 5, 8, 8))  # wrong channels -> clear ValueError
        assert n_hooks(small_cnn) == n_outer
        small_cnn(torch.randn(1, 3, 8, 8))
    assert n_hooks(small_cnn) == 0
    assert outer.signals.shape == (3, 1)
    assert inner.signals.shape == (2, 6)


def test_wrong_input_shape_names_the_expected_shape(mlp):
    with (
        pytest.raises(ValueError, match=r"input shape \(N, 6\).*Got shape \(2, 5\)"),
        ck.nn.record(mlp),
    ):
        mlp(torch.randn(2, 5))
    assert n_hooks(mlp) == 0


def test_nan_activations_are_a_clear_error(mlp):
    with (
        pytest.raises(ValueError, match="layer '0' is NaN or infinite for sample 1"),
        ck.nn.record(mlp),
    ):
        x = torch.randn(3, 6)
        x[1, 0] = float("inf")
        mlp(x)
    assert n_hooks(mlp) == 0


def test_no_match_lists_available_names(mlp):
    with (
        pytest.raises(ValueError, match=r"available names: '0', '1', '2'"),
        ck.nn.record(mlp, modules=nn.Conv2d),
    ):
        pass


def test_training_mode_with_batch_norm_warns_and_says_so(small_cnn):
    small_cnn.train()
    with (
        pytest.warns(BatchNormTrainingWarning, match="statistics of its own batch"),
        ck.nn.record(small_cnn) as rec,
    ):
        small_cnn(torch.randn(4, 3, 8, 8))
    assert rec.training_batch_norm
    small_cnn.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ck.nn.record(small_cnn) as rec:
            small_cnn(torch.randn(4, 3, 8, 8))
    assert not rec.training_batch_norm


def test_tuple_outputs_use_the_first_tensor():
    lstm = nn.LSTM(3, 5, batch_first=True)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x):
            return self.lstm(x)[0]

    net = Wrap()
    x = torch.randn(2, 4, 3)
    with ck.nn.record(net, modules=nn.LSTM) as rec:
        y = net(x)
    np.testing.assert_allclose(rec.signals[:, 0], y.detach().pow(2).mean(dim=(1, 2)), rtol=1e-6)
    assert rec.to_dict()["names"] == ["lstm"]
