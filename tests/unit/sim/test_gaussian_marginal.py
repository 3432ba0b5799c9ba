"""Method 'marginal' (one number of state per input, a batch refilled as avalanches end)
against the obvious per-input simulation that draws the same random numbers."""

import numpy as np
import pytest
import torch

import crackle as ck
from crackle.sim import _gaussian_kernel as gk
from crackle.sim import _normal_stream as ns
from crackle.sim import gaussian as g
from crackle.sim._marginal_kernel import run_marginal
from crackle.sim._normal_stream import NormalStream
from crackle.sim._torch import TORCH_ACTIVATIONS, TORCH_ACTIVATIONS_INPLACE

CPU = torch.device("cpu")


def obvious_marginal(k, capacity, width, depth, sw, sb, q0, act, seed, compact_every):
    """Every row of the batch on its own, in float64, with its N numbers: z = sqrt(v) xi,
    q = |z|^2 / N, h = phi(z), v = sigma_w^2 |h|^2 / N + sigma_b^2. Rows are served in
    batch order (a batch's numbers, N per row in row order, are those of one draw per row
    when N is a multiple of 32: the stream's block, see NormalStream); ended rows
    stay, masked, until a step that is a multiple of ``compact_every``, and then the
    batch is topped up with the next inputs. Returns per input: the list of q^l while in
    its avalanche, and whether it overflowed or reached the last layer."""
    stream = NormalStream(seed, CPU, torch.float64)
    phi = TORCH_ACTIVATIONS[act]
    rows = [[i, sw * q0 + sb, 0, True] for i in range(min(k, capacity))]  # id, v, layer, on
    entered, step = len(rows), 0
    qs = [[] for _ in range(k)]
    overflow, censored = np.zeros(k, bool), np.zeros(k, bool)
    while rows:
        for row in rows:
            xi = stream.fill_(torch.empty(width, dtype=torch.float64))
            i, v, layer, on = row
            z = np.sqrt(v) * xi
            q = float(z.pow(2).mean())
            if on:
                if not np.isfinite(q):
                    overflow[i], row[3] = True, False
                elif q > q0:
                    qs[i].append(q)
                    if layer == depth - 1:
                        censored[i], row[3] = True, False
                else:
                    row[3] = False
            row[1] = sw * float(phi(z).pow(2).mean()) + sb
            row[2] += 1
        step += 1
        if step % compact_every == 0:
            rows = [row for row in rows if row[3]]
            while len(rows) < capacity and entered < k:
                rows.append([entered, sw * q0 + sb, 0, True])
                entered += 1
    return qs, overflow, censored


# What the simulator passes for each size definition: baseline b and scale N, so that
# sizes are N sum (q^l - b) and profiles N (q^l - b).
BASELINE = {"total": lambda q0: 0.0, "excess": lambda q0: q0}


def kernel(k, capacity, width, depth, sw, sb, q0, act, seed, compact_every, sizes="total"):
    fill_ = NormalStream(seed, CPU, torch.float64).fill_
    phi_ = TORCH_ACTIVATIONS_INPLACE[act]
    return run_marginal(
        k,
        capacity,
        width,
        depth,
        sw,
        sb,
        q0,
        phi_,
        fill_,
        CPU,
        torch.float64,
        depth,
        compact_every,
        BASELINE[sizes](q0),
        float(width),
    )


def assert_same(av, qs, overflow, censored, depth, q0, width=32, sizes="total"):
    b = BASELINE[sizes](q0)
    qs = [[width * (v - b) for v in q] for q in qs]  # the size definition, applied plainly
    q0 = width * (q0 - b)
    ended = ~censored & ~overflow
    durations = np.array([len(q) for q in qs])
    complete = ended & (durations > 0)
    np.testing.assert_array_equal(av.durations, durations[complete])
    mine = [q for q, c in zip(qs, complete, strict=True) if c]
    np.testing.assert_allclose(av.sizes, [sum(q) for q in mine], rtol=1e-12)
    assert av.n_censored == int((censored | overflow).sum())
    assert av.info["n_overflow"] == int(overflow.sum())
    assert av.n_empty == int((ended & (durations == 0)).sum())
    if mine:  # profiles: the sum of q^l at each position, per duration
        padded = np.array([q + [0.0] * (depth - len(q)) for q in mine])
        ref = ck.avalanches_from_trajectories(padded, q0, max_shape_duration=depth)
        np.testing.assert_allclose(av.shapes.sums, ref.shapes.sums, rtol=1e-12)


