"""Surrogates matched to a spike recording: the nulls a criticality claim must beat.

* :func:`poisson_surrogate`: every unit a homogeneous Poisson train with its own mean
  rate over the recording (no correlations in time or between units);
* :func:`isi_shuffle`: every unit's inter-spike intervals in a random order from its
  first spike (keeps each unit's ISI distribution, destroys the coordination between
  units and the slow rate changes);
* :func:`shuffle_counts`: the bins of binned activity in a random order (keeps the
  distribution of the counts, destroys every temporal correlation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._random import SeedLike, as_generator
from crackle._validation import check_1d, param_error
from crackle.events.spikes import Spikes

__all__ = ["isi_shuffle", "poisson_surrogate", "shuffle_counts"]


def _check(spikes: Spikes, func: str) -> None:
    if not isinstance(spikes, Spikes):
        raise param_error("spikes", func, "a Spikes object (see read_spikes)", spikes)


def poisson_surrogate(spikes: Spikes, seed: SeedLike = None) -> Spikes:
    """Homogeneous Poisson trains with each unit's rate, over [t_start, t_stop].

    Examples
    --------
    >>> from crackle.events.spikes import Spikes
    >>> from crackle.events.surrogates import poisson_surrogate
    >>> sp = Spikes.from_arrays([0.1, 0.2, 0.3, 0.9], [0, 0, 0, 1], t_stop=1.0)
    >>> poisson_surrogate(sp, seed=0).n_units
    2
    """
    _check(spikes, "poisson_surrogate")
    rng = as_generator(seed, "poisson_surrogate")
    n = rng.poisson(spikes.spike_counts.astype(np.float64))
    times = rng.uniform(spikes.t_start, spikes.t_stop, int(n.sum()))
    units = np.repeat(np.arange(spikes.n_units), n)
    return Spikes.from_arrays(
        times,
        units,
        t_start=spikes.t_start,
        t_stop=spikes.t_stop,
        unit_labels=np.arange(spikes.n_units),
        duplicates="keep",
        source=f"poisson surrogate of {spikes.source}",
    )


def isi_shuffle(spikes: Spikes, seed: SeedLike = None) -> Spikes:
    """Each unit's inter-spike intervals permuted, starting from its first spike.

    Examples
    --------
    >>> from crackle.events.spikes import Spikes
    >>> from crackle.events.surrogates import isi_shuffle
    >>> sp = Spikes.from_arrays([0.1, 0.2, 0.5, 0.6], [0, 0, 0, 1], t_stop=1.0)
    >>> isi_shuffle(sp, seed=1).spike_counts.tolist()
    [3, 1]
    """
    _check(spikes, "isi_shuffle")
    rng = as_generator(seed, "isi_shuffle")
    order = np.argsort(spikes.units, kind="stable")  # by unit, times sorted within
    u = spikes.units[order]
    t = spikes.times[order]
    first = np.r_[True, u[1:] != u[:-1]]
    isi = np.diff(t, prepend=t[:1])
    isi[first] = 0.0
    # Permute the intervals within each unit: sort by (unit, random key).
    perm = np.lexsort((rng.random(u.size), ~first, u))
    new_isi = isi[perm]
    start_of = np.maximum.accumulate(np.where(first, np.arange(u.size), 0))
    cs = np.cumsum(new_isi)
    times = t[start_of] + (cs - cs[start_of])
    times[first] = t[first]  # exact, whatever the rounding of the running sums
    return Spikes.from_arrays(
        times,
        u,
        t_start=spikes.t_start,
        t_stop=max(spikes.t_stop, float(times.max()) if times.size else spikes.t_stop),
        unit_labels=np.arange(spikes.n_units),
        duplicates="keep",
        source=f"ISI-shuffled {spikes.source}",
    )


def shuffle_counts(counts: ArrayLike, seed: SeedLike = None) -> NDArray[np.float64]:
    """The bins of a 1-D activity series in a random order.

    Examples
    --------
    >>> from crackle.events.surrogates import shuffle_counts
    >>> sorted(shuffle_counts([0, 1, 2, 3], seed=0).tolist())
    [0.0, 1.0, 2.0, 3.0]
    """
    x = check_1d(counts, "counts", "shuffle_counts")
    return as_generator(seed, "shuffle_counts").permutation(x)
