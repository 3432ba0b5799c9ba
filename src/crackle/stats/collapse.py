"""Shape collapse: mean avalanche profiles of all durations onto one curve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle._validation import check_int, check_real, param_error
from crackle.events.avalanches import Avalanches
from crackle.events.shapes import ShapeSums

__all__ = ["CollapseResult", "collapse_error", "shape_collapse"]


@dataclass(frozen=True)
class CollapseResult:
    """Best collapse exponent and the error curve it came from.

    Attributes
    ----------
    gamma : float
        Collapse exponent: profiles of duration T scale as T^(gamma - 1), so that
        <S>(T) ~ T^gamma; at criticality gamma = 1/(sigma nu z).
    gamma_err : float
        Uncertainty from the curvature of the error at its minimum (see
        :func:`shape_collapse`).
    error_min : float
        Collapse error (normalised mean squared error) at ``gamma``.
    durations : ndarray of shape (n_T,)
        Durations whose mean profiles were collapsed.
    counts : ndarray of shape (n_T,)
        Avalanches behind each mean profile.
    x : ndarray of shape (K,)
        Rescaled time t/T of the common grid.
    profiles : ndarray of shape (n_T, K)
        Mean profiles interpolated onto ``x`` (not rescaled).
    gammas, errors : ndarray of shape (G,)
        The scanned exponents and their collapse errors.
    """

    gamma: float
    gamma_err: float
    error_min: float
    success: bool
    message: str
    durations: NDArray[np.int64] = field(repr=False, compare=False)
    counts: NDArray[np.int64] = field(repr=False, compare=False)
    x: NDArray[np.float64] = field(repr=False, compare=False)
    profiles: NDArray[np.float64] = field(repr=False, compare=False)
    gammas: NDArray[np.float64] = field(repr=False, compare=False)
    errors: NDArray[np.float64] = field(repr=False, compare=False)

    def scaled_profiles(self, gamma: float | None = None) -> NDArray[np.float64]:
        """Profiles divided by T^(gamma - 1), shape (n_T, K); default the best gamma."""
        g = self.gamma if gamma is None else float(gamma)
        return self.profiles / self.durations[:, None].astype(np.float64) ** (g - 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gamma": self.gamma,
            "gamma_err": self.gamma_err,
            "error_min": self.error_min,
            "success": self.success,
            "message": self.message,
            "tmin": int(self.durations.min()),
            "tmax": int(self.durations.max()),
            "n_durations": int(self.durations.size),
            "n_avalanches": int(self.counts.sum()),
        }

    def _repr_html_(self) -> str:
        """γ = 1/(σνz) ± its error and the durations collapsed (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("gamma", None, "gamma_err", None),
            "error_min",
            "tmin",
            "tmax",
            "n_durations",
            "n_avalanches",
            "success",
            "message",
        ]
        return repr_html(self, "shape collapse", fields)

    def plot(self, ax: Any = None, *, kind: str = "collapse") -> Any:
        """The collapsed profiles (``kind="collapse"``) or the error curve (``"error"``)."""
        from crackle.report.figures import plot_collapse, plot_collapse_error

        if kind == "error":
            return plot_collapse_error(self, ax=ax)
        return plot_collapse(self, ax=ax)


