"""Pre-activation ResNets (structure, init) and avalanches with calibrated thresholds."""

import numpy as np
import pytest
import torch
from torch import nn

import crackle as ck
from crackle.nn.resnet import PreActBasicBlock, PreActBottleneck


def tiny(depth=18, **kw):
    return ck.nn.preact_resnet(depth, style="cifar", width=0.25, input_size=8, seed=0, **kw)


def test_basic_block_is_x_plus_the_preactivated_branch():
    torch.manual_seed(0)
    blk = PreActBasicBlock(4, 4).eval()
    x = torch.randn(2, 4, 5, 5)
    branch = blk.conv2(blk.relu2(blk.bn2(blk.conv1(blk.relu1(blk.bn1(x))))))
    assert torch.allclose(blk(x), x + branch)
    assert blk.shortcut is None


def test_downsampling_blocks_project_the_preactivation():
    torch.manual_seed(0)
    blk = PreActBottleneck(8, 4, stride=2).eval()
    x = torch.randn(2, 8, 6, 6)
    pre = blk.relu1(blk.bn1(x))
    assert blk(x).shape == (2, 16, 3, 3)
    branch = blk.conv3(blk.relu3(blk.bn3(blk.conv2(blk.relu2(blk.bn2(blk.conv1(pre)))))))
    assert torch.allclose(blk(x), branch + blk.shortcut(pre))


@pytest.mark.parametrize(("depth", "n_layers"), [(18, 68), (34, 124)])
def test_imagenet_widths_match_the_reference_parameter_count(depth, n_layers):
    # torchvision's (post-activation) resnet18/34 have 11,689,512 / 21,797,672
    # parameters, of which batch norm holds 2 x 4,800 / 2 x 8,512 (one weight and one
    # bias per channel). Pre-activation moves the batch norms, not the convolutions or
    # the classifier, so those must agree exactly.
    net = ck.nn.preact_resnet(depth, seed=0)
    convs_fc = sum(
        p.numel()
        for m in net.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
        for p in m.parameters()
    )
    assert convs_fc == {18: 11_689_512 - 9_600, 34: 21_797_672 - 17_024}[depth]
    leaves = [n for n, m in net.named_modules() if n and not list(m.children())]
    assert len(leaves) == n_layers


def test_seeded_initialisation_and_shapes():
    a, b, c = tiny(), tiny(), ck.nn.preact_resnet(18, style="cifar", width=0.25, seed=1)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(next(a.parameters()), next(c.parameters()))
    assert tiny(50, num_classes=7, in_channels=1)(torch.randn(2, 1, 8, 8)).shape == (2, 7)
    assert a.input_shape == (3, 8, 8)


def test_every_operation_is_a_layer_in_running_order():
    net = tiny()
    sig, names = ck.nn.layer_signals(net, ck.nn.gaussian_inputs(net.input_shape, 5))
    assert sig.shape == (5, len(names))
    assert names[:8] == [
        "stem.0",
        "layer1.0.bn1",
        "layer1.0.relu1",
        "layer1.0.conv1",
        "layer1.0.bn2",
        "layer1.0.relu2",
        "layer1.0.conv2",
        "layer1.0.add",
    ]
    assert names[-5:] == ["bn", "relu", "pool", "flatten", "fc"]


def test_network_avalanches_follow_the_calibrated_thresholds():
    net = tiny()
    x = ck.nn.gaussian_inputs(net.input_shape, 60, seed=1)
    cal = ck.nn.gaussian_inputs(net.input_shape, 30, seed=2)
    res = ck.nn.network_avalanches(net, x, cal, k=0.5)
    cal_sig, _ = ck.nn.layer_signals(net, cal)
    np.testing.assert_allclose(
        res.thresholds, cal_sig.mean(0) + 0.5 * cal_sig.std(0, ddof=1), rtol=1e-12
    )
    sig, _ = ck.nn.layer_signals(net, x)
    ref = ck.avalanches_from_trajectories(sig, res.thresholds)
    np.testing.assert_array_equal(res.avalanches.sizes, ref.sizes)
    assert res.avalanches.n + res.avalanches.n_censored + res.avalanches.n_empty == 60
    assert res.to_dict()["k"] == 0.5


def test_batch_statistics_mode_leaves_the_model_untouched():
    net = tiny().train()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    x = ck.nn.gaussian_inputs(net.input_shape, 8)
    run, _ = ck.nn.layer_signals(net, x, batch_norm="running")
    bat, _ = ck.nn.layer_signals(net, x, batch_norm="batch", batch_size=8)
    assert not np.allclose(run, bat)
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert net.training


def test_exponent_table_is_tidy():
    models = {"tiny18": tiny(), "tiny34": tiny(34)}
    df = ck.nn.avalanche_exponents(models, ks=(0, 1), n=300, n_calibration=50)
    assert list(df["model"]) == ["tiny18", "tiny18", "tiny34", "tiny34"]
    assert list(df["k"]) == [0.0, 1.0, 0.0, 1.0]
    assert {"tau", "alpha", "inv_snz_fitted", "scaling_mismatch", "note"} <= set(df.columns)
    assert (df["n"] + df["n_censored"] + df["n_empty"] == 300).all()


def test_bad_resnet_arguments():
    with pytest.raises(ValueError, match="'depth' parameter of preact_resnet must be one of"):
        ck.nn.preact_resnet(20)
    with pytest.raises(ValueError, match="'style'"):
        ck.nn.preact_resnet(18, style="tiny")
    with pytest.raises(ValueError, match="'width'"):
        ck.nn.preact_resnet(18, width=0)
