"""Dead networks: every probe follows one contract (a NaN value or a value over the live
inputs, a ``reason`` naming the dead layer, a DeadNetworkWarning at the caller's line),
never a silent NaN or -inf; flags must be True or False."""

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import crackle as ck
from crackle.nn.probes import DeadNetworkWarning


def dead_relu_net(width=8, depth=3):
    """Every pre-activation is about -1e4 for any input the probes feed (|x| <= 1e3 per
    entry times weights of 0.1): each ReLU is off, whatever the input."""
    torch.manual_seed(0)
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width).double()
        nn.init.normal_(lin.weight, std=0.1)
        nn.init.constant_(lin.bias, -1e4)
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 3).double())


def half_dead_net(width=6, depth=4):
    """The first layer gives every unit the pre-activation x_0: for x_0 < 0 every ReLU
    is off (the input is dead), for x_0 > 0 the signal goes on through orthogonal
    layers."""
    torch.manual_seed(1)
    first = nn.Linear(width, width, bias=False).double()
    with torch.no_grad():
        first.weight.zero_()
        first.weight[:, 0] = 1.0
    layers = [nn.Sequential(first, nn.ReLU())]
    for _ in range(depth - 1):
        lin = nn.Linear(width, width, bias=False).double()
        nn.init.orthogonal_(lin.weight, gain=1.2)
        layers.append(nn.Sequential(lin, nn.Tanh()))
    return nn.Sequential(*layers)


PROBES = {
    "branching_parameter": lambda m, x: ck.nn.branching_parameter(m, x),
    "lyapunov_exponent": lambda m, x: ck.nn.lyapunov_exponent(m, x),
    "random_direction_rate": lambda m, x: ck.nn.random_direction_rate(m, x),
    "lyapunov_spectrum": lambda m, x: ck.nn.lyapunov_spectrum(m, x, k=2),
    "dynamic_range": lambda m, x: ck.nn.dynamic_range(m, x),
}


def _values(res):
    return np.atleast_1d(res.exponents if hasattr(res, "exponents") else res.value)