def collapse_error(
    profiles: NDArray[np.float64], durations: NDArray[np.float64], gammas: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Collapse error for each exponent in ``gammas``.

    ``profiles`` (n_T, K) are mean profiles on a common grid of t/T. For each gamma
    the profiles are divided by T^(gamma - 1); the error is the variance across T at
    each grid point divided by the squared spread (max - min) of the mean rescaled
    shape, averaged over the grid.
    """
    logt = np.log(durations.astype(np.float64))
    out = np.empty(gammas.size)
    for start in range(0, gammas.size, 128):  # bounded memory: 128 x n_T x K at a time
        g = gammas[start : start + 128]
        scaled = profiles[None, :, :] * np.exp(-(g[:, None] - 1.0) * logt[None, :])[:, :, None]
        mean = scaled.mean(axis=1)
        var = scaled.var(axis=1)
        spread = mean.max(axis=1) - mean.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[start : start + 128] = var.mean(axis=1) / spread**2
    return out


def shape_collapse(
    data: Avalanches | ShapeSums,
    *,
    tmin: int = 4,
    tmax: int | None = None,
    min_count: int = 20,
    gamma_range: tuple[float, float] = (0.5, 4.0),
    gamma_step: float = 0.001,
    n_grid: int = 100,
) -> CollapseResult:
    """Find the exponent that best collapses the mean avalanche profiles.

    The mean profile of each duration T (summed as avalanches were found, so memory
    does not grow with their number) is placed on rescaled time x = (t + 1/2)/T,
    t = 0..T-1, and interpolated onto a common grid that stays inside the range every
    used duration covers (no extrapolation). Profiles are divided by T^(gamma - 1); the
    collapse error is the variance across durations divided by the squared spread of
    the mean shape, averaged over the grid. gamma is found by brute force: a coarse scan
    over ``gamma_range`` then a fine scan of step ``gamma_step`` around its minimum.

    The uncertainty treats the error as a chi-square normalised to one per degree of
    freedom at the minimum, with one degree of freedom per duration (grid points of
    one profile are strongly correlated, so they are not counted separately):
    a quadratic ``a (gamma - gamma0)^2 + ...`` fitted to the error near its minimum
    gives ``gamma_err = sqrt(error_min / (n_T * a))`` (``a`` is half the curvature).

    Parameters
    ----------
    data : Avalanches or ShapeSums
        Avalanches with shape sums (``data.shapes``), or the shape sums themselves.
    tmin, tmax : int
        Range of durations to collapse; default from ``tmin=4`` to the longest duration
        with ``min_count`` avalanches.
    min_count : int
        Durations with fewer avalanches are left out (their mean profile is noise).
    gamma_range : (float, float)
        Range scanned for gamma.
    gamma_step : float
        Resolution of the fine scan.
    n_grid : int
        Points of the common rescaled-time grid.

    Returns
    -------
    CollapseResult

    References
    ----------
    Sethna, Dahmen & Myers, Nature 410, 242 (2001); Friedman et al., Phys. Rev. Lett.
    108, 208102 (2012); Ghavasieh et al., arXiv 2509.22649 (2025), Methods.

    Examples
    --------
    >>> from crackle.sim import branching_process
    >>> import crackle as ck
    >>> col = ck.shape_collapse(branching_process(m=1.0, n=200_000, seed=0), tmin=8)
    >>> abs(col.gamma - 2.0) < 0.1
    True
    """
    func = "shape_collapse"
    shapes = data.shapes if isinstance(data, Avalanches) else data
    if not isinstance(shapes, ShapeSums):
        raise param_error(
            "data",
            func,
            "Avalanches with shape sums (max_shape_duration not None) or a ShapeSums",
            data if not isinstance(data, Avalanches) else "Avalanches without shapes",
        )
    tmin = check_int(tmin, "tmin", func, low=2)
    min_count = check_int(min_count, "min_count", func, low=1)
    n_grid = check_int(n_grid, "n_grid", func, low=5)
    if not isinstance(gamma_range, tuple | list) or len(gamma_range) != 2:
        raise param_error("gamma_range", func, "an increasing pair (low, high)", gamma_range)
    g_lo = check_real(gamma_range[0], "gamma_range", func)
    g_hi = check_real(gamma_range[1], "gamma_range", func)
    if not g_hi > g_lo:
        raise param_error("gamma_range", func, "an increasing pair (low, high)", gamma_range)
    step = check_real(
        gamma_step, "gamma_step", func, low=0.0, low_open=True, high=(g_hi - g_lo) / 10
    )

    ts = shapes.durations_with(min_count)
    ts = ts[ts >= tmin]
    if tmax is not None:
        ts = ts[ts <= check_int(tmax, "tmax", func, low=tmin)]
    if ts.size < 3:
        raise param_error(
            "data",
            func,
            f"rich enough to hold at least 3 durations >= tmin={tmin} with {min_count} or more "
            "avalanches each; lower tmin or min_count, or collect more avalanches",
            f"{ts.size} such duration(s)",
        )
    t_lo = int(ts.min())
    x = np.linspace(0.5 / t_lo, 1.0 - 0.5 / t_lo, n_grid)
    profiles = np.empty((ts.size, n_grid))
    for i, t in enumerate(ts):
        profiles[i] = np.interp(x, (np.arange(t) + 0.5) / t, shapes.mean_profile(int(t)))

    ft = ts.astype(np.float64)
    coarse = np.arange(g_lo, g_hi + 1e-12, 0.01)
    err_c = collapse_error(profiles, ft, coarse)
    g0 = coarse[int(np.nanargmin(err_c))]
    fine = np.arange(max(g_lo, g0 - 0.02), min(g_hi, g0 + 0.02) + 1e-12, step)
    err_f = collapse_error(profiles, ft, fine)
    i_min = int(np.nanargmin(err_f))
    gamma, err_min = float(fine[i_min]), float(err_f[i_min])
    gammas = np.concatenate([coarse, fine])
    errors = np.concatenate([err_c, err_f])
    order = np.argsort(gammas, kind="stable")

    success, message = True, "ok"
    if gamma - g_lo < 0.02 or g_hi - gamma < 0.02:
        success, message = False, f"minimum at the edge of gamma_range {gamma_range}; widen it"
    # Quadratic near the minimum: points within +-0.02 (the fine window).
    a, _, _ = np.polyfit(fine - gamma, err_f, 2)
    if a > 0:
        gamma_err = float(np.sqrt(err_min / (ts.size * a)))
    else:
        gamma_err = float("nan")
        success, message = False, "error curve not convex at its minimum; no uncertainty"
    return CollapseResult(
        gamma=gamma,
        gamma_err=gamma_err,
        error_min=err_min,
        success=success,
        message=message,
        durations=ts.astype(np.int64),
        counts=shapes.counts[ts - 1].astype(np.int64),
        x=x,
        profiles=profiles,
        gammas=gammas[order],
        errors=errors[order],
    )
