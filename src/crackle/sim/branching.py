"""Galton-Watson branching process: avalanches with exactly known exponents.

Two offspring laws of mean m: Poisson(m), and geometric, P(k) = p (1 - p)^k with
p = 1/(1 + m) (variance m (1 + m), 2 at m = 1). Both are in the mean-field directed
percolation class at m = 1 (tau = 3/2, alpha = 2, 1/(sigma nu z) = 2): the exponents
do not depend on the offspring law as long as its variance is finite, only the
amplitudes do (P(T > t) ~ 2 / (Var t), Kolmogorov's estimate).
"""

from __future__ import annotations

import numpy as np

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import check_choice, check_int, check_real
from crackle.events.avalanches import DEFAULT_MAX_SHAPE_DURATION, Avalanches, concat_avalanches
from crackle.events.shapes import ShapeSums

__all__ = ["branching_process"]

# Avalanches are simulated in blocks of this many so memory stays bounded; fixed (not a
# parameter) so that a seed always gives the same avalanches.
_BLOCK = 1 << 19
# Activity above this is treated as runaway (supercritical) and censored, far below
# where Poisson sampling or float sums lose precision.
_MAX_ACTIVITY = 1e12


def branching_process(
    m: float = 1.0,
    n: int = 100_000,
    *,
    max_duration: int = 10_000,
    max_shape_duration: int | None = DEFAULT_MAX_SHAPE_DURATION,
    offspring: str = "poisson",
    seed: SeedLike = None,
) -> Avalanches:
    """Avalanches of a Galton-Watson branching process with mean offspring m.

    Each avalanche starts from one active unit; every active unit of generation t
    activates a random number of units in generation t + 1, Poisson(m) or geometric
    of mean m. The profile is the activity A_t per generation, the duration the
    number of generations with A_t > 0, the size the sum of A_t.

    At m = 1 (critical) the exponents are exactly tau = 3/2 (sizes), alpha = 2
    (durations) and 1/(sigma nu z) = 2 (mean-field directed percolation class) for
    either offspring law, which is why the tests use this process as ground truth.
    Exact laws the tests check: the survival probability P(T > t) = 1 - f_t(0), f_t
    the t-th iterate of the offspring generating function, ~ 2 / (Var t) at m = 1
    (Kolmogorov; Var = 1 for Poisson, 2 for geometric, where it is exactly
    1 / (t + 1)); the size law is Borel for Poisson offspring,
    P(S = s) = exp(-m s) (m s)^(s - 1) / s!, and P(S = s) = C_(s-1) p^s (1 - p)^(s - 1)
    for geometric (C the Catalan numbers).

    Parameters
    ----------
    m : float
        Branching ratio (mean offspring), >= 0.
    n : int
        Number of avalanches to start.
    max_duration : int
        Avalanches still active after this many generations are censored (as are
        runaway avalanches whose activity exceeds 1e12, which only happens for m > 1).
    max_shape_duration : int or None
        Longest duration whose profiles are summed for shape collapse.
    offspring : 'poisson' or 'geometric'
        The offspring law: Poisson(m) (variance m), or geometric P(k) = p (1 - p)^k,
        k >= 0, p = 1/(1 + m) (variance m (1 + m)), the offspring of A units being
        then negative binomial(A, p).
    seed : int, numpy.random.Generator or None
        Source of randomness; the same seed (and offspring law) gives the same
        avalanches.

    Returns
    -------
    Avalanches
        Integer-valued sizes, durations, censored avalanches kept apart, shape sums.

    References
    ----------
    Harris, "The Theory of Branching Processes" (1963); Zapperi, Lauritsen & Stanley,
    Phys. Rev. Lett. 75, 4071 (1995); Athreya & Ney, "Branching Processes" (1972),
    ch. I (Kolmogorov's estimate of the survival probability).

    Examples
    --------
    >>> from crackle.sim import branching_process
    >>> av = branching_process(m=1.0, n=1000, seed=0)
    >>> av.n + av.n_censored
    1000
    >>> bool(av.durations.min() >= 1 and (av.sizes >= av.durations).all())
    True
    >>> geo = branching_process(m=1.0, n=1000, offspring="geometric", seed=0)
    >>> geo.info["offspring"]
    'geometric'
    """
    func = "branching_process"
    m = check_real(m, "m", func, low=0.0, high=1e6)
    n = check_int(n, "n", func, low=1)
    max_duration = check_int(max_duration, "max_duration", func, low=1)
    if max_shape_duration is not None:
        max_shape_duration = check_int(max_shape_duration, "max_shape_duration", func, low=1)
    offspring = check_choice(offspring, "offspring", func, ("poisson", "geometric"))
    rng = as_generator(seed, func)

    parts = []
    for start in range(0, n, _BLOCK):
        count = min(_BLOCK, n - start)
        parts.append(_block(m, count, max_duration, max_shape_duration, offspring, rng))
    out = concat_avalanches(parts)
    return Avalanches(
        out.sizes,
        out.durations,
        out.censored_sizes,
        out.censored_durations,
        out.shapes,
        0,
        {
            "source": "branching_process",
            "m": m,
            "offspring": offspring,
            "n": n,
            "max_duration": max_duration,
            "seed": seed_repr(seed),
        },
    )


def _block(
    m: float,
    count: int,
    max_duration: int,
    max_shape: int | None,
    offspring: str,
    rng: np.random.Generator,
) -> Avalanches:
    sizes = np.ones(count)
    durations = np.ones(count, dtype=np.int64)
    runaway = np.zeros(count, dtype=bool)
    ids = np.arange(count)
    activity = np.ones(count)
    rec_ids, rec_t, rec_a = [ids], [np.zeros(count, np.int64)], [activity]
    p = 1.0 / (1.0 + m)
    for t in range(1, max_duration):
        if offspring == "poisson":
            # The offspring of A units is a sum of A Poisson(m) draws, i.e. Poisson(m A).
            nxt = rng.poisson(m * activity).astype(np.float64)
        else:
            # A sum of A geometric(p) draws (failures before a success) is negative
            # binomial(A, p): failures before the A-th success.
            nxt = rng.negative_binomial(activity, p).astype(np.float64)
        alive = nxt > 0
        ids, activity = ids[alive], nxt[alive]
        if ids.size == 0:
            break
        sizes[ids] += activity
        durations[ids] += 1
        if max_shape is not None and t < max_shape:
            # Longer avalanches are never summed into shapes: stop recording them.
            rec_ids.append(ids)
            rec_t.append(np.full(ids.size, t, np.int64))
            rec_a.append(activity)
        hot = activity > _MAX_ACTIVITY
        if hot.any():
            runaway[ids[hot]] = True
            ids, activity = ids[~hot], activity[~hot]
    censored = np.zeros(count, dtype=bool)
    censored[ids] = True  # still active when the generations ran out
    censored |= runaway
    complete = ~censored
    shapes = None
    if max_shape is not None:
        all_ids = np.concatenate(rec_ids)
        keep = complete[all_ids]
        all_ids = all_ids[keep]
        shapes = ShapeSums.from_flat(
            durations[all_ids],
            np.concatenate(rec_t)[keep],
            np.concatenate(rec_a)[keep],
            durations[complete],
            max_shape,
        )
    return Avalanches(
        sizes[complete], durations[complete], sizes[censored], durations[censored], shapes
    )
