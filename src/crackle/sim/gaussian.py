"""Avalanches of signal strength in Gaussian-initialised deep networks (seed 002, Fig. 2).

Inputs that share one weight draw go through the layers together as matrix-matrix
products, and an input leaves the batch as soon as its avalanche ends (compaction), so
the work is proportional to the total duration of the avalanches, not to n x depth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from crackle._random import seed_repr
from crackle._validation import check_choice, check_int, check_real
from crackle.events.accumulator import AvalancheAccumulator
from crackle.events.avalanches import Avalanches
from crackle.events.shapes import ShapeSums
from crackle.sim._torch import TORCH_ACTIVATIONS, resolve_device, resolve_dtype

__all__ = ["gaussian_avalanches", "iter_gaussian_avalanches"]

_FUNC = "gaussian_avalanches"


def _draw_seed(entropy: int, draw: int) -> int:
    # One independent stream per weight draw, so the avalanches of draw d do not depend
    # on how draws are grouped into chunks or which ran before.
    ss = np.random.SeedSequence(entropy=entropy, spawn_key=(draw,))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _inputs(
    k: int, width: int, q0: float, gen: torch.Generator, dev: torch.device, dt: torch.dtype
) -> torch.Tensor:
    """k inputs of per-neuron signal strength exactly q0: (1/N) |x|^2 = q0."""
    x = torch.randn(k, width, generator=gen, device=dev, dtype=dt)
    return x * torch.sqrt(q0 / x.pow(2).mean(dim=1, keepdim=True))


def _layer(
    gen: torch.Generator, width: int, sw: float, sb: float, dev: torch.device, dt: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    w = torch.randn(width, width, generator=gen, device=dev, dtype=dt) * np.sqrt(sw / width)
    b = torch.randn(width, generator=gen, device=dev, dtype=dt) * np.sqrt(sb)
    return w, b


# Rows whose avalanche ended stay in the batch (masked) for up to this many layers before
# the batch is compacted: compacting means a host-device synchronisation, which on a GPU
# costs more than the wasted rows.
_COMPACT_EVERY = 8
_MARGINAL_BLOCK_ELEMENTS = 1 << 24


def _run_draw(
    k: int,
    width: int,
    depth: int,
    sw: float,
    sb: float,
    q0: float,
    phi: Callable[[torch.Tensor], torch.Tensor],
    gen: torch.Generator,
    dev: torch.device,
    dt: torch.dtype,
    max_shape: int | None,
    method: str = "matrix",
) -> Avalanches:
    """k inputs through one weight draw, with compaction; avalanches on the CPU.

    ``method="matrix"``: the inputs share the layers' weights and go through them as one
    matrix product per layer. ``method="marginal"``: each input's own trajectory is
    sampled from its exact conditional law, z^l | h^{l-1} ~ N(0, (sigma_w^2 |h|^2/N +
    sigma_b^2) I), in O(N) per layer instead of O(N^2); the same law for every single
    avalanche, without the correlations between inputs that share weights.
    """
    h = _inputs(k, width, q0, gen, dev, dt)
    ids = torch.arange(k, device=dev)
    alive = torch.ones(k, dtype=torch.bool, device=dev)
    overflow = torch.zeros(k, dtype=torch.int32, device=dev)  # per input, never synced
    rec_ids: list[torch.Tensor] = []
    rec_q: list[torch.Tensor] = []
    rec_on: list[torch.Tensor] = []
    for layer in range(depth):
        if method == "matrix":
            w, b = _layer(gen, width, sw, sb, dev, dt)
            z = torch.addmm(b, h, w.T)
        else:
            scale = torch.sqrt(sw * h.pow(2).mean(dim=1, keepdim=True) + sb)
            z = scale * torch.randn(h.shape, generator=gen, device=dev, dtype=dt)
        q = z.pow(2).mean(dim=1)
        finite = torch.isfinite(q)
        overflow.index_add_(0, ids, (alive & ~finite).to(torch.int32))
        # A layer belongs to the avalanche when the input was still in it and stays above.
        alive = alive & finite & (q > q0)
        rec_ids.append(ids)
        rec_q.append(q)
        rec_on.append(alive)
        if (layer + 1) % _COMPACT_EVERY == 0:
            keep = torch.nonzero(alive).squeeze(1)  # one synchronisation per stretch
            if keep.numel() == 0:
                break
            if keep.numel() < alive.numel():
                ids, z, alive = ids[keep], z[keep], alive[keep]
        # The next layer's input; the first layer takes the raw input, as in Poole et al.
        h = phi(z) if layer + 1 < depth else z
    return _to_avalanches(k, rec_ids, rec_q, rec_on, overflow > 0, ids[alive], max_shape)


def _to_avalanches(
    k: int,
    rec_ids: list[torch.Tensor],
    rec_q: list[torch.Tensor],
    rec_on: list[torch.Tensor],
    overflow: torch.Tensor,
    still_alive: torch.Tensor,
    max_shape: int | None,
) -> Avalanches:
    n_layers = len(rec_ids)
    if n_layers:
        on = torch.cat(rec_on)
        ids = torch.cat(rec_ids)[on].cpu().numpy()
        q = torch.cat(rec_q)[on].cpu().numpy().astype(np.float64)
        counts = torch.stack([r.sum() for r in rec_on]).cpu().numpy()
        pos = np.repeat(np.arange(n_layers), counts)
    else:
        ids, q, pos = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    # Layer by layer, in order: a sequential sum, bit-identical however draws are chunked.
    sizes = np.bincount(ids, weights=q, minlength=k).astype(np.float64)
    dur = np.bincount(ids, minlength=k).astype(np.int64)
    over = overflow.cpu().numpy()
    censored = np.zeros(k, dtype=bool)
    censored[still_alive.cpu().numpy()] = True  # above threshold at the last layer
    censored |= over
    complete = ~censored & (dur > 0)
    shapes = None
    if max_shape is not None:
        keep = complete[ids]
        shapes = ShapeSums.from_flat(dur[ids[keep]], pos[keep], q[keep], dur[complete], max_shape)
    return Avalanches(
        sizes[complete],
        dur[complete],
        sizes[censored],
        dur[censored],
        shapes,
        int(((dur == 0) & ~censored).sum()),
        {"n_overflow": int(over.sum())},
    )


def iter_gaussian_avalanches(
    width: int,
    depth: int,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    n: int = 100_000,
    *,
    q0: float = 1e-3,
    resample_every: int = 1024,
    activation: str = "tanh",
    seed: int | None = None,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "float32",
    max_shape_duration: int | None = None,
    method: str = "matrix",
    start_draw: int = 0,
) -> Iterator[tuple[int, Avalanches]]:
    """Yield ``(draw, avalanches)`` per weight draw: the streaming form of
    :func:`gaussian_avalanches` (same arguments). ``start_draw`` skips the draws a
    resumed run already has; the rest are identical to an uninterrupted run."""
    width = check_int(width, "width", _FUNC, low=1)
    depth = check_int(depth, "depth", _FUNC, low=1)
    sw = check_real(sigma_w2, "sigma_w2", _FUNC, low=0.0, low_open=True)
    sb = check_real(sigma_b2, "sigma_b2", _FUNC, low=0.0)
    n = check_int(n, "n", _FUNC, low=1)
    q0 = check_real(q0, "q0", _FUNC, low=0.0, low_open=True)
    k = check_int(resample_every, "resample_every", _FUNC, low=1)
    act = check_choice(activation, "activation", _FUNC, sorted(TORCH_ACTIVATIONS))
    method = check_choice(method, "method", _FUNC, ("matrix", "marginal"))
    if seed is not None:
        seed = check_int(seed, "seed", _FUNC, low=0)
    dev = resolve_device(device, _FUNC)
    dt = resolve_dtype(dtype, _FUNC)
    max_shape = (
        depth
        if max_shape_duration is None
        else check_int(max_shape_duration, "max_shape_duration", _FUNC, low=1)
    )
    entropy = int(np.random.SeedSequence().entropy) if seed is None else seed  # type: ignore[arg-type]
    if method == "marginal":
        # No weights are shared in this method, so inputs per weight draw mean nothing;
        # inputs go in large fixed blocks (at most 2^24 numbers per layer), which amortise
        # the per-layer overhead that dominates on a GPU. Fixed, so seeds reproduce.
        k = max(1, min(n, _MARGINAL_BLOCK_ELEMENTS // width))
    n_draws = -(-n // k)
    start_draw = check_int(start_draw, "start_draw", _FUNC, low=0, high=n_draws)
    phi = TORCH_ACTIVATIONS[act]
    for d in range(start_draw, n_draws):
        gen = torch.Generator(device=dev).manual_seed(_draw_seed(entropy, d))
        size = min(k, n - d * k)
        with torch.no_grad():
            yield d, _run_draw(size, width, depth, sw, sb, q0, phi, gen, dev, dt, max_shape, method)


def gaussian_avalanches(
    width: int,
    depth: int,
    sigma_w2: float,
    sigma_b2: float = 0.0,
    n: int = 100_000,
    *,
    q0: float = 1e-3,
    resample_every: int = 1024,
    activation: str = "tanh",
    seed: int | None = None,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "float32",
    max_shape_duration: int | None = None,
    method: str = "matrix",
    sink: Callable[[Avalanches], None] | None = None,
    keep_events: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Avalanches:
    """Avalanches of signal strength in Gaussian-initialised deep networks.

    Network of width N and depth L: ``z^1 = W^1 x + b^1``,
    ``z^l = W^l phi(z^{l-1}) + b^l``, ``W_ij ~ N(0, sigma_w^2/N)``,
    ``b_i ~ N(0, sigma_b^2)``, weights and biases redrawn every ``resample_every``
    inputs. Each input has per-neuron signal strength exactly ``q0``; the signal
    strength of layer l is ``q^l = (1/N) sum_i (z^l_i)^2``. The avalanche of an input
    lasts while ``q^l > q0`` from the first layer on (duration T, size the sum of those
    q^l, profile the q^l themselves). Inputs still above threshold at layer L, or whose
    signal overflows (``info["n_overflow"]``), are censored; inputs below threshold at
    layer 1 count in ``n_empty``.

    Parameters
    ----------
    width, depth : int
        N and L.
    sigma_w2, sigma_b2 : float
        Weight and bias variances (sigma_w^2 > 0, sigma_b^2 >= 0).
    n : int
        Number of inputs (one avalanche each, complete, censored or empty).
    q0 : float
        Input signal strength and threshold; small (1e-3) so that tanh is nearly linear
        and log q performs a nearly unbiased random walk (SCIENCE.md section 1).
    resample_every : int
        Inputs per weight draw; they propagate together as one matrix product (method
        'matrix' only: 'marginal' shares no weights and works in blocks of up to 2^24
        numbers per layer).
    activation : str
        One of 'erf', 'gelu', 'hard_tanh', 'linear', 'relu', 'selu', 'tanh'.
    seed : int or None
        The same seed gives the same avalanches on the same device and dtype, however
        the work is chunked (each weight draw has its own random stream).
    device : str or torch.device
        'cpu', 'cuda', 'cuda:1', ...; a device that is not there is a clear error.
    dtype : 'float32' or 'float64'
    max_shape_duration : int or None
        Longest duration whose profiles are summed; default ``depth``.
    method : 'matrix' or 'marginal'
        'matrix': the inputs of a weight draw share every layer's weights and bias and
        go through each layer as one matrix product, as in the paper. 'marginal': each
        input's trajectory is drawn from its exact conditional law
        z^l | h^{l-1} ~ N(0, (sigma_w^2 |h^{l-1}|^2 / N + sigma_b^2) I) (W^l is
        independent of h^{l-1}), in O(N) per layer instead of O(N^2): the same law for
        every single avalanche, hence the same size and duration distributions, but no
        correlations between inputs that would have shared weights.
    sink : callable, optional
        Receives each draw's :class:`Avalanches` (for example an ``AvalancheWriter``).
    keep_events : bool
        Keep every size and duration in memory (False: shapes and counts only, memory
        flat in n; the events go to ``sink``).
    progress : callable, optional
        Called with the number of inputs done after each draw.

    Returns
    -------
    Avalanches
        With ``info`` recording every parameter.

    References
    ----------
    Ghavasieh et al., "Toward a Physics of Deep Learning and Brains", arXiv 2509.22649
    (2025); Poole et al., NeurIPS 2016.

    Examples
    --------
    >>> from crackle.sim import gaussian_avalanches
    >>> av = gaussian_avalanches(64, 50, 1.0 + 1 / 64, n=2000, seed=0)
    >>> av.n + av.n_censored + av.n_empty
    2000
    """
    depth = check_int(depth, "depth", _FUNC, low=1)
    shape_len = depth if max_shape_duration is None else max_shape_duration
    acc = AvalancheAccumulator(
        max_shape_duration=check_int(shape_len, "max_shape_duration", _FUNC, low=1),
        keep_events=keep_events,
        sink=sink,
    )
    n_overflow, done = 0, 0
    for _, chunk in iter_gaussian_avalanches(
        width,
        depth,
        sigma_w2,
        sigma_b2,
        n,
        q0=q0,
        resample_every=resample_every,
        activation=activation,
        seed=seed,
        device=device,
        dtype=dtype,
        max_shape_duration=max_shape_duration,
        method=method,
    ):
        acc.update(chunk)
        n_overflow += int(chunk.info["n_overflow"])
        done += chunk.n + chunk.n_censored + chunk.n_empty
        if progress is not None:
            progress(done)
    info: dict[str, Any] = {
        "source": "gaussian_avalanches",
        "width": width,
        "depth": depth,
        "sigma_w2": float(sigma_w2),
        "sigma_b2": float(sigma_b2),
        "n": n,
        "q0": q0,
        "threshold": q0,
        "resample_every": resample_every,
        "activation": activation,
        "seed": seed_repr(seed),
        "device": str(device),
        "dtype": str(dtype),
        "n_overflow": n_overflow,
        "method": method,
    }
    if not keep_events:
        return Avalanches(
            np.zeros(0),
            np.zeros(0, np.int64),
            shapes=acc.shapes,
            n_empty=acc.n_empty,
            info={**info, "n_censored_unrecorded": acc.n_censored, "n_complete": acc.n},
        )
    av = acc.compute()
    return Avalanches(
        av.sizes,
        av.durations,
        av.censored_sizes,
        av.censored_durations,
        av.shapes,
        av.n_empty,
        info,
    )
