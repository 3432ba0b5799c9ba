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
from crackle._validation import check_choice, check_int, check_real, param_error
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
) -> Avalanches:
    """k inputs through one weight draw, with compaction; avalanches on the CPU."""
    h = _inputs(k, width, q0, gen, dev, dt)
    ids = torch.arange(k, device=dev)
    rec_ids: list[torch.Tensor] = []
    rec_q: list[torch.Tensor] = []
    overflow = torch.zeros(k, dtype=torch.bool, device=dev)
    for layer in range(depth):
        w, b = _layer(gen, width, sw, sb, dev, dt)
        z = torch.addmm(b, h, w.T)
        q = z.pow(2).mean(dim=1)
        finite = torch.isfinite(q)
        if not bool(finite.all()):
            overflow[ids[~finite]] = True
        alive = finite & (q > q0)
        ids, z, q = ids[alive], z[alive], q[alive]
        if ids.numel() == 0:
            break
        rec_ids.append(ids)
        rec_q.append(q)
        # The next layer's input; the first layer takes the raw input, as in Poole et al.
        h = phi(z) if layer + 1 < depth else z
    return _to_avalanches(k, depth, rec_ids, rec_q, overflow, ids, max_shape)


def _to_avalanches(
    k: int,
    depth: int,
    rec_ids: list[torch.Tensor],
    rec_q: list[torch.Tensor],
    overflow: torch.Tensor,
    still_alive: torch.Tensor,
    max_shape: int | None,
) -> Avalanches:
    n_layers = len(rec_ids)
    if n_layers:
        ids = torch.cat(rec_ids).cpu().numpy()
        q = torch.cat(rec_q).cpu().numpy().astype(np.float64)
        pos = np.repeat(np.arange(n_layers), [int(r.numel()) for r in rec_ids])
    else:
        ids, q, pos = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    # Layer by layer, in order: a sequential sum, bit-identical however draws are chunked.
    sizes = np.bincount(ids, weights=q, minlength=k).astype(np.float64)
    dur = np.bincount(ids, minlength=k).astype(np.int64)
    censored = np.zeros(k, dtype=bool)
    censored[still_alive.cpu().numpy()] = True  # above threshold at the last layer
    over = overflow.cpu().numpy()
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
        int((dur == 0).sum() - (over & (dur == 0)).sum()),
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
    n_draws = -(-n // k)
    start_draw = check_int(start_draw, "start_draw", _FUNC, low=0, high=n_draws)
    phi = TORCH_ACTIVATIONS[act]
    for d in range(start_draw, n_draws):
        gen = torch.Generator(device=dev).manual_seed(_draw_seed(entropy, d))
        size = min(k, n - d * k)
        with torch.no_grad():
            yield d, _run_draw(size, width, depth, sw, sb, q0, phi, gen, dev, dt, max_shape)


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
        Inputs per weight draw; they propagate together as one matrix product.
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
    acc = (
        AvalancheAccumulator(
            max_shape_duration=depth if max_shape_duration is None else max_shape_duration,
            keep_events=keep_events,
            sink=sink,
        )
        if isinstance(depth, int) and depth >= 1
        else None
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
    ):
        assert acc is not None  # depth was validated by the iterator
        acc.update(chunk)
        n_overflow += int(chunk.info["n_overflow"])
        done += chunk.n + chunk.n_censored + chunk.n_empty
        if progress is not None:
            progress(done)
    if acc is None:
        raise param_error("depth", _FUNC, "an integer >= 1", depth)
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