SETTINGS = [  # ... and a way avalanches end there, which must be seen
    (1.0 + 1 / 32, 0.0, "tanh", 7, 1, "censored"),  # critical: reaches the last layer
    (1.5, 1e-4, "tanh", 7, 3, "censored"),  # masked rows between compactions, as on a GPU
    (0.9, 0.0, "tanh", 1, 1, "ended"),  # one input at a time
    (1e40, 0.0, "linear", 5, 1, "overflow"),  # overflows in float64 within the depth
    (2.0, 0.0, "relu", 40, 2, "ended"),  # batch never full: all inputs in from the start
]


@pytest.fixture(params=["compiled", "torch"])
def sampler(request, monkeypatch):
    """Both samplers a CPU run may use: the compiled one and torch's (where it is not built)."""
    if request.param == "torch":
        monkeypatch.setattr(ns, "compiled_sampler", lambda: None)
    elif ns.compiled_sampler() is None:
        pytest.skip("the compiled sampler is not built here")
    return request.param


@pytest.mark.parametrize("sizes", ["total", "excess"])
@pytest.mark.parametrize(("sw", "sb", "act", "capacity", "compact_every", "seen"), SETTINGS)
def test_marginal_kernel_matches_the_obvious_simulation(
    sw, sb, act, capacity, compact_every, seen, sampler, sizes
):
    args = (30, capacity, 32, 12, sw, sb, 1e-3, act, 4, compact_every)
    qs, overflow, censored = obvious_marginal(*args)
    assert_same(kernel(*args, sizes), qs, overflow, censored, 12, 1e-3, sizes=sizes)
    ended = ~censored & ~overflow & (np.array([len(q) for q in qs]) > 0)
    assert {"censored": censored, "overflow": overflow, "ended": ended}[seen].any()


def test_the_comparison_has_power():
    """A kernel run with sigma_w^2 off by 1% fails the same comparison."""
    args = (30, 7, 32, 12, 1.0 + 1 / 32, 0.0, 1e-3, "tanh", 4, 1)
    qs, overflow, censored = obvious_marginal(*args)
    wrong = kernel(30, 7, 32, 12, 1.01 * (1.0 + 1 / 32), 0.0, 1e-3, "tanh", 4, 1)
    with pytest.raises(AssertionError):
        assert_same(wrong, qs, overflow, censored, 12, 1e-3)


def test_blocks_do_not_depend_on_n_or_workers(monkeypatch):
    """Inputs per block and per step depend on the device and N only, so the same seed
    gives the same blocks whatever n and the number of threads."""
    monkeypatch.setitem(gk._MARGINAL_BLOCK_ELEMENTS, "cpu", 8 * 16)
    monkeypatch.setitem(gk._MARGINAL_REFILLS, "cpu", 4)
    assert gk.marginal_block(CPU, 16) == (32, 8)
    kw = dict(q0=1e-3, seed=2, method="marginal")
    three = list(g.iter_gaussian_avalanches(16, 30, 1.05, n=96, workers=1, **kw))
    four = list(g.iter_gaussian_avalanches(16, 30, 1.05, n=120, workers=2, **kw))
    assert [d for d, _ in three] == [0, 1, 2]
    assert [d for d, _ in four] == [0, 1, 2, 3]
    assert four[3][1].n + four[3][1].n_censored + four[3][1].n_empty == 24  # short last
    for (_, a), (_, b) in zip(three, four[:3], strict=True):
        assert a.n + a.n_censored + a.n_empty == 32
        np.testing.assert_array_equal(a.sizes, b.sizes)
        np.testing.assert_array_equal(a.durations, b.durations)
