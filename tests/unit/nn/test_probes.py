"""Perturbation probes against exact answers: orthogonal linear nets, critical tanh nets."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import crackle as ck


@pytest.mark.parametrize("gain", [0.7, 1.0, 1.3])
def test_orthogonal_linear_network_exact(orthogonal_net, gain):
    # |Q d| = |d| for orthogonal Q, so every layer multiplies a perturbation's norm by
    # exactly g: branching ratio g and Lyapunov exponent ln g per layer.
    net = orthogonal_net(width=32, depth=12, gain=gain)
    x = torch.randn(20, 32, dtype=torch.float64)
    br = ck.nn.branching_parameter(net, x, n_directions=2, seed=1)
    np.testing.assert_allclose(br.per_layer, gain, rtol=1e-5)
    assert br.value == pytest.approx(gain, rel=1e-5)
    assert br.geometric == pytest.approx(gain, rel=1e-5)
    ly = ck.nn.lyapunov_exponent(net, x, seed=1)
    assert ly.value == pytest.approx(math.log(gain), abs=1e-5)
    np.testing.assert_allclose(ly.per_layer, math.log(gain), atol=1e-5)
    assert len(ly.names) == 12


def random_tanh_net(width, depth, sigma_w2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    blocks = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False).double()
        with torch.no_grad():
            lin.weight.copy_(
                torch.randn(width, width, generator=gen, dtype=torch.float64)
                * math.sqrt(sigma_w2 / width)
            )
        blocks.append(nn.Sequential(lin, nn.Tanh()))
    return nn.Sequential(*blocks)


def test_critical_tanh_network_is_near_critical():
    # The mean-field quantity is the growth of a random direction (chi_1), not the top
    # singular value of a finite network's Jacobian (which exceeds it by O(ln N / L)).
    # sigma_w^2 = 1, sigma_b = 0, inputs with per-entry variance q0 = 1e-3. Per layer,
    # log |J_l v| / |J_(l-1) v| averages log sqrt(sigma_w^2 E[phi'^2]) + finite-width
    # bias ~ -q0 - 1/(2N) = -0.002 (chi_1 = E[sech^4] ~ 1 - 2q), and its noise is
    # sqrt(1/(2N)) = 0.032 per layer, 0.032/sqrt(L n) ~ 0.0009 on the mean over
    # L = 20 layers and n = 64 inputs. So |lambda_0| < 0.01 and |sigma - 1| < 0.01
    # hold with a wide margin, while sigma_w^2 = 1.1 (lambda_0 ~ +0.046) or 0.9 fail.
    width, depth, q0 = 500, 20, 1e-3
    x = torch.randn(64, width, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x *= math.sqrt(q0)
    results = {}
    for sw in (0.9, 1.0, 1.1):
        net = random_tanh_net(width, depth, sw)
        br = ck.nn.branching_parameter(net, x, seed=2)
        ly = ck.nn.random_direction_rate(net, x, seed=2)
        results[sw] = (br.value, ly.value)
        assert len(ly.names) == depth
    sigma, lam = results[1.0]
    assert abs(lam) < 0.01
    assert abs(sigma - 1) < 0.01
    assert results[1.1][1] > 0.03
    assert results[0.9][1] < -0.03
    assert results[1.1][0] > 1.03
    assert results[0.9][0] < 0.97


def test_random_direction_rate_matches_torch_func_jvp(small_cnn):
    # The slow, obvious twin: torch.func.jvp on the whole model, one sample at a time.
    x = torch.randn(6, 3, 8, 8)
    res = ck.nn.random_direction_rate(small_cnn, x, seed=3, batch_size=4, per_unit=False)
    gen = torch.Generator().manual_seed(3)
    vals = []
    for xb in (x[:4], x[4:]):
        v = torch.randn(xb.shape, generator=gen, dtype=torch.float64)
        for xi, vi in zip(xb, v, strict=True):
            vi = (vi / vi.norm()).float()
            _, jv = torch.func.jvp(small_cnn, (xi[None],), (vi[None],))
            vals.append(math.log(jv.norm().item()) / len(res.names))
    assert res.value == pytest.approx(np.mean(vals), rel=1e-4)
    # Per-layer growth rates add up to the output's growth over all layers.
    assert res.per_layer.sum() == pytest.approx(res.value * len(res.names), rel=1e-4)
    # Per unit: |J v| / sqrt(5 outputs) against |v| / sqrt(192 inputs).
    unit = ck.nn.random_direction_rate(small_cnn, x, seed=3, batch_size=4)
    shift = 0.5 * math.log(3 * 8 * 8 / 5) / len(res.names)
    assert unit.value == pytest.approx(res.value + shift, rel=1e-5)
    assert unit.per_layer.sum() == pytest.approx(unit.value * len(res.names), rel=1e-4)


def test_probes_leave_the_model_as_it_was(small_cnn):
    small_cnn.train()
    state = {k: v.clone() for k, v in small_cnn.state_dict().items()}
    x = torch.randn(4, 3, 8, 8)
    # each probe says it switches to eval mode, at this file's line
    probes = [
        lambda: ck.nn.branching_parameter(small_cnn, x),
        lambda: ck.nn.lyapunov_exponent(small_cnn, x),
        lambda: ck.nn.lyapunov_spectrum(small_cnn, x, k=2),
        lambda: ck.nn.random_direction_rate(small_cnn, x),
        lambda: ck.nn.dynamic_range(small_cnn, x, intensities=[0.1, 1.0, 10.0]),
    ]
    for probe in probes:
        with pytest.warns(ck.nn.ProbeModeWarning, match="BatchNorm2d") as caught:
            probe()
        assert [w.filename for w in caught] == [__file__]
    assert small_cnn.training
    assert all(m.training for m in small_cnn.modules())
    for k, v in small_cnn.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert sum(len(m._forward_hooks) for m in small_cnn.modules()) == 0


def test_seeded_and_batch_size_independent(mlp):
    x = torch.randn(10, 6)
    a = ck.nn.branching_parameter(mlp, x, seed=5, batch_size=10)
    b = ck.nn.branching_parameter(mlp, x, seed=5, batch_size=10)
    c = ck.nn.branching_parameter(mlp, x, seed=6, batch_size=10)
    assert a.value == b.value
    assert a.value != c.value
    d = ck.nn.lyapunov_exponent(mlp, x, seed=5, batch_size=3)
    e = ck.nn.lyapunov_exponent(mlp, x, seed=5, batch_size=3)
    assert d.value == e.value
    assert a.to_dict()["per_layer"] == a.per_layer.tolist()


def test_dynamic_range_of_a_homogeneous_network_is_not_a_measurement(orthogonal_net):
    # Mean square of a linear map of s * x_hat is c s^2 at every layer: no saturation,
    # and the old reading (10 log10(3) = 4.77 dB for every such network) was set by the
    # exponent 2 and the scan. NaN with the reason, and the exponent 2 in the slopes.
    net = orthogonal_net(width=8, depth=3, gain=0.8)
    res = ck.nn.dynamic_range(net, torch.randn(5, 8, dtype=torch.float64))
    assert math.isnan(res.value)
    assert np.isnan(res.per_layer).all()
    assert "does not saturate" in res.reason
    assert "s^2.00" in res.reason
    assert res.top_slope == pytest.approx(2.0, abs=1e-9)
    assert res.max_slope == pytest.approx(2.0, abs=1e-9)
    assert res.to_dict()["value"] is None
    # a ReLU network without biases (positively homogeneous) likewise
    torch.manual_seed(0)
    relu = nn.Sequential(nn.Linear(8, 16, bias=False), nn.ReLU(), nn.Linear(16, 4, bias=False))
    assert math.isnan(ck.nn.dynamic_range(relu, torch.randn(16, 8)).value)


def test_dynamic_range_of_a_saturating_response_is_exact():
    # One unit y = tanh(s) driven by x_hat = 1: F(s) = tanh(s)^2, so with the default scan
    # F_0 = tanh(1e-3)^2 ~ 1e-6, F_max = tanh(1e3)^2 = 1, and s_x = artanh(sqrt(F_0 + x
    # (1 - F_0))): Delta = 10 log10(artanh(sqrt(0.9)) / artanh(sqrt(0.1))) = 7.45 dB.
    # On 2001 log-spaced intensities the linear interpolation is off by < 1e-3 dB;
    # allow 0.01 dB.
    net = nn.Sequential(nn.Linear(1, 1, bias=False), nn.Tanh()).double()
    net[0].weight.data.fill_(1.0)
    s = np.logspace(-3, 3, 2001)
    res = ck.nn.dynamic_range(net, torch.ones(3, 1, dtype=torch.float64), intensities=s)
    f0 = math.tanh(1e-3) ** 2
    lo = math.atanh(math.sqrt(f0 + 0.1 * (1 - f0)))
    hi = math.atanh(math.sqrt(f0 + 0.9 * (1 - f0)))
    assert res.reason is None
    assert res.value == pytest.approx(10 * math.log10(hi / lo), abs=0.01)
    assert res.top_slope == pytest.approx(0.0, abs=1e-6)


def test_saturating_network_has_a_wider_dynamic_range():
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
    res = ck.nn.dynamic_range(lin, torch.randn(16, 8))
    assert res.reason is None
    assert res.value > 10 * math.log10(3) + 1
    assert 0.9 < res.response[-1] <= 1.0  # tanh saturates: mean square below 1
    ax = res.plot()
    assert ax.get_xscale() == "log"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda m: ck.nn.branching_parameter(m, torch.randn(3, 5)), r"input shape \(N, 6\)"),
        (lambda m: ck.nn.lyapunov_exponent(m, torch.randn(6)), r"samples first"),
        (lambda m: ck.nn.lyapunov_exponent(m, torch.full((2, 6), float("nan"))), "finite"),
        (lambda m: ck.nn.branching_parameter(m, torch.randn(2, 6), eps=0), "'eps' parameter"),
        (lambda m: ck.nn.branching_parameter(m, torch.randn(2, 6), seed=-1), "'seed'"),
        (lambda m: ck.nn.lyapunov_exponent(m, torch.randn(2, 6), batch_size=0), "'batch_size'"),
        (lambda m: ck.nn.dynamic_range(m, torch.randn(2, 6), intensities=[1, 0.5]), "increasing"),
        (lambda m: ck.nn.dynamic_range(m, torch.randn(2, 6), stat="max"), "'stat' parameter"),
        (lambda m: ck.nn.dynamic_range(m, torch.zeros(2, 6)), "non-zero samples"),
        (lambda m: ck.nn.lyapunov_exponent(m, torch.randn(2, 6), modules="nope*"), "available"),
        (lambda m: ck.nn.lyapunov_exponent(m, torch.randn(2, 6), modules=3), "'modules'"),
        (lambda m: ck.nn.branching_parameter("net", torch.randn(2, 6)), "'model' parameter"),
        (lambda m: ck.nn.record(m, stat="l1").__enter__(), "'stat' parameter of record"),
    ],
)
def test_bad_input_gives_a_clear_message(mlp, call, match):
    with pytest.raises(ValueError, match=match):
        call(mlp)
