"""Null models: activity and avalanches that look heavy-tailed but are not critical.

A verdict on criticality is calibrated on ground truths (critical branching processes,
:func:`crackle.sim.branching_process` at m = 1) and on nulls, which these functions
make:

- :func:`iid_poisson_activity`: independent Poisson counts per time bin, no branching
  at all. Thresholded at zero (:func:`crackle.avalanches_from_counts`) its avalanche
  durations are geometric, P(T = k) = q^(k - 1) (1 - q) with q = 1 - exp(-rate).
- :func:`lognormal_avalanches` and :func:`stretched_exponential_avalanches`: durations
  from a discretised lognormal or stretched exponential whose local exponent drifts
  slowly, so that the distribution looks like a power law over one to three decades;
  sizes that follow <S>(T) = T^gamma exactly on average (the scaling relation holds
  by construction) and profiles of one smooth shape, so that every part of the
  crackling-noise battery, the shape collapse included, runs on them. Their size and
  duration laws are not power laws: a verdict that calls them critical trusts a
  straight-looking line and the scaling relation alone.

The default parameters are hard nulls, chosen as follows. The local exponent of a
density, -d ln p / d ln T, is constant for a power law. For the lognormal it is
1 + (ln T - mu) / sigma^2 and for the stretched exponential
p(T) ~ T^(beta - 1) exp(-lam T^beta) it is 1 - beta + beta lam T^beta. The defaults
make it go from 1.5 at T = 1 to 2.5 at T = 1000 in both (mean-field directed
percolation, the class a critical branching process is in, has alpha = 2 throughout):
heavy-tailed over three decades, with a curvature of a third of a unit of exponent per
decade, far from an exponential's and small enough that a short record cannot see it.
With 10^5 avalanches the longest lasts a few thousand steps.

References
----------
Clauset, Shalizi & Newman, "Power-law distributions in empirical data", SIAM Rev. 51,
661 (2009), arXiv 0706.1062 (lognormal and stretched exponential as the alternatives
to a power law); Touboul & Destexhe, "Power-law statistics and universal scaling in the
absence of criticality", Phys. Rev. E 95, 012413 (2017), arXiv 1503.08033 (scaling
relations that hold without criticality); Laurson et al., Nat. Commun. 4, 2927 (2013)
(the profile shape (x (1 - x))^(gamma - 1)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import check_int, check_real
from crackle.events.avalanches import DEFAULT_MAX_SHAPE_DURATION, Avalanches
from crackle.events.shapes import ShapeSums

__all__ = [
    "iid_poisson_activity",
    "lognormal_avalanches",
    "stretched_exponential_avalanches",
]

# Profiles are built in blocks of this many avalanches so memory stays bounded; fixed
# (not a parameter) so that a seed always gives the same avalanches.
_BLOCK = 1 << 16


def iid_poisson_activity(rate: float, n_steps: int, seed: SeedLike = None) -> NDArray[np.int64]:
    """Independent Poisson(rate) counts per time bin: activity with no branching at all.

    Thresholded at zero, the avalanches are runs of non-empty bins: durations are
    geometric, P(T = k) = q^(k - 1) (1 - q) with q = 1 - exp(-rate), and about
    ``n_steps q (1 - q)`` of them start in the record. The branching ratio is zero:
    the counts of one bin do not depend on the previous bin's.

    Parameters
    ----------
    rate : float
        Mean count per bin, > 0.
    n_steps : int
        Number of bins.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same seed gives the same counts.

    Returns
    -------
    ndarray of int64, shape (n_steps,)
        The counts, for :func:`crackle.avalanches_from_counts`.

    References
    ----------
    Touboul & Destexhe, Phys. Rev. E 95, 012413 (2017), arXiv 1503.08033.

    Examples
    --------
    >>> import crackle as ck
    >>> from crackle.sim import iid_poisson_activity
    >>> counts = iid_poisson_activity(1.0, 100_000, seed=0)
    >>> av = ck.avalanches_from_counts(counts)
    >>> q = 1 - np.exp(-1.0)
    >>> bool(abs(av.durations.mean() - 1 / (1 - q)) < 0.05)
    True
    """
    func = "iid_poisson_activity"
    # numpy's Poisson sampler takes means up to about 1e18
    rate = check_real(rate, "rate", func, low=0.0, low_open=True, high=1e15)
    n_steps = check_int(n_steps, "n_steps", func, low=1)
    rng = as_generator(seed, func)
    return rng.poisson(rate, n_steps).astype(np.int64)


def lognormal_avalanches(
    n: int = 100_000,
    *,
    mu: float = -3.5,
    sigma: float = 2.6,
    gamma: float = 2.0,
    size_noise: float = 0.5,
    shape_noise: float = 0.3,
    max_shape_duration: int | None = DEFAULT_MAX_SHAPE_DURATION,
    seed: SeedLike = None,
) -> Avalanches:
    """Avalanches with discretised lognormal durations: heavy-tailed, not critical.

    Durations T = floor(X), X lognormal(mu, sigma) conditioned on X >= 1; the local
    exponent of P(T) is 1 + (ln T - mu) / sigma^2 (1.52 at T = 1, 2.02 at T = 30,
    2.54 at T = 1000 with the defaults). Sizes S = T^gamma eps with eps lognormal of
    mean 1 and log-standard deviation ``size_noise``; profiles
    S w(t) / sum_t w(t), w(t) = (x (1 - x))^(gamma - 1) eta_t at x = (t + 1/2) / T, eta_t
    lognormal of mean 1 and log-standard deviation ``shape_noise`` (so a profile sums
    to its size). See the module docstring for why these defaults.

    Parameters
    ----------
    n : int
        Number of avalanches (all complete).
    mu, sigma : float
        Mean and standard deviation of ln X (sigma > 0).
    gamma : float
        Exponent of <S>(T) = T^gamma and of the shape collapse, > 0.
    size_noise, shape_noise : float
        Log-standard deviations of the size and profile noise, >= 0.
    max_shape_duration : int or None
        Longest duration whose profiles are summed (None: no shapes).
    seed : int, numpy.random.Generator or None
        Source of randomness; the same seed gives the same avalanches.

    Returns
    -------
    Avalanches
        Real-valued sizes, integer durations >= 1, shape sums; ``info`` records the
        generator and its parameters.

    References
    ----------
    Clauset, Shalizi & Newman, SIAM Rev. 51, 661 (2009), arXiv 0706.1062.

    Examples
    --------
    >>> from crackle.sim import lognormal_avalanches
    >>> av = lognormal_avalanches(10_000, seed=0)
    >>> av.n, int(av.durations.min()), av.info["source"]
    (10000, 1, 'lognormal_avalanches')
    """
    func = "lognormal_avalanches"
    mu = check_real(mu, "mu", func)
    sigma = check_real(sigma, "sigma", func, low=0.0, low_open=True)
    # P(X >= 1) = P(Z >= a) with ln X = mu + sigma Z; inverse survival function of the
    # standard normal conditioned on Z >= a, stable far in the tail.
    a = -mu / sigma
    tail = float(ndtr(-a))

    def draw(u: NDArray[np.float64]) -> NDArray[np.float64]:
        z = -ndtri(u * tail)
        return np.asarray(np.exp(mu + sigma * z))

    params = {"mu": mu, "sigma": sigma}
    return _avalanches(
        func, draw, params, n, gamma, size_noise, shape_noise, max_shape_duration, seed
    )


def stretched_exponential_avalanches(
    n: int = 100_000,
    *,
    beta: float = 0.14,
    lam: float = 4.6,
    gamma: float = 2.0,
    size_noise: float = 0.5,
    shape_noise: float = 0.3,
    max_shape_duration: int | None = DEFAULT_MAX_SHAPE_DURATION,
    seed: SeedLike = None,
) -> Avalanches:
    """Avalanches with discretised stretched-exponential durations: heavy-tailed, not
    critical.

    Durations T = floor(X), X of density p(x) ~ x^(beta - 1) exp(-lam x^beta) for
    x >= 1 (Clauset et al.'s form; P(X > x) = exp(-lam (x^beta - 1))); the local
    exponent of P(T) is 1 - beta + beta lam T^beta (1.50 at T = 1, 1.90 at T = 30,
    2.55 at T = 1000 with the defaults). Sizes and profiles as in
    :func:`lognormal_avalanches`; see the module docstring for why these defaults.

    Parameters
    ----------
    n : int
        Number of avalanches (all complete).
    beta : float
        Stretching exponent, in (0, 1].
    lam : float
        Rate, > 0.
    gamma, size_noise, shape_noise, max_shape_duration, seed
        As in :func:`lognormal_avalanches`.

    Returns
    -------
    Avalanches
        Real-valued sizes, integer durations >= 1, shape sums; ``info`` records the
        generator and its parameters.

    References
    ----------
    Clauset, Shalizi & Newman, SIAM Rev. 51, 661 (2009), arXiv 0706.1062;
    Laherrère & Sornette, Eur. Phys. J. B 2, 525 (1998).

    Examples
    --------
    >>> from crackle.sim import stretched_exponential_avalanches
    >>> av = stretched_exponential_avalanches(10_000, seed=0)
    >>> av.n, av.info["beta"]
    (10000, 0.14)
    """
    func = "stretched_exponential_avalanches"
    beta = check_real(beta, "beta", func, low=0.0, high=1.0, low_open=True)
    lam = check_real(lam, "lam", func, low=0.0, low_open=True)

    def draw(u: NDArray[np.float64]) -> NDArray[np.float64]:
        # P(X > x) = exp(-lam (x^beta - 1)) = u.
        return np.asarray((1.0 - np.log(u) / lam) ** (1.0 / beta))

    params = {"beta": beta, "lam": lam}
    return _avalanches(
        func, draw, params, n, gamma, size_noise, shape_noise, max_shape_duration, seed
    )


def _avalanches(
    func: str,
    draw: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    params: dict[str, float],
    n: Any,
    gamma: Any,
    size_noise: Any,
    shape_noise: Any,
    max_shape_duration: Any,
    seed: SeedLike,
) -> Avalanches:
    """Durations from ``draw`` (uniforms on (0, 1] to X >= 1), then sizes and shapes."""
    n = check_int(n, "n", func, low=1)
    gamma = check_real(gamma, "gamma", func, low=0.0, low_open=True)
    size_noise = check_real(size_noise, "size_noise", func, low=0.0)
    shape_noise = check_real(shape_noise, "shape_noise", func, low=0.0)
    if max_shape_duration is not None:
        max_shape_duration = check_int(max_shape_duration, "max_shape_duration", func, low=1)
    rng = as_generator(seed, func)

    u = 1.0 - rng.random(n)  # in (0, 1]
    x = draw(u)
    durations = np.floor(np.maximum(x, 1.0)).astype(np.int64)
    eps = rng.normal(-0.5 * size_noise**2, size_noise, n) if size_noise > 0 else np.zeros(n)
    sizes = durations.astype(np.float64) ** gamma * np.exp(eps)

    shapes = None
    if max_shape_duration is not None:
        shapes = ShapeSums.empty(max_shape_duration)
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            shapes = shapes.merge(
                _shape_block(
                    sizes[start:stop],
                    durations[start:stop],
                    gamma,
                    shape_noise,
                    max_shape_duration,
                    rng,
                )
            )
    info: dict[str, Any] = {
        "source": func,
        **params,
        "gamma": gamma,
        "size_noise": size_noise,
        "shape_noise": shape_noise,
        "n": n,
        "seed": seed_repr(seed),
    }
    return Avalanches(sizes, durations, shapes=shapes, info=info)


def _shape_block(
    sizes: NDArray[np.float64],
    durations: NDArray[np.int64],
    gamma: float,
    shape_noise: float,
    max_shape: int,
    rng: np.random.Generator,
) -> ShapeSums:
    """Profiles S w / sum(w) of one block, w the smooth shape times noise."""
    keep = durations <= max_shape
    dur = durations[keep]
    run = np.repeat(np.arange(dur.size), dur)
    pos = np.arange(run.size) - np.repeat(np.cumsum(dur) - dur, dur)
    x = (pos + 0.5) / dur[run]
    w = (x * (1.0 - x)) ** (gamma - 1.0)
    if shape_noise > 0:
        w = w * np.exp(rng.normal(-0.5 * shape_noise**2, shape_noise, w.size))
    total = np.bincount(run, weights=w, minlength=dur.size)
    values = sizes[keep][run] * w / total[run]
    block = ShapeSums.from_flat(dur[run], pos, values, dur, max_shape)
    return ShapeSums(block.max_duration, block.counts, block.sums, int((~keep).sum()))
