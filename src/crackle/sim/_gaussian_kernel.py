"""Kernels of the Gaussian-network avalanche simulator: random streams, one group of
weight draws through the layers with compaction, and the avalanches it produced."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from crackle.events.avalanches import Avalanches
from crackle.sim._marginal_kernel import run_marginal
from crackle.sim._normal_stream import NormalStream
from crackle.sim._records import to_avalanches

# Which random numbers each input gets (block and batch sizes, the order of draws):
# bumped whenever that changes, and stored with a streamed run, so that a run directory
# begun by an earlier version is refused rather than resumed into a mixture of two
# layouts (whose draw indices would not even count the same inputs). 2: the 'marginal'
# kernel with one number of state per input and refilled batches (2026-11-24). 3: every
# method's normal numbers from NormalStream (the compiled sampler on a CPU where it is
# built; which sampler is stored with the run too, see sampler_name).
STREAM_VERSION = 3


def device_kind(dev: torch.device) -> str:
    """The key of the per-device settings below: "cpu" or "other" (an accelerator)."""
    return "cpu" if dev.type == "cpu" else "other"


def _draw_seed(entropy: int, draw: int) -> int:
    # One independent stream per weight draw, so the avalanches of draw d do not depend
    # on how draws are grouped into chunks or which ran before.
    ss = np.random.SeedSequence(entropy=entropy, spawn_key=(draw,))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _inputs(k: int, width: int, q0: float, rng: NormalStream) -> torch.Tensor:
    """k inputs of per-neuron signal strength exactly q0: (1/N) |x|^2 = q0 (on the
    stream's device, in its dtype)."""
    x = rng.randn((k, width))
    return x * torch.sqrt(q0 / x.pow(2).mean(dim=1, keepdim=True))


def _layer(
    rng: NormalStream,
    width: int,
    sw: float,
    sb: float,
    draws: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer's weights (N, N) and bias (N,); with ``draws``: (draws, N, N), (draws, 1, N)."""
    wshape: tuple[int, ...] = (width, width) if draws is None else (draws, width, width)
    bshape: tuple[int, ...] = (width,) if draws is None else (draws, 1, width)
    w = rng.randn(wshape).mul_(np.sqrt(sw / width))
    b = rng.randn(bshape).mul_(np.sqrt(sb))
    return w, b


# Method 'gram': a layer is drawn from its joint law given the live inputs while a draw
# has at most this fraction of N rows (then N m random numbers and O(N m^2) work beat the
# N^2 numbers and 2 N^2 m of explicit weights; measured crossover near m = N/2 on a CPU),
# and from explicit weights above it.
_GRAM_MAX_ROWS = 0.5
# Correlations between inputs are shrunk by 1/(1 + _GRAM_JITTER) so that the Cholesky
# factorisation never fails on (nearly) collinear inputs (copies of one input then
# differ by sqrt(2e-12) ~ 1e-6 of their z); each input's own variance, hence each
# avalanche's law, stays exact.
_GRAM_JITTER = 1e-12
# An input whose variance the inputs before it in its draw explain but for less than
# this share (read off the Cholesky factor's diagonal; two inputs correlated above
# 1 - 5e-5) gets its draw's Gram matrix in float64 on a CPU: there the float32 Gram
# matrix's rounding (about 1e-6 of a variance at N = 256) is more than 1% of what is
# left. Measured at N = 256 near criticality, float32 against float64: the unexplained
# variance off by at most 1.4% when it is 1e-4 to 1e-3 of the input's, by a median 6%
# (at most 22%) when it is 1e-5 to 1e-4. On a GPU the Gram matrix is float64 from the
# start (checking which draws need it would mean waiting).
_GRAM_UNEXPLAINED = 1e-4
_GRAM_FLOAT64_FIRST = {"cpu": False, "other": True}
_GRAM_LIVE_NOISE = {"cpu": True, "other": False}


def _gram_factor(
    x: torch.Tensor, alive: torch.Tensor, sw: float, sb: float, first_pass: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """L (float64) with L L^T = sigma_w^2 x x^T / N + sigma_b^2 for the live rows of each
    draw and the identity for the others. Rows that are not alive are zeroed first, so
    that their values (inf or NaN after an overflow) cannot reach the live rows.

    ``first_pass`` (a pass in the inputs' precision, to be redone in float64 where that
    is not enough): rows are not zeroed, as their NaN fails only their own draw's
    factorisation (LAPACK checks for NaN); also returned, per draw, whether it needs the
    redo: the factorisation failed, a variance is not finite, or an input is nearly a
    combination of the ones before it.
    """
    if not first_pass:
        x = torch.where(alive[:, :, None], x, 0.0)
    cov = torch.baddbmm(
        torch.full((1, 1, 1), sb, dtype=x.dtype, device=x.device),
        x,
        x.transpose(1, 2),
        alpha=sw / x.shape[2],
    ).double()
    var = cov.diagonal(dim1=1, dim2=2).clamp_min(1e-300)
    # One scaling turns covariances into correlations shrunk by 1 + _GRAM_JITTER and,
    # with 0 for finished rows, leaves those uncorrelated with the rest (the bias alone
    # would tie them), so that the live rows' values do not depend on which finished
    # rows are still in the batch.
    inv = torch.where(alive, var.rsqrt() / np.sqrt(1.0 + _GRAM_JITTER), 0.0)
    corr = cov.mul_(inv[:, :, None]).mul_(inv[:, None, :])
    corr.diagonal(dim1=1, dim2=2).fill_(1.0)
    chol, info = torch.linalg.cholesky_ex(corr)
    bad = None
    if first_pass:
        unexplained = chol.diagonal(dim1=1, dim2=2).amin(dim=1).square()
        bad = (
            (info > 0)
            | ~(unexplained >= _GRAM_UNEXPLAINED)  # NaN included
            | (alive & ~torch.isfinite(var)).any(dim=1)
        )
    sd = torch.where(alive, var.sqrt(), 1.0)
    return chol.mul_(sd[:, :, None]), bad


def _gram_layer(
    h: torch.Tensor,
    alive: torch.Tensor,
    sw: float,
    sb: float,
    rng: NormalStream,
) -> torch.Tensor:
    """One layer's pre-activations z = h W^T + b of the live rows of ``h`` (G, m, N),
    drawn from their exact joint law without forming W.

    W is independent of h, so the columns of z are independent and each is
    N(0, C) with C = sigma_w^2 h h^T / N + sigma_b^2 (an m x m matrix): z = L E with
    C = L L^T and E an m x N standard normal matrix. N m random numbers instead of N^2.
    Rows that are not alive (their avalanche ended, or padding) are uncorrelated with
    the live ones and get values nobody reads.
    """
    g, m, width = h.shape
    kind = device_kind(h.device)
    if _GRAM_FLOAT64_FIRST[kind] or h.dtype == torch.float64:
        factor = _gram_factor(h.double(), alive, sw, sb)[0]
    else:
        # The Gram matrix in the inputs' precision (float64 products cost twice as much
        # here: 14% of the run at N = 1024), redone in float64 for the draws with an
        # input all but explained by the others (_GRAM_UNEXPLAINED).
        factor, bad = _gram_factor(h, alive, sw, sb, first_pass=True)
        assert bad is not None
        if bool(bad.any()):
            factor[bad] = _gram_factor(h[bad].double(), alive[bad], sw, sb)[0]
    if _GRAM_LIVE_NOISE[kind]:
        # Numbers for the live rows only: a group pads every draw to its fullest one
        # (11-14% at N = 256-512 on 2 cores; counting them would make a GPU wait).
        noise = h.new_zeros((g, m, width))
        noise[alive] = rng.randn((int(alive.sum()), width))
    else:
        noise = rng.randn((g, m, width))
    return torch.bmm(factor.to(h.dtype), noise)


# Rows whose avalanche ended stay in the batch (masked) for up to this many layers before
# the batch is compacted: on a GPU compacting means a host-device synchronisation, which
# costs more than the wasted rows; on a CPU it costs a copy, less than one masked layer.
_COMPACT_EVERY = {"cpu": 1, "other": 8}
# Method 'marginal': numbers per step in its batch of inputs, large so that the few
# dozen small operations of a step are shared by many rows (measured on 2 cores, three
# runs each, ns per number at N = 256: 2^18 2.66-2.88, 2^19 2.58-2.73, 2^20 2.48-2.67,
# 2^21 2.36-2.49, 2^22 2.42-2.52; at N = 50 2^22 was 1.3x slower than 2^21, at N = 2048
# 2^21 and 2^22 were equal; again with the compiled sampler, three runs each, 2^20 /
# 2^21 / 2^22: 1.29-1.48 / 1.23-1.35 / 1.22-1.35 ns at N = 256, 1.05-1.14 / 1.00-1.04 /
# 0.97-0.99 at N = 1024). A block of inputs with one random stream holds
# _MARGINAL_REFILLS batches' worth, so that its last steps, when the batch runs dry, are
# few against the rest, but at most _MARGINAL_MAX_INPUTS inputs, so that at small N a
# run of 10^5 inputs still spreads over the cores (one block, one core; N = 50: 1.4x
# faster than uncapped). Fixed per device type, so that seeds reproduce on that device.
_MARGINAL_BLOCK_ELEMENTS = {"cpu": 1 << 21, "other": 1 << 24}
_MARGINAL_REFILLS = {"cpu": 64, "other": 16}
# On a GPU the cap bounds a block's records (about 15-40 per input, each turned into
# avalanches on the host at the block's end) to a few hundred MB.
_MARGINAL_MAX_INPUTS = {"cpu": 1 << 16, "other": 1 << 20}
# Matrix method on a GPU: weight draws go through the layers in groups, as batched
# products (draws x inputs x N) @ (draws x N x N), so that one layer step (a dozen
# kernel launches) serves many draws. A group has one random stream. On a CPU a group
# is one draw (the products are large enough, and draws run in parallel threads).
_GROUP_ELEMENTS = {"cpu": 0, "other": 1 << 26}
# Method 'gram' groups draws on a CPU too: its layers are small products (m x m
# factors, m x N noise) whose per-operation overhead a group shares, but a group carries
# as many rows per draw as its fullest draw. Measured on 2 cores: about 16 draws of
# 1024 inputs at N = 256 (3x faster than one draw per step), 4 at N = 1024.
_GRAM_GROUP_ELEMENTS = {"cpu": 1 << 22, "other": 1 << 26}
_MAX_GROUP = 256


def marginal_block(dev: torch.device, width: int) -> tuple[int, int]:
    """Method 'marginal': inputs per block (one random stream) and per step."""
    kind = device_kind(dev)
    capacity = max(1, _MARGINAL_BLOCK_ELEMENTS[kind] // width)
    per_block = max(capacity, min(capacity * _MARGINAL_REFILLS[kind], _MARGINAL_MAX_INPUTS[kind]))
    return per_block, capacity


def _group_size(dev: torch.device, k: int, width: int, method: str) -> int:
    if method == "marginal":
        return 1
    table = _GRAM_GROUP_ELEMENTS if method == "gram" else _GROUP_ELEMENTS
    budget = table[device_kind(dev)]
    # A layer of the group holds G x k x N inputs and, with explicit weights, G x N x N
    # weights (the larger when few inputs share a draw); 'gram' forms weights only while
    # a draw has more than N/2 rows.
    rows = k if method == "gram" else max(k, width)
    return max(1, min(_MAX_GROUP, budget // (rows * width)))


def _run_group(
    sizes: list[int],
    width: int,
    depth: int,
    sw: float,
    sb: float,
    q0: float,
    phi: Callable[[torch.Tensor], torch.Tensor],
    rng: NormalStream,
    dev: torch.device,
    dt: torch.dtype,
    max_shape: int | None,
    method: str = "matrix",
    baseline: float = 0.0,
    scale: float = 1.0,
) -> list[Avalanches]:
    """The inputs of one group of weight draws, with compaction; avalanches per draw.

    ``sizes[d]`` inputs go through draw d. ``method="matrix"``: the inputs of a draw
    share the layers' weights and go through them as one (batched) matrix product per
    layer. ``method="marginal"``: each input's own trajectory is sampled from its exact
    conditional law, z^l | h^{l-1} ~ N(0, (sigma_w^2 |h|^2/N + sigma_b^2) I), in O(N)
    per layer instead of O(N^2); the same law for every single avalanche, without the
    correlations between inputs that share weights (:func:`run_marginal`; ``phi`` may
    then overwrite its argument). Sizes and profiles are ``scale`` (q^l - ``baseline``)
    (:func:`~crackle.sim._records.to_avalanches`).
    """
    compact_every = _COMPACT_EVERY[device_kind(dev)]
    if method == "marginal":
        # One "draw" is a block of independent inputs (nothing is shared).
        av = run_marginal(
            sizes[0],
            marginal_block(dev, width)[1],
            width,
            depth,
            sw,
            sb,
            q0,
            phi,
            rng.fill_,
            dev,
            dt,
            max_shape,
            compact_every,
            baseline,
            scale,
        )
        return [av]
    n_draws, k = len(sizes), max(sizes)
    h = _inputs(n_draws * k, width, q0, rng).view(n_draws, k, width)
    ids = torch.arange(n_draws * k, device=dev).view(n_draws, k)
    # Rows past a short last draw are padding: never alive, dropped at the first compaction.
    alive = torch.arange(k, device=dev)[None, :] < torch.tensor(sizes, device=dev)[:, None]
    overflow = torch.zeros(n_draws * k, dtype=torch.int32, device=dev)  # never synced
    rec_ids: list[torch.Tensor] = []
    rec_q: list[torch.Tensor] = []
    rec_on: list[torch.Tensor] = []
    for layer in range(depth):
        if method == "gram" and h.shape[1] <= _GRAM_MAX_ROWS * width:
            z = _gram_layer(h, alive, sw, sb, rng)
        else:
            w, b = _layer(rng, width, sw, sb, h.shape[0])
            z = torch.baddbmm(b, h, w.transpose(1, 2))
        # One pass, no temporary (pow then mean costs 3.7x as much on a CPU).
        q = torch.linalg.vector_norm(z, dim=2).square_().div_(width)
        finite = torch.isfinite(q)
        overflow.index_add_(0, ids.reshape(-1), (alive & ~finite).reshape(-1).to(torch.int32))
        # A layer belongs to the avalanche when the input was still in it and stays above.
        alive = alive & finite & (q > q0)
        rec_ids.append(ids.reshape(-1))
        rec_q.append(q.reshape(-1))
        rec_on.append(alive.reshape(-1))
        if (layer + 1) % compact_every == 0:
            cap = int(alive.sum(dim=1).max())  # one synchronisation per stretch
            if cap == 0:
                break
            if method == "gram" and alive.shape[0] > 1:
                # Finished draws leave the group (a 'matrix' group keeps drawing their
                # weights, so that its random numbers match a draw-by-draw twin).
                going = alive.any(dim=1)
                if not bool(going.all()):
                    ids, alive, z = ids[going], alive[going], z[going]
            if cap < alive.shape[1]:
                # Live rows first, in order, within each draw; keep the longest draw's count.
                order = torch.argsort((~alive).to(torch.int8), dim=1, stable=True)[:, :cap]
                ids, alive = ids.gather(1, order), alive.gather(1, order)
                z = _take_rows(z, order)
        # The next layer's input; the first layer takes the raw input, as in Poole et al.
        h = phi(z) if layer + 1 < depth else z
    still = ids[alive]
    return to_avalanches(
        sizes, k, rec_ids, rec_q, rec_on, overflow > 0, still, max_shape, baseline, None, scale
    )


def _take_rows(z: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``z[d, order[d, i], :]`` for every draw d: whole rows by index (4x faster on a CPU
    than a gather with an index expanded over the N columns)."""
    g, rows, width = z.shape
    flat = (order + rows * torch.arange(g, device=z.device)[:, None]).reshape(-1)
    return z.reshape(g * rows, width).index_select(0, flat).view(g, order.shape[1], width)
