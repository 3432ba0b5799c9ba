"""Spike trains of a driven branching network with a known branching ratio.

:func:`branching_network_spikes` runs the driven branching process of Wilting &
Priesemann (2018), A_{t+1} ~ Poisson(m A_t + h) in steps of ``dt``, and gives each
of the A_t events of step t to a unit drawn uniformly from ``n_units``, at a time
drawn uniformly inside the step. The pooled train binned at ``dt`` is A_t exactly, so
its autocorrelation is m^k per step: tau = -dt / ln m in time units, whatever the bin.
"""

from __future__ import annotations

import numpy as np

from crackle._random import SeedLike, as_generator
from crackle._validation import check_int, check_real
from crackle.events.spikes import Spikes
from crackle.sim.driven import driven_branching_process

__all__ = ["branching_network_spikes"]


def branching_network_spikes(
    m: float,
    h: float,
    n_units: int,
    steps: int,
    *,
    dt: float = 0.004,
    seed: SeedLike = None,
) -> Spikes:
    """Spikes of a driven branching network: ``steps`` steps of ``dt`` (seconds).

    Parameters
    ----------
    m : float
        Branching ratio per step, in [0, 1).
    h : float
        Mean number of externally driven events per step (> 0).
    n_units : int
        Units the events are spread over, uniformly.
    steps : int
        Steps simulated (after a burn-in of ten autocorrelation times).
    dt : float
        Step duration (default 4 ms, the bin of Beggs & Plenz 2003).
    seed : int, numpy.random.Generator or None
        Randomness.

    Returns
    -------
    Spikes
        Over [0, steps * dt], integer unit labels 0..n_units-1 (all kept).

    References
    ----------
    Wilting & Priesemann, Nat. Commun. 9, 2325 (2018); Beggs & Plenz, J. Neurosci.
    23, 11167 (2003).

    Examples
    --------
    >>> from crackle.sim.spiking import branching_network_spikes
    >>> sp = branching_network_spikes(0.9, 0.5, 60, 20_000, seed=0)
    >>> sp.n_units, bool(abs(sp.n_spikes / 20_000 - 5.0) < 0.5)  # mean h / (1 - m) = 5
    (60, True)
    """
    func = "branching_network_spikes"
    n_units = check_int(n_units, "n_units", func, low=1)
    steps = check_int(steps, "steps", func, low=1)
    dt = check_real(dt, "dt", func, low=0.0, low_open=True)
    m = check_real(m, "m", func, low=0.0, high=1.0, high_open=True)
    rng = as_generator(seed, func)
    activity = driven_branching_process(m, h, steps, seed=rng).activity
    step = np.repeat(np.arange(steps, dtype=np.int64), activity)
    times = (step + rng.random(step.size)) * dt
    units = rng.integers(0, n_units, step.size)
    return Spikes.from_arrays(
        times, units, t_start=0.0, t_stop=steps * dt, unit_labels=np.arange(n_units)
    )
