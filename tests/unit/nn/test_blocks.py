"""modules="blocks": layers at the grain of a network's blocks, found with torch.fx."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import crackle as ck
from crackle.nn._blocks import block_view


class FunctionalResNet(nn.Module):
    """Residual blocks written the usual way: functional ReLU and ``out + x``."""

    def __init__(self, width=6, depth=3):
        super().__init__()
        self.stem = nn.Linear(4, width)
        self.convs = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        x = F.relu(self.stem(x))
        for lin in self.convs:
            x = x + F.relu(lin(x))
        return self.head(x)


def test_functional_residual_sums_are_block_outputs():
    torch.manual_seed(0)
    net = FunctionalResNet().eval()
    x = torch.randn(5, 4)
    with ck.nn.record(net, modules="blocks", stat="norm") as rec:
        out = net(x)
    assert rec.names == ["stem", "convs.0", "convs.1", "convs.2", "head"]
    assert "forward" not in net.__dict__  # the traced forward is gone after the block
    assert torch.equal(out, net(x))
    # the recorded signal of a block is the norm of the residual sum, computed by hand
    h = F.relu(net.stem(x))
    want = [h.norm(dim=1)]
    for lin in net.convs:
        h = h + F.relu(lin(h))
        want.append(h.norm(dim=1))
    want.append(net.head(h).norm(dim=1))
    torch.testing.assert_close(torch.tensor(rec.signals), torch.stack(want, 1).double())
    # per-leaf selection sees the linear layers only, not the sums
    assert [n for n, _ in ck.nn._modules.select_modules(net, None, "t")] == [
        "stem",
        "convs.0",
        "convs.1",
        "convs.2",
        "head",
    ]


def test_cnn_with_batch_norm_has_one_layer_per_conv_block():
    # Parameterised leaves alternate conv, bn, conv, bn (ratios 0.56, 1.11, 0.39, ...);
    # the blocks are conv-bn-relu-pool, conv-bn-relu-pool(-flatten), linear: a block ends
    # at the last cut before the next weight operation.
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 2 * 2, 3),
    ).eval()
    _, named, how = block_view(net, "t")
    assert how == "fx"
    assert [n for n, _ in named] == ["0..3", "4..8", "9"]
    br = ck.nn.branching_parameter(net, torch.randn(6, 1, 8, 8))
    assert br.names == ("0..3", "4..8", "9")


def test_preact_resnet_blocks_are_its_residual_blocks():
    net = ck.nn.resnet18(style="cifar", width=0.125, seed=0).eval()
    runner, named, how = block_view(net, "t")
    assert how == "fx"
    assert [n for n, _ in named] == [
        "stem.0",
        *[f"layer{s}.{b}" for s in (1, 2, 3, 4) for b in (0, 1)],
        "bn..fc",
    ]
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(runner(x), net(x))  # the traced graph is the model
    assert block_view(net, "t")[0] is runner  # cached


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4))
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = self.body(x)
        if h.sum() > 1e9:  # control flow on a tensor value: torch.fx cannot trace this
            h = h * 0
        return self.head(torch.tanh(h))


def test_untraceable_model_falls_back_on_its_modules_with_a_warning():
    net = Untraceable()
    x = torch.randn(3, 4)
    with pytest.warns(ck.nn.BlocksFallbackWarning, match="does not trace") as caught:
        res = ck.nn.branching_parameter(net, x, modules="blocks")
    assert [w.filename for w in caught] == [__file__]
    assert res.names == ("body.0", "body.2", "head")
    # the default selection falls back silently on the recorder's default
    assert ck.nn.branching_parameter(net, x).names == ("body.0", "body.2", "head")


def test_model_without_blocks_is_a_clear_error():
    class NoParams(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x

    with pytest.raises(ck.CrackleValueError, match="'blocks' found none"):
        ck.nn.lyapunov_exponent(NoParams(), torch.randn(2, 3), modules="blocks")
