"""Driven branching processes: stationary activity with a known branching ratio.

:func:`driven_branching_process` is the model of Wilting & Priesemann (2018): every
active unit activates a Poisson(m) number of units in the next time step and an
external drive adds Poisson(h) more, so A_{t+1} ~ Poisson(m A_t + h). Observing each
unit with probability ``subsample`` (binomial thinning) gives the subsampled
activity on which the naive estimator fails and the multistep regression does not.
:func:`mixture_branching_process` sums many independent subcritical processes with
branching ratios drawn from a distribution (Ren & Feng 2026): 1/f^beta noise without
criticality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import check_1d, check_int, check_real, param_error

__all__ = ["DrivenActivity", "driven_branching_process", "mixture_branching_process"]

MDistribution = ArrayLike | tuple[str, float, float] | Callable[..., ArrayLike]


@dataclass(frozen=True)
class DrivenActivity:
    """Activity of a driven branching process, fully and partially observed.

    Attributes
    ----------
    activity : ndarray of int64, shape (steps,) or (n_trials, steps)
        A_t, the number of active units at each step.
    observed : ndarray of int64, same shape
        a_t ~ Binomial(A_t, subsample): the active units seen by a sampler that
        observes each unit independently with probability ``subsample``.
    m : float or ndarray of shape (n_components,)
        The branching ratio (one per component for a mixture).
    h, subsample : float
        Mean drive per step (per component for a mixture) and the sampling fraction.
    seed : int, str or None
        Record of the seed.
    """

    activity: NDArray[np.int64] = field(repr=False)
    observed: NDArray[np.int64] = field(repr=False)
    m: float | NDArray[np.float64]
    h: float
    subsample: float
    seed: int | str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (parameters and the mean activities, not the series)."""
        m = self.m if isinstance(self.m, float) else [float(v) for v in self.m]
        return {
            "m": m,
            "h": self.h,
            "subsample": self.subsample,
            "seed": self.seed,
            "shape": list(self.activity.shape),
            "mean_activity": float(self.activity.mean()),
            "mean_observed": float(self.observed.mean()),
        }


def _simulate(
    m: NDArray[np.float64],
    h: float,
    steps: int,
    burn_in: int,
    rng: np.random.Generator,
    summed: bool = False,
) -> NDArray[np.int64]:
    """Activity of len(m) independent processes, shape (steps, len(m)) or (steps,) summed."""
    if m.size == 1:
        # One process: Python scalars are ~20x faster per step than arrays of size 1,
        # and draw the same numbers in the same order.
        return _simulate_one(float(m[0]), h, steps, burn_in, rng).reshape(
            (steps,) if summed else (steps, 1)
        )
    out = np.empty((steps,) if summed else (steps, m.size), dtype=np.int64)
    # Start from a Poisson draw at the stationary mean h / (1 - m), then burn in.
    a = rng.poisson(h / (1.0 - m)).astype(np.float64)
    for _ in range(burn_in):
        a = rng.poisson(m * a + h).astype(np.float64)
    for t in range(steps):
        a = rng.poisson(m * a + h).astype(np.float64)
        out[t] = a.sum() if summed else a
    return out


