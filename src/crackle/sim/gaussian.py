"""Avalanches of signal strength in Gaussian-initialised deep networks
(Ghavasieh et al. 2025, Fig. 2).

Inputs that share one weight draw go through the layers together as matrix-matrix
products, and an input leaves the batch as soon as its avalanche ends (compaction), so
the work is proportional to the total duration of the avalanches, not to n x depth.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from crackle._random import seed_repr
from crackle._threads import torch_threads
from crackle._validation import (
    check_bool,
    check_callable,
    check_choice,
    check_int,
    check_memory,
    check_real,
    param_error,
)
from crackle.events.accumulator import AvalancheAccumulator
from crackle.events.avalanches import Avalanches
from crackle.sim._gaussian_kernel import (
    STREAM_VERSION,
    _draw_seed,
    _group_size,
    _run_group,
    marginal_block,
)
from crackle.sim._normal_stream import NormalStream, sampler_name
from crackle.sim._torch import (
    TORCH_ACTIVATIONS,
    TORCH_ACTIVATIONS_INPLACE,
    resolve_device,
    resolve_dtype,
)

__all__ = ["SIZE_DEFINITIONS", "gaussian_avalanches", "iter_gaussian_avalanches"]

_FUNC = "gaussian_avalanches"
# How a layer is drawn: explicit shared weights, the joint law of the inputs that share
# them given their Gram matrix, or each input's own conditional law.
METHODS = ("matrix", "gram", "marginal")
#: What an avalanche's size is, per value of the ``sizes`` argument (stored with a run,
#: so that a run directory begun with another definition, or with the sizes of earlier
#: versions, which lacked the width factor N, is refused rather than resumed into a
#: mixture of two units).
SIZE_DEFINITIONS = {
    "total": "S = N sum_l q^l (profile N q^l)",
    "excess": "S = N sum_l (q^l - q0) (profile N (q^l - q0))",
}


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
    workers: int | None = None,
    sizes: str = "total",
) -> Iterator[tuple[int, Avalanches]]:
    """Iterate ``(draw, avalanches)`` per weight draw: the streaming form of
    :func:`gaussian_avalanches` (same arguments, checked when called, before any work).
    ``start_draw`` skips the draws a resumed run already has; the rest are identical to
    an uninterrupted run."""
    width = check_int(width, "width", _FUNC, low=1)
    depth = check_int(depth, "depth", _FUNC, low=1)
    sw = check_real(sigma_w2, "sigma_w2", _FUNC, low=0.0, low_open=True)
    sb = check_real(sigma_b2, "sigma_b2", _FUNC, low=0.0)
    n = check_int(n, "n", _FUNC, low=1)
    q0 = check_real(q0, "q0", _FUNC, low=0.0, low_open=True)
    k = check_int(resample_every, "resample_every", _FUNC, low=1)
    act = check_choice(activation, "activation", _FUNC, sorted(TORCH_ACTIVATIONS))
    method = check_choice(method, "method", _FUNC, METHODS)
    baseline = (
        q0 if check_choice(sizes, "sizes", _FUNC, tuple(SIZE_DEFINITIONS)) == "excess" else 0.0
    )
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
        # inputs go in large fixed blocks, each with its own random stream, so that seeds
        # reproduce on a device whatever n.
        k = min(n, marginal_block(dev, width)[0])
    n_draws = -(-n // k)
    start_draw = check_int(start_draw, "start_draw", _FUNC, low=0, high=n_draws)
    if workers is None:
        # CPU: one thread per core (each group's random stream is serial). GPU: two, so
        # one group's avalanches are tallied on the host while the next one computes.
        workers = torch.get_num_threads() if dev.type == "cpu" else 2
    workers = check_int(workers, "workers", _FUNC, low=1)
    _check_memory(width, min(k, n), workers, method, dev, dt)
    phi = (TORCH_ACTIVATIONS_INPLACE if method == "marginal" else TORCH_ACTIVATIONS)[act]
    per_group = _group_size(dev, k, width, method)

    def group(g: int) -> list[Avalanches]:
        # One random stream per group of draws (a group is one draw on a CPU).
        rng = NormalStream(_draw_seed(entropy, g), dev, dt)
        first = g * per_group
        sizes = [min(k, n - d * k) for d in range(first, min(first + per_group, n_draws))]
        with torch.no_grad():
            return _run_group(
                sizes,
                width,
                depth,
                sw,
                sb,
                q0,
                phi,
                rng,
                dev,
                dt,
                max_shape,
                method,
                baseline,
                float(width),
            )

    groups = range(start_draw // per_group, -(-n_draws // per_group))
    if dev.type == "cpu" and workers > 1:
        return _one_thread_each(_in_order(group, groups, per_group, start_draw, workers))
    return _in_order(group, groups, per_group, start_draw, workers)


def _check_memory(
    width: int, batch: int, workers: int, method: str, dev: torch.device, dt: torch.dtype
) -> None:
    """Refuse, before allocating, a width whose weights and activations cannot fit."""
    item = torch.empty(0, dtype=dt).element_size()
    # Per worker: a weight matrix (matrix, gram) and a few batch x width activations.
    per = (0 if method == "marginal" else width * width) + 4 * batch * width
    need = float(item) * per * workers
    limit = None
    if dev.type == "cuda":
        limit = int(0.9 * torch.cuda.get_device_properties(dev).total_memory)
    check_memory(
        need,
        f"width {width} ({method}, {workers} worker(s), batches of {batch} inputs)",
        _FUNC,
        limit=limit,
        hint="Use a smaller width, fewer inputs per weight draw (resample_every) or fewer workers.",
    )


def _one_thread_each(draws: Iterator[tuple[int, Avalanches]]) -> Iterator[tuple[int, Avalanches]]:
    # Draws already run one per core: torch's own threads inside each would oversubscribe
    # the cores (measured 1.4x slower at N = 1024 on 2 cores).
    with torch_threads(1):
        yield from draws


def _in_order(
    func: Callable[[int], list[Avalanches]],
    groups: range,
    per_group: int,
    start_draw: int,
    workers: int,
) -> Iterator[tuple[int, Avalanches]]:
    """``(draw, avalanches)`` in draw order from ``start_draw`` on, ``workers`` groups in
    flight at once.

    torch's CPU generator is serial, so on a CPU the random numbers of one group use one
    core; groups in separate threads (torch releases the GIL) use the others. Each group
    has its own generator, so the results do not depend on ``workers``.
    """

    def emit(g: int, chunks: list[Avalanches]) -> Iterator[tuple[int, Avalanches]]:
        for i, chunk in enumerate(chunks):
            if g * per_group + i >= start_draw:
                yield g * per_group + i, chunk

    if workers == 1:
        for g in groups:
            yield from emit(g, func(g))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[list[Avalanches]]]] = deque()
        for g in groups:
            pending.append((g, pool.submit(func, g)))
            if len(pending) > workers:
                done, fut = pending.popleft()
                yield from emit(done, fut.result())
        while pending:
            done, fut = pending.popleft()
            yield from emit(done, fut.result())


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
    workers: int | None = None,
    out: str | Path | None = None,
    sizes: str = "total",
) -> Avalanches:
    """Avalanches of signal strength in Gaussian-initialised deep networks.

    Network of width N and depth L: ``z^1 = W^1 x + b^1``,
    ``z^l = W^l phi(z^{l-1}) + b^l``, ``W_ij ~ N(0, sigma_w^2/N)``,
    ``b_i ~ N(0, sigma_b^2)``, weights and biases redrawn every ``resample_every``
    inputs. Each input has per-neuron signal strength exactly ``q0``; the signal
    strength of layer l is ``q^l = (1/N) sum_i (z^l_i)^2``. The avalanche of an input
    lasts while ``q^l > q0`` from the first layer on (duration T; size
    ``S = N sum q^l`` over those layers, the accumulated signal strength of the N
    neurons, or its excess over the threshold, see ``sizes``). Inputs still above
    threshold at layer L, or whose
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
        and log q performs a nearly unbiased random walk (Ghavasieh et al. 2025, Methods).
    resample_every : int
        Inputs per weight draw; they propagate together as one matrix product (methods
        'matrix' and 'gram': 'marginal' shares no weights; its inputs go in blocks with
        one random stream each, 64 batches of 2^21 / N inputs, at most 65,536, on a CPU
        and 16 batches of 2^24 / N, at most 2^20, on a GPU).
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
    method : 'matrix', 'gram' or 'marginal'
        'matrix': the inputs of a weight draw share every layer's weights and bias and
        go through each layer as one matrix product, as in the paper. 'gram': the same
        joint law of the inputs of a draw, without forming the weights while a draw has
        at most N/2 live inputs: given the live inputs h (m x N), the columns of
        z = h W^T + b are independent N(0, C) with C = sigma_w^2 h h^T / N + sigma_b^2,
        so z = chol(C) E with E an m x N standard normal matrix; N m random numbers and
        O(N m^2) work per layer instead of N^2 and 2 N^2 m (correlations shrunk by
        1e-12 so that the factorisation never fails). Several times faster than
        'matrix' at criticality, where most layers carry few live inputs. 'marginal': each
        input's trajectory is drawn from its exact conditional law
        z^l | h^{l-1} ~ N(0, (sigma_w^2 |h^{l-1}|^2 / N + sigma_b^2) I) (W^l is
        independent of h^{l-1}), in O(N) per layer instead of O(N^2): the same law for
        every single avalanche, hence the same size and duration distributions, but no
        correlations between inputs that would have shared weights. Its state per
        input is one number, so it is the fastest by far (0.7-5.8x the dense GEMM's
        FLOP/s in useful work at N = 256-2048 on 2 CPU cores).
    sink : callable, optional
        Receives each draw's :class:`Avalanches` (for example an ``AvalancheWriter``).
    keep_events : bool
        Keep every size and duration in memory (False: shapes and counts only, memory
        flat in n; the events go to ``sink``).
    progress : callable, optional
        Called with the number of inputs done after each draw.
    sizes : 'total' or 'excess'
        'total', as Ghavasieh et al. define it: S = N sum of q^l over the avalanche,
        profile N q^l. q^l is a mean over the N neurons; the factor N turns it into the
        layer's total signal strength. 'excess': S = N sum of (q^l - q0), profile
        N (q^l - q0): the area between the signal and the threshold, with the same
        factor N, so that total = excess + N q0 T exactly and both are in one unit.
        Short avalanches have a total size close to N q0 T, so it mixes the duration
        into the size; the excess is the random-walk excursion area (tau = 4/3,
        <S>(T) ~ T^(3/2) for an unbiased walk of log q). A constant factor leaves every
        exponent unchanged but moves the distributions along the size axis (by log N
        between widths). ``info["size_definition"]`` records which one (see
        ``SIZE_DEFINITIONS``); a streamed run refuses to resume with another.
    out : path, optional
        Stream to this run directory (``config.json``, ``avalanches.parquet``,
        ``shapes.npz``; Parquet part files and ``totals.npz`` while running, saved every
        20 s). Calling again with the same arguments resumes a stopped run where its
        last save left it and gives the same avalanches as an uninterrupted run;
        other arguments are an error. Needs an integer ``seed``.
    workers : int or None
        Weight draws (blocks) in flight at once. torch's CPU random generator is
        serial, so on a CPU each draw runs in its own thread with its own generator
        (with more than one worker, torch itself runs on one thread while the draws
        are computed);
        default: ``torch.get_num_threads()`` on a CPU, 2 on a GPU (one group is tallied
        on the host while the next computes). The avalanches do
        not depend on it.

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
    sizes = check_choice(sizes, "sizes", _FUNC, tuple(SIZE_DEFINITIONS))
    sigma_w2 = check_real(sigma_w2, "sigma_w2", _FUNC, low=0.0, low_open=True)
    sigma_b2 = check_real(sigma_b2, "sigma_b2", _FUNC, low=0.0)
    keep_events = check_bool(keep_events, "keep_events", _FUNC)
    check_callable(sink, "sink", _FUNC)
    check_callable(progress, "progress", _FUNC)
    if out is not None and not isinstance(out, str | Path):
        raise param_error("out", _FUNC, "a path (str or Path) or None", out)
    shape_len = depth if max_shape_duration is None else max_shape_duration
    shape_len = check_int(shape_len, "max_shape_duration", _FUNC, low=1)
    info: dict[str, Any] = {
        "source": "gaussian_avalanches",
        "stream_version": STREAM_VERSION,
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
        "method": method,
        # Which generator drew the numbers: part of the stream, like stream_version.
        "normal_sampler": sampler_name(resolve_device(device, _FUNC), resolve_dtype(dtype, _FUNC)),
        "max_shape_duration": shape_len,
        "sizes": sizes,
        "size_definition": SIZE_DEFINITIONS[sizes],
    }

    def draws(start: int) -> Iterator[tuple[int, Avalanches]]:
        return iter_gaussian_avalanches(
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
            start_draw=start,
            workers=workers,
            sizes=sizes,
        )

    if out is not None:
        if seed is None:
            raise param_error(
                "seed",
                _FUNC,
                "an integer when out is given (a resumed run must redraw the same avalanches)",
                seed,
            )
        from crackle.sim._stream import stream_to_run

        draws(0)  # checks every argument before anything is written
        av, totals = stream_to_run(
            out, info, draws, shape_len, keep_events=keep_events, progress=progress
        )
        info["n_overflow"] = totals.n_overflow
        if not keep_events:
            info.update(n_censored_unrecorded=totals.n_censored, n_complete=totals.n)
        return replace(av, info=info)
    acc = AvalancheAccumulator(max_shape_duration=shape_len, keep_events=keep_events, sink=sink)
    n_overflow, done = 0, 0
    for _, chunk in draws(0):
        acc.update(chunk)
        n_overflow += int(chunk.info["n_overflow"])
        done += chunk.n + chunk.n_censored + chunk.n_empty
        if progress is not None:
            progress(done)
    info["n_overflow"] = n_overflow
    if not keep_events:
        return Avalanches(
            np.zeros(0),
            np.zeros(0, np.int64),
            shapes=acc.shapes,
            n_empty=acc.n_empty,
            info={**info, "n_censored_unrecorded": acc.n_censored, "n_complete": acc.n},
        )
    return replace(acc.compute(), info=info)
