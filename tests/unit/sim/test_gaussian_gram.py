"""Method 'gram': each layer drawn from its exact joint law given the live inputs."""

import numpy as np
import pytest
import torch

import crackle as ck
from crackle.sim import _gaussian_kernel as gk
from crackle.sim import gaussian as g
from crackle.sim._normal_stream import NormalStream

CPU = torch.device("cpu")


def fixed_rows(width, seed=0):
    """Five inputs of very different strengths, two of them strongly correlated, plus a
    finished row holding NaN (its value must not leak into the others)."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(6, width))
    h[1] = 0.9 * h[0] + 0.1 * h[1]  # correlation ~ 0.99 with row 0
    h[2] *= 10.0
    h[3] *= 0.01
    h[5] = np.nan
    alive = np.array([True, True, True, True, True, False])
    return torch.tensor(h), torch.tensor(alive)


def empirical_moments(z, alive):
    """Second and fourth moments over the group axis and the N independent columns."""
    live = z[:, alive.numpy()]  # (reps, m_live, N)
    second = torch.einsum("rin,rjn->ij", live, live) / (live.shape[0] * live.shape[2])
    fourth = live.pow(4).mean(dim=(0, 2))
    return second.numpy(), fourth.numpy()


@pytest.mark.parametrize(("sw", "sb"), [(1.0, 0.0), (1.7, 3e-2)])
def test_a_gram_layer_has_the_dense_layers_joint_law(sw, sb):
    # z = h W^T + b with W_ij ~ N(0, sw/N), b_i ~ N(0, sb): the N columns of z are
    # independent N(0, C), C = sw h h^T / N + sb. The same rows repeated over the group
    # axis give reps x N independent samples of that law.
    width, reps = 24, 4000
    h, alive = fixed_rows(width)
    gen = NormalStream(0, CPU, h.dtype)
    z = gk._gram_layer(h.expand(reps, -1, -1), alive.expand(reps, -1), sw, sb, gen)
    assert torch.isfinite(z[:, alive]).all()
    second, fourth = empirical_moments(z, alive)
    x = h[alive.numpy()].numpy()
    cov = sw * x @ x.T / width + sb
    samples = reps * width
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / samples)
    assert np.all(np.abs(second - cov) < 5 * se)
    # Gaussian columns: E z^4 = 3 C_ii^2 (sd of the estimate: sqrt(96) C_ii^2 / sqrt(n)).
    d = np.diag(cov)
    assert np.all(np.abs(fourth - 3 * d**2) < 5 * np.sqrt(96) * d**2 / np.sqrt(samples))


def test_the_joint_law_check_can_fail():
    # Independent rows with the right variances (the marginal method's law) fail the
    # same check: the correlation between rows 0 and 1 is what it misses.
    width, reps = 24, 4000
    h, alive = fixed_rows(width)
    x = h[alive.numpy()].numpy()
    cov = x @ x.T / width
    gen = torch.Generator().manual_seed(0)
    var = torch.tensor(np.diag(cov))
    live = torch.randn((reps, len(var), width), generator=gen, dtype=torch.float64)
    live = live * var.sqrt()[None, :, None]
    second = torch.einsum("rin,rjn->ij", live, live).numpy() / (reps * width)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / (reps * width))
    assert not np.all(np.abs(second - cov) < 5 * se)


def test_copies_of_one_input_stay_together():
    # Inputs that share a weight draw share every layer's weights: two copies of one
    # input have the same avalanche, whatever the method that keeps the shared law.
    def twin_inputs(k, width, q0, rng):
        x = rng.randn((k // 2, width))
        x = x * torch.sqrt(q0 / x.pow(2).mean(dim=1, keepdim=True))
        return x.repeat_interleave(2, dim=0)

    kw = dict(n=4000, q0=1e-3, resample_every=8, seed=0)
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gk, "_inputs", twin_inputs)
        for method in ("matrix", "gram", "marginal"):
            chunks = [c for _, c in g.iter_gaussian_avalanches(32, 60, 1.0, method=method, **kw)]
            out[method] = np.mean(
                [np.array_equal(c.durations[0::2], c.durations[1::2]) for c in chunks]
            )
    assert out["matrix"] == 1.0
    assert out["gram"] > 0.98  # correlation 1 - 1e-12: copies differ by ~1e-6 of z
    assert out["marginal"] < 0.2  # independent copies: the check has power


@pytest.mark.parametrize(("sw", "sb"), [(1.0 + 2 / 48, 0.0), (1.3, 1e-4)])
def test_one_input_per_draw_has_the_marginal_law(sw, sb):
    """With one input per draw the Gram matrix is 1 x 1: each input's law, which the
    marginal method draws (and which matches 'matrix', test_gaussian.py)."""
    from scipy import stats

    kw = dict(n=6000, q0=1e-3, seed=7)
    a = ck.sim.gaussian_avalanches(48, 80, sw, sb, resample_every=6000, method="marginal", **kw)
    b = ck.sim.gaussian_avalanches(48, 80, sw, sb, resample_every=1, method="gram", **kw)
    assert stats.ks_2samp(a.durations, b.durations).pvalue > 1e-3
    assert stats.ks_2samp(a.sizes, b.sizes).pvalue > 1e-3


@pytest.mark.slow
def test_draws_of_four_inputs_have_the_matrix_law():
    """Inputs of one draw are correlated, so draws are the independent samples: the
    per-draw mean duration (censored inputs counted at the depth) of gram against
    matrix, with a bias, at criticality."""
    from scipy import stats

    sw, sb, depth = 1.0 + 2 / 48, 1e-4, 80

    def draw_means(method):
        it = g.iter_gaussian_avalanches(
            48, depth, sw, sb, n=12_000, q0=1e-3, resample_every=4, seed=7, method=method
        )
        return np.array([c.durations.sum() + depth * c.n_censored for _, c in it]) / 4

    assert stats.ks_2samp(draw_means("matrix"), draw_means("gram")).pvalue > 1e-3


def test_gram_groups_on_a_cpu_do_not_change_the_law_of_a_draw(monkeypatch):
    # Forcing one draw per group changes the random numbers, not what they mean: the
    # layer-1 law (q^1 = sw q0 chi^2_N / N for every input) holds in both.
    from scipy import special

    width, sw, q0, n = 16, 1.3, 1e-3, 20_000
    p_above = special.chdtrc(width, width * q0 / (sw * q0))
    for budget in (gk._GRAM_GROUP_ELEMENTS["cpu"], 0):
        monkeypatch.setitem(gk._GRAM_GROUP_ELEMENTS, "cpu", budget)
        av = ck.sim.gaussian_avalanches(
            width, 1, sw, n=n, q0=q0, resample_every=4, seed=1, method="gram"
        )
        # Inputs of one draw are correlated: the standard error is that of n/4 draws.
        assert abs(av.n_censored / n - p_above) < 5 * np.sqrt(p_above * (1 - p_above) / (n / 4))


def test_gram_overflow_is_censored_not_nan():
    av = ck.sim.gaussian_avalanches(
        16, 400, 50.0, n=50, activation="linear", q0=1.0, seed=0, resample_every=5, method="gram"
    )
    assert av.info["n_overflow"] > 0
    assert np.isfinite(av.sizes).all()
    assert np.isfinite(av.censored_sizes).all()


def test_collinear_inputs_in_float32_fall_back_to_float64():
    # Copies and multiples of one row: a float32 Gram matrix of them is indefinite up to
    # rounding or blurs them apart by ~sqrt(1e-7) ~ 1e-3 (measured: 9e-3 here); the
    # float64 redo keeps them together up to the jitter's sqrt(2e-12) ~ 1e-6 of z.
    rng = np.random.default_rng(1)
    row = rng.normal(size=64)
    h = torch.tensor(np.stack([row, row, 3 * row, -row, rng.normal(size=64)]), dtype=torch.float32)
    alive = torch.ones(5, dtype=torch.bool)
    gen = NormalStream(0, CPU, h.dtype)
    z = gk._gram_layer(h.expand(2000, -1, -1), alive.expand(2000, -1), 1.0, 0.0, gen)
    assert torch.isfinite(z).all()
    z = z.double()
    np.testing.assert_allclose(z[:, 1], z[:, 0], rtol=0, atol=1e-4)
    np.testing.assert_allclose(z[:, 2], 3 * z[:, 0], rtol=0, atol=1e-4)
    np.testing.assert_allclose(z[:, 3], -z[:, 0], rtol=0, atol=1e-4)
    var = z[:, 4].pow(2).mean().item()
    assert abs(var - (h[4].double() @ h[4].double() / 64).item()) < 0.05 * var


def combination_rows(width: int, eps: float) -> torch.Tensor:
    """Rows a, b and c = (a + b) / sqrt(2) + r, |r| ~ eps |c|: no two correlated above
    0.71, but c is all but a combination of a and b."""
    rng = np.random.default_rng(2)
    a, b, r = rng.normal(size=(3, width))
    return torch.tensor(np.stack([a, b, (a + b) / np.sqrt(2) + eps * r]), dtype=torch.float32)


def test_an_input_nearly_a_combination_of_others_falls_back_to_float64():
    # The variance of c left unexplained by a and b is ~1e-8 of c's: a float32 Gram
    # matrix (rounding ~1e-7) cannot resolve it. In float64 the residual of z_c has the
    # residual input's law: variance sigma_w^2 |r|^2 / N (the jitter adds ~1e-12).
    width, eps = 64, 1e-4
    h = combination_rows(width, eps)
    r = h[2].double() - (h[0].double() + h[1].double()) / np.sqrt(2)
    alive = torch.ones(3, dtype=torch.bool)
    z = gk._gram_layer(
        h.expand(4000, -1, -1), alive.expand(4000, -1), 1.0, 0.0, NormalStream(0, CPU, h.dtype)
    ).double()
    resid = z[:, 2] - (z[:, 0] + z[:, 1]) / np.sqrt(2)
    expected = (r @ r / width).item()
    # 2.6e5 samples of a (nearly) Gaussian residual: its variance within 2%; z itself is
    # float32 (relative rounding ~6e-8 of |z| ~ 1, i.e. variance ~4e-15, far below).
    assert resid.pow(2).mean().item() == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float64, 1e-6), (torch.float32, 2e-4)])
def test_finished_rows_between_live_ones_do_not_touch_them(dtype, rtol):
    # On a GPU rows stay in the batch (masked) for up to 8 layers after their avalanche
    # ended: the live rows' z must be what the live rows alone give, with the same noise.
    # In float32 the NaN row first spoils its draw's factorisation, which is redone.
    width = 16
    h, alive = fixed_rows(width)
    h, alive = h[[5, 0, 1, 2, 3, 4]].to(dtype), alive[[5, 0, 1, 2, 3, 4]]  # the NaN row first
    alive[3] = False  # and a finished row in the middle
    z = gk._gram_layer(h[None], alive[None], 1.2, 1e-3, NormalStream(4, CPU, dtype))
    live = alive.numpy()
    # On a CPU the normal numbers are drawn for the live rows only, in order.
    noise = NormalStream(4, CPU, dtype).randn((int(live.sum()), width)).double().numpy()
    x = h[live].double().numpy()
    chol = np.linalg.cholesky(1.2 * x @ x.T / width + 1e-3)
    np.testing.assert_allclose(z[0, live].double().numpy(), chol @ noise, rtol=rtol)


@pytest.mark.parametrize("method", ["gram", "matrix", "marginal"])
def test_gpu_settings_on_a_cpu(monkeypatch, method):
    # What a GPU does differently (compaction every 8 layers, a float64 Gram matrix from
    # the start, normal numbers for padded rows too, its group and block sizes), run on
    # the CPU.
    from scipy import special

    for table in ("_MARGINAL_BLOCK_ELEMENTS", "_MARGINAL_REFILLS", "_MARGINAL_MAX_INPUTS"):
        monkeypatch.setitem(getattr(gk, table), "cpu", getattr(gk, table)["other"])

    monkeypatch.setitem(gk._COMPACT_EVERY, "cpu", gk._COMPACT_EVERY["other"])
    monkeypatch.setitem(gk._GRAM_FLOAT64_FIRST, "cpu", gk._GRAM_FLOAT64_FIRST["other"])
    monkeypatch.setitem(gk._GRAM_LIVE_NOISE, "cpu", gk._GRAM_LIVE_NOISE["other"])
    monkeypatch.setitem(gk._GRAM_GROUP_ELEMENTS, "cpu", gk._GRAM_GROUP_ELEMENTS["other"])
    monkeypatch.setitem(gk._GROUP_ELEMENTS, "cpu", gk._GROUP_ELEMENTS["other"])
    width, sw, q0, n = 16, 1.3, 1e-3, 8000
    av = ck.sim.gaussian_avalanches(
        width, 1, sw, n=n, q0=q0, resample_every=4, seed=1, method=method
    )
    p_above = special.chdtrc(width, width / sw)
    assert abs(av.n_censored / n - p_above) < 5 * np.sqrt(p_above * (1 - p_above) / (n / 4))
    deep = ck.sim.gaussian_avalanches(
        width, 60, 1 + 2 / width, n=3000, resample_every=30, seed=2, method=method
    )
    assert deep.n > 0
    assert deep.n + deep.n_censored + deep.n_empty == 3000
    over = ck.sim.gaussian_avalanches(
        16, 200, 50.0, n=40, activation="linear", q0=1.0, seed=0, resample_every=5, method=method
    )
    assert over.info["n_overflow"] > 0
    assert np.isfinite(over.sizes).all()
