"""The largest Lyapunov exponent and the top-k spectrum against exact spectra."""

import math

import numpy as np
import pytest
import torch
from scipy.special import digamma
from torch import nn

import crackle as ck
from crackle.train import jvp_lyapunov


def repeated_symmetric_net(n, depth, top, rest, seed=0):
    """W = Q diag(s) Q^T with s = (top, rest, ..., rest), the same W in every layer."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    s = torch.full((n,), rest, dtype=torch.float64)
    s[0] = top
    w = q @ torch.diag(s) @ q.T
    layers = [nn.Linear(n, n, bias=False).double() for _ in range(depth)]
    for m in layers:
        m.weight.data = w.clone()
    return nn.Sequential(*layers)


def test_repeated_symmetric_layer_gives_ln_of_the_top_singular_value():
    # J = W^30 = Q diag(s^30) Q^T: s_1(J) = 1.5^30 exactly, so lambda_max = ln 1.5. A
    # random direction v grows as 1.5^30 |<v, q_1>| ~ 1.5^30 / sqrt(64): its rate is
    # ln 1.5 - ln(8)/30 = 0.336, the number this probe used to report.
    net = repeated_symmetric_net(64, 30, 1.5, 0.5)
    x = torch.randn(6, 64, dtype=torch.float64)
    ly = ck.nn.lyapunov_exponent(net, x, seed=1)
    assert ly.value == pytest.approx(math.log(1.5), abs=1e-9)
    assert ly.converged
    assert ly.reorthonormalized
    np.testing.assert_allclose(ly.per_layer, math.log(1.5), atol=1e-6)
    assert ly.stderr < 1e-9  # a linear network: the same J at every input
    rnd = ck.nn.random_direction_rate(net, x, seed=1)
    assert rnd.value < math.log(1.5) - 0.04
    assert rnd.value == pytest.approx(math.log(1.5) - math.log(8) / 30, abs=0.04)


@pytest.mark.parametrize("gain", [0.7, 1.3])
def test_orthogonal_layers_times_g_have_a_flat_spectrum(orthogonal_net, gain):
    # Every singular value of (g Q_L) ... (g Q_1) is g^L: lambda_i = ln g for all i.
    net = orthogonal_net(width=16, depth=10, gain=gain)
    spec = ck.nn.lyapunov_spectrum(net, torch.randn(5, 16, dtype=torch.float64), k=6)
    np.testing.assert_allclose(spec.exponents, math.log(gain), atol=1e-9)
    assert spec.exponents.shape == (6,)
    assert spec.per_sample.shape == (5, 6)


class PerSampleLinear(nn.Module):
    """Sample m of a batch meets its own matrix W[m] (a batch of independent networks).
    The probes stack k copies of a batch, so the matrices repeat along the batch."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w, requires_grad=False)

    def forward(self, x):
        w = self.w.repeat(x.shape[0] // self.w.shape[0], 1, 1)
        return torch.einsum("mij,mj->mi", w, x)


def test_gaussian_products_follow_newman():
    # Products of N x N matrices with i.i.d. N(0, g^2/N) entries have Lyapunov
    # exponents lambda_i = ln g + (1/2)[psi((N - i + 1)/2) - ln(N/2)] (Newman 1986).
    # (1/L) log s_i of a depth-L product tends to them with an O(1/L) offset (the top
    # ones above: about +2/L at N = 8, measured with an independent numpy QR sweep);
    # the statistical error is the reported standard error over M independent
    # products. Tolerance: 4 standard errors + 3/L. Swapping psi's argument by one
    # index moves lambda_1 by 0.077 and lambda_8 by 0.69, far outside it.
    n, depth, m, g = 8, 200, 24, 1.3
    gen = torch.Generator().manual_seed(0)
    layers = [
        PerSampleLinear(torch.randn(m, n, n, generator=gen, dtype=torch.float64) * g / math.sqrt(n))
        for _ in range(depth)
    ]
    net = nn.Sequential(*layers)
    spec = ck.nn.lyapunov_spectrum(net, torch.randn(m, n, dtype=torch.float64), k=n, batch_size=m)
    i = np.arange(1, n + 1)
    newman = math.log(g) + 0.5 * (digamma((n - i + 1) / 2) - math.log(n / 2))
    assert spec.reorthonormalized
    assert spec.converged
    assert np.all(np.abs(spec.exponents - newman) < 4 * spec.stderr + 3 / depth)
    assert np.all(np.diff(spec.exponents) < 0)


def test_top_singular_value_matches_torch_svd_sample_by_sample(mlp):
    # Reference: the full Jacobian from torch.func.jacrev, its largest singular value
    # from torch.linalg.svdvals. Per-unit norms shift log s_1 by (1/2) log(n_in/n_out).
    net = mlp.double()
    x = torch.randn(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    ly = ck.nn.lyapunov_exponent(net, x, seed=0, tol=1e-12, n_iter=200)
    spec = ck.nn.lyapunov_spectrum(net, x, k=3, seed=0, tol=1e-12, n_iter=200)
    n_layers = len(ly.names)
    assert n_layers == 3  # blocks: linear+tanh, linear+tanh, linear
    for i in range(x.shape[0]):
        jac = torch.func.jacrev(net)(x[i])
        s = torch.linalg.svdvals(jac).detach().numpy()
        want = (np.log(s[:3]) + 0.5 * math.log(6 / 3)) / n_layers
        assert ly.per_sample[i] == pytest.approx(want[0], abs=1e-8)
        np.testing.assert_allclose(spec.per_sample[i], want, atol=1e-7)


def test_blocks_and_leaves_give_the_same_singular_value():
    # log s_1(J) does not depend on how the network is cut into layers: L * lambda_max
    # is the same for the residual blocks (a chain: re-orthonormalised at each) and
    # for every leaf module (not a chain inside residual blocks: the QR happens at the
    # ends only). The test would fail if a cut inside a residual block were used.
    net = ck.nn.resnet18(style="cifar", width=0.125, seed=0).double().eval()
    x = torch.randn(3, 3, 32, 32, dtype=torch.float64)
    blocks = ck.nn.lyapunov_exponent(net, x, modules="blocks", tol=1e-10, n_iter=100)
    leaves = ck.nn.lyapunov_exponent(net, x, modules="leaves", tol=1e-10, n_iter=100)
    assert blocks.reorthonormalized
    assert not leaves.reorthonormalized
    assert len(blocks.names) == 10
    assert len(leaves.names) > 50
    np.testing.assert_allclose(
        blocks.per_sample * len(blocks.names), leaves.per_sample * len(leaves.names), rtol=1e-6
    )


def test_penalty_measures_the_probe_exponent(mlp):
    net = mlp.double()
    x = torch.randn(9, 6, dtype=torch.float64)
    lam = ck.nn.lyapunov_exponent(net, x, seed=4).value
    assert jvp_lyapunov(net, x, seed=4).item() == pytest.approx(lam, abs=1e-9)


def test_spectrum_rejects_more_exponents_than_the_narrowest_layer(mlp):
    with pytest.raises(ck.CrackleValueError, match="narrowest layer has 3"):
        ck.nn.lyapunov_spectrum(mlp, torch.randn(2, 6), k=4)
    with pytest.raises(ck.CrackleValueError, match="'k' parameter"):
        ck.nn.lyapunov_spectrum(mlp, torch.randn(2, 6), k=0)
    with pytest.raises(ck.CrackleValueError, match="'n_iter' parameter"):
        ck.nn.lyapunov_exponent(mlp, torch.randn(2, 6), n_iter=0)