@pytest.mark.parametrize("probe", list(PROBES))
def test_a_dead_network_is_nan_with_a_reason_and_a_warning(probe):
    net = dead_relu_net()
    x = torch.randn(6, 8, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warning on the way
        with pytest.warns(DeadNetworkWarning, match="dead network: no unit active") as w:
            res = PROBES[probe](net, x)
    assert [r.filename for r in w] == [__file__]  # at the caller's line
    assert np.isnan(_values(res)).all()
    assert res.reason.startswith(f"dead network: no unit active at layer {res.names[0]!r}")
    assert "for any of the 6 input(s)" in res.reason
    assert str(w[0].message) == res.reason
    assert not _infinite(res.to_dict())  # nothing infinite anywhere in the result


def _infinite(obj):
    if isinstance(obj, dict):
        return any(_infinite(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_infinite(v) for v in obj)
    return isinstance(obj, float) and math.isinf(obj)


def _lambda_max_slow(net, x, n_layers):
    """lambda_max per layer from the full Jacobian's largest singular value, per unit."""
    jac = torch.autograd.functional.jacobian(net, x[None])[0, :, 0, :]
    s1 = torch.linalg.svdvals(jac)[0].item()
    return (math.log(s1) + 0.5 * math.log(x.numel() / jac.shape[0])) / n_layers


def test_partly_dead_inputs_are_left_out_and_named():
    net = half_dead_net()
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(10, 6, generator=gen, dtype=torch.float64)
    x[:4, 0] = -x[:4, 0].abs() - 0.1  # dead inputs
    x[4:, 0] = x[4:, 0].abs() + 0.1  # live inputs
    with pytest.warns(DeadNetworkWarning, match="dead network at 4 of 10 input"):
        ly = ck.nn.lyapunov_exponent(net, x, n_iter=200, tol=1e-12)
    assert np.isnan(ly.per_sample[:4]).all()
    assert np.isfinite(ly.per_sample[4:]).all()
    slow = [_lambda_max_slow(net, xi, len(ly.names)) for xi in x[4:]]
    np.testing.assert_allclose(ly.per_sample[4:], slow, atol=1e-8)
    assert ly.value == pytest.approx(np.mean(slow), abs=1e-8)
    assert ly.stderr == pytest.approx(np.std(slow, ddof=1) / math.sqrt(6), rel=1e-6)
    assert f"at layer {ly.names[0]!r}" in ly.reason
    assert "over the other 6 input(s)" in ly.reason
    assert np.isfinite(ly.per_layer).all()
    with pytest.warns(DeadNetworkWarning, match="dead network at 4 of 10 input"):
        gr = ck.nn.random_direction_rate(net, x)
    assert np.isfinite(gr.value)
    with pytest.warns(DeadNetworkWarning, match="dead network at 4 of 10 input"):
        br = ck.nn.branching_parameter(net, x)
    assert np.isfinite(br.value)
    assert br.n_undefined == 4 * (len(br.names) - 1)  # the ratios after the dead layer
    assert "those ratios are left out (12 in all)" in br.reason


def test_fewer_active_units_than_exponents_is_named():
    # x_0 drives every unit of the first layer: its Jacobian has rank 1, so lambda_2 is
    # -inf at every input.
    net = half_dead_net()
    x = torch.rand(5, 6, dtype=torch.float64) + 0.1
    with pytest.warns(DeadNetworkWarning, match="rank below 2 at 5 of 5"):
        spec = ck.nn.lyapunov_spectrum(net, x, k=2)
    assert np.isfinite(spec.exponents[0])
    assert np.isnan(spec.exponents[1])
    assert np.isnan(spec.per_sample[:, 1]).all()


def test_a_live_network_is_silent():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh()).double()
    x = torch.randn(6, 8, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, probe in PROBES.items():
            res = probe(net, x)
            assert res.reason is None, name
            assert np.isfinite(_values(res)).all(), name


@pytest.mark.parametrize("flag", ["no", "False", 0, 1, None, 1.0])
def test_flags_must_be_true_or_false(flag):
    net = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
    x = torch.randn(3, 4)
    for call in (
        lambda: ck.nn.branching_parameter(net, x, per_unit=flag),
        lambda: ck.nn.lyapunov_exponent(net, x, per_unit=flag),
        lambda: ck.nn.random_direction_rate(net, x, per_unit=flag),
        lambda: ck.nn.lyapunov_spectrum(net, x, per_unit=flag),
    ):
        with pytest.raises(ck.CrackleValueError, match=r"'per_unit' parameter .* True or False"):
            call()


def test_load_checkpoint_strict_must_be_a_flag(tmp_path):
    net = nn.Linear(2, 2)
    path = tmp_path / "w.pt"
    torch.save(net.state_dict(), path)
    with pytest.raises(ck.CrackleValueError, match=r"'strict' parameter .* True or False"):
        ck.nn.load_checkpoint(path, net, strict="no")


def test_saturated_units_are_named_as_such():
    # tanh of pre-activations ~1e30: the derivative is 0 in float32, the output is not.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4), nn.Tanh())
    x = torch.randn(5, 6) * 1e30
    with pytest.warns(DeadNetworkWarning, match="every unit saturated at layer"):
        ly = ck.nn.lyapunov_exponent(net, x)
    assert math.isnan(ly.value)
    assert "no unit active" not in ly.reason
    # the finite difference cannot tell saturation from rounding, and says so
    with pytest.warns(DeadNetworkWarning, match="perturbation lost: the perturbation vanishes"):
        br = ck.nn.branching_parameter(net, x)
    assert math.isnan(br.value)
    assert "float64" in br.reason


def test_dynamic_range_does_not_depend_on_the_inputs_scale():
    # Inputs are normalised to unit root mean square: x * 1e25 and x * 1e-25 in float32
    # (whose mean squares over- and underflow float32) give the Delta of x.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4), nn.Tanh())
    x = torch.randn(5, 6)
    ref = ck.nn.dynamic_range(net, x)
    assert ref.reason is None
    for scale in (1e25, 1e-25):
        res = ck.nn.dynamic_range(net, x * scale)
        assert res.value == pytest.approx(ref.value, rel=1e-5)


def test_huge_float32_activations_are_measured():
    # A linear network at inputs of 1e25 (a float32 sum of squares of such activations
    # overflows): every layer multiplies perturbations by exactly the gain.
    net = nn.Sequential(*[nn.Linear(8, 8, bias=False) for _ in range(3)])
    for m in net:
        nn.init.orthogonal_(m.weight, gain=0.8)
    x = torch.randn(4, 8) * 1e25
    br = ck.nn.branching_parameter(net, x)
    assert br.reason is None
    np.testing.assert_allclose(br.per_layer, 0.8, rtol=1e-3)
    gr = ck.nn.random_direction_rate(net, x)
    assert gr.value == pytest.approx(math.log(0.8), abs=1e-4)
    ly = ck.nn.lyapunov_exponent(net, x)
    assert ly.value == pytest.approx(math.log(0.8), abs=1e-4)