def _simulate_one(
    m: float, h: float, steps: int, burn_in: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    poisson = rng.poisson
    a = float(poisson(h / (1.0 - m)))
    for _ in range(burn_in):
        a = float(poisson(m * a + h))
    out = [0.0] * steps
    for t in range(steps):
        a = float(poisson(m * a + h))
        out[t] = a
    return np.array(out, dtype=np.int64)


def _thin(activity: NDArray[np.int64], p: float, rng: np.random.Generator) -> NDArray[np.int64]:
    if p == 1.0:
        return activity.copy()
    return rng.binomial(activity, p).astype(np.int64)


def _default_burn_in(m_max: float) -> int:
    # Ten autocorrelation times, tau = -1 / ln m, enough to forget the initial draw.
    return int(np.ceil(10.0 / -np.log(m_max))) if m_max > 0 else 1


def driven_branching_process(
    m: float,
    h: float,
    steps: int,
    *,
    subsample: float = 1.0,
    n_trials: int | None = None,
    burn_in: int | None = None,
    seed: SeedLike = None,
) -> DrivenActivity:
    """Stationary activity of a branching process with Poisson offspring and drive.

    A_{t+1} ~ Poisson(m A_t + h): each of the A_t active units activates a Poisson(m)
    number of units at the next step and the drive activates a Poisson(h) number.
    The stationary mean is h / (1 - m), the variance h / ((1 - m)(1 - m^2)), and the
    autocorrelation at lag k is m^k, so the autocorrelation time is -1 / ln m steps.
    The process starts from a Poisson draw at the stationary mean and runs ``burn_in``
    steps before recording.

    Parameters
    ----------
    m : float
        Branching ratio, in [0, 1) (with m >= 1 the driven process has no stationary
        state).
    h : float
        Mean drive per step, > 0.
    steps : int
        Recorded time steps.
    subsample : float
        Probability, in (0, 1], that an active unit is observed (binomial thinning).
    n_trials : int or None
        None: one series of shape (steps,); an int: that many independent trials
        simulated together, arrays of shape (n_trials, steps).
    burn_in : int or None
        Steps simulated and discarded first; default ten autocorrelation times.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same seed gives the same activity.

    Returns
    -------
    DrivenActivity
        ``.activity`` (all units) and ``.observed`` (the subsample).

    References
    ----------
    Wilting & Priesemann, "Inferring collective dynamical states from widely
    unobserved systems", Nat. Commun. 9, 2325 (2018).

    Examples
    --------
    >>> from crackle.sim import driven_branching_process
    >>> run = driven_branching_process(0.9, 10.0, 20_000, subsample=0.1, seed=0)
    >>> run.activity.shape, bool(abs(run.activity.mean() / 100 - 1) < 0.05)
    ((20000,), True)
    >>> bool(abs(run.observed.mean() / run.activity.mean() - 0.1) < 0.01)
    True
    """
    func = "driven_branching_process"
    m = check_real(m, "m", func, low=0.0, high=1.0, high_open=True)
    h = check_real(h, "h", func, low=0.0, low_open=True)
    steps = check_int(steps, "steps", func, low=1)
    subsample = check_real(subsample, "subsample", func, low=0.0, high=1.0, low_open=True)
    trials = 1 if n_trials is None else check_int(n_trials, "n_trials", func, low=1)
    burn = _default_burn_in(m) if burn_in is None else check_int(burn_in, "burn_in", func, low=0)
    rng = as_generator(seed, func)

    activity = _simulate(np.full(trials, m), h, steps, burn, rng).T.copy()
    observed = _thin(activity, subsample, rng)
    if n_trials is None:
        activity, observed = activity[0], observed[0]
    return DrivenActivity(activity, observed, m, h, subsample, seed_repr(seed))


def _draw_m(
    spec: MDistribution, n_components: int | None, rng: np.random.Generator, func: str
) -> NDArray[np.float64]:
    if isinstance(spec, tuple) and len(spec) == 3 and isinstance(spec[0], str):
        name, a, b = spec
        if name != "beta":
            raise param_error("m_distribution", func, "('beta', a, b)", spec)
        a = check_real(a, "m_distribution[1]", func, low=0.0, low_open=True)
        b = check_real(b, "m_distribution[2]", func, low=0.0, low_open=True)
        if n_components is None:
            raise param_error("n_components", func, "given with a named distribution", None)
        m = rng.beta(a, b, check_int(n_components, "n_components", func, low=1))
    elif callable(spec):
        if n_components is None:
            raise param_error("n_components", func, "given with a callable distribution", None)
        n = check_int(n_components, "n_components", func, low=1)
        m = np.asarray(spec(rng, n), dtype=np.float64)
        if m.shape != (n,):
            raise param_error(
                "m_distribution", func, f"a callable returning shape ({n},)", f"shape {m.shape}"
            )
    else:
        m = check_1d(spec, "m_distribution", func)
        if n_components is not None and n_components != m.size:
            raise param_error(
                "n_components",
                func,
                f"None or the length of m_distribution ({m.size})",
                n_components,
            )
    bad = ~np.isfinite(m) | (m < 0) | (m >= 1)
    if bad.any():
        raise param_error(
            "m_distribution",
            func,
            "a distribution of branching ratios in [0, 1) (every component subcritical)",
            f"{int(bad.sum())} value(s) outside [0, 1)",
        )
    return m


def mixture_branching_process(
    m_distribution: MDistribution,
    h: float,
    steps: int,
    *,
    n_components: int | None = None,
    subsample: float = 1.0,
    burn_in: int | None = None,
    seed: SeedLike = None,
) -> DrivenActivity:
    """Summed activity of many independent subcritical driven branching processes.

    Component i follows A^i_{t+1} ~ Poisson(m_i A^i_t + h) (see
    :func:`driven_branching_process`); the returned activity is sum_i A^i_t. Each
    component's spectrum is a Lorentzian (AR(1)) with relaxation time -1/ln m_i; a
    broad distribution of m_i near 1 superposes them into 1/f^beta noise although
    every m_i < 1. With m ~ Beta(a, b) and a common drive h, the density of
    1 - m near 0 grows as (1 - m)^(b - 1) and the spectrum falls as f^-(3 - b)
    between the slowest and the typical relaxation rates (1 < b < 3), so
    ``("beta", a, 2)`` gives 1/f noise.

    Parameters
    ----------
    m_distribution : array_like of shape (n_components,), ("beta", a, b) or callable
        The branching ratios, all in [0, 1): the values themselves; a Beta(a, b)
        distribution sampled with the seed; or a callable ``f(rng, n)`` returning n
        values from the generator ``rng``.
    h : float
        Mean drive per step of every component, > 0.
    steps : int
        Recorded time steps.
    n_components : int or None
        Number of components; required with a named or callable distribution.
    subsample : float
        Probability, in (0, 1], that an active unit is observed.
    burn_in : int or None
        Steps discarded first; default ten autocorrelation times of the slowest
        component, at most 10^5.
    seed : int, numpy.random.Generator or None
        Source of randomness (the m values and the dynamics).

    Returns
    -------
    DrivenActivity
        ``.activity`` and ``.observed`` of shape (steps,); ``.m`` the component
        ratios, shape (n_components,).

    References
    ----------
    Ren & Feng, "Towards Critical Branching Mechanism in Recurrent Neural Networks",
    arXiv 2606.10384 (2026).

    Examples
    --------
    >>> from crackle.sim import mixture_branching_process
    >>> run = mixture_branching_process(("beta", 2.0, 2.0), 1.0, 1000, n_components=50, seed=0)
    >>> run.activity.shape, run.m.shape, bool(run.m.max() < 1)
    ((1000,), (50,), True)
    """
    func = "mixture_branching_process"
    h = check_real(h, "h", func, low=0.0, low_open=True)
    steps = check_int(steps, "steps", func, low=1)
    subsample = check_real(subsample, "subsample", func, low=0.0, high=1.0, low_open=True)
    rng = as_generator(seed, func)
    m = _draw_m(m_distribution, n_components, rng, func)
    if burn_in is None:
        burn = min(_default_burn_in(float(m.max())), 100_000)
    else:
        burn = check_int(burn_in, "burn_in", func, low=0)
    activity = _simulate(m, h, steps, burn, rng, summed=True)
    observed = _thin(activity, subsample, rng)
    return DrivenActivity(activity, observed, m, h, subsample, seed_repr(seed))
