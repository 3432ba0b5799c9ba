"""Mean size against duration, <S>(T) ~ T^(1/(sigma nu z)), and the scaling relation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_1d, check_bool, check_int, param_error

__all__ = ["ScalingFit", "fit_size_duration", "predicted_exponent"]


@dataclass(frozen=True)
class ScalingFit:
    """Weighted least-squares fit of log <S> against log T.

    Attributes
    ----------
    exponent : float
        1/(sigma nu z), the slope.
    stderr : float
        Its standard error (see :func:`fit_size_duration`).
    intercept : float
        Natural log of the prefactor: <S> = exp(intercept) T^exponent.
    tmin, tmax : int
        Range of durations fitted.
    n_durations : int
        Durations that entered the fit.
    n_avalanches : int
        Avalanches with a duration in the fitted range.
    n_dropped_few, n_dropped_constant : int
        Durations left out because they held fewer than ``min_count`` avalanches, or
        avalanches that all had the same size (zero variance, so no finite weight).
    reduced_chi2 : float
        Weighted residual sum of squares per degree of freedom.
    durations, mean_sizes, weights : ndarray of shape (n_durations,)
        The fitted points and their weights.
    """

    exponent: float
    stderr: float
    intercept: float
    tmin: int
    tmax: int
    n_durations: int
    n_avalanches: int
    n_dropped_few: int
    n_dropped_constant: int
    reduced_chi2: float
    durations: NDArray[np.float64] = field(repr=False, compare=False)
    mean_sizes: NDArray[np.float64] = field(repr=False, compare=False)
    weights: NDArray[np.float64] = field(repr=False, compare=False)

    def predict(self, durations: ArrayLike) -> NDArray[np.float64]:
        """<S> predicted by the fit at ``durations``."""
        t = np.asarray(durations, dtype=np.float64)
        return np.asarray(np.exp(self.intercept) * t**self.exponent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exponent": self.exponent,
            "stderr": self.stderr,
            "intercept": self.intercept,
            "tmin": self.tmin,
            "tmax": self.tmax,
            "n_durations": self.n_durations,
            "n_avalanches": self.n_avalanches,
            "n_dropped_few": self.n_dropped_few,
            "n_dropped_constant": self.n_dropped_constant,
            "reduced_chi2": self.reduced_chi2,
        }

    def _repr_html_(self) -> str:
        """1/(σνz) ± its error and the fitted range (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("exponent", "1/(σνz), slope of ⟨S⟩(T)", "stderr", None),
            "tmin",
            "tmax",
            "n_durations",
            "n_avalanches",
            "reduced_chi2",
        ]
        return repr_html(self, "⟨S⟩(T) ∝ T^(1/(σνz))", fields)

    def plot(self, ax: Any = None, *, predicted: float | None = None) -> Any:
        """<S>(T) with the fitted slope (and the predicted one, if given)."""
        from crackle.report.figures import plot_size_duration

        return plot_size_duration(self, ax=ax, predicted=predicted)


@dataclass(frozen=True)
class DurationTable:
    """Per-duration statistics behind the <S>(T) fit (durations ascending).

    ``weights`` are n_T / var(log S | T); durations with fewer than ``min_count``
    avalanches, or whose avalanches all have the same size, are left out and counted,
    unless ``pool`` gathered them into logarithmic bins (``n_pooled`` points, each at the
    geometric mean duration of its avalanches, see :func:`fit_size_duration`).
    """

    durations: NDArray[np.float64]
    counts: NDArray[np.int64]
    mean_sizes: NDArray[np.float64]
    weights: NDArray[np.float64]
    tmin: int
    tmax: int
    min_count: int
    n_dropped_few: int
    n_dropped_constant: int
    n_pooled: int = 0


def duration_table(
    sizes: ArrayLike,
    durations: ArrayLike,
    *,
    tmin: int | None,
    tmax: int | None,
    min_count: int,
    func: str,
    pool: bool = False,
) -> DurationTable:
    """Validate sizes and durations and tabulate <S>_T and the weights per duration."""
    pool = check_bool(pool, "pool", func)
    s = check_1d(sizes, "sizes", func, positive=True)
    d = check_1d(durations, "durations", func, positive=True, integer=True).astype(np.int64)
    if s.size != d.size:
        raise param_error("durations", func, f"of the same length as sizes ({s.size})", d.size)
    lo = int(d.min()) if tmin is None else check_int(tmin, "tmin", func, low=1)
    hi = int(d.max()) if tmax is None else check_int(tmax, "tmax", func, low=1)
    min_count = check_int(min_count, "min_count", func, low=2)
    if hi <= lo:
        raise param_error("tmax", func, f"greater than tmin ({lo})", hi)
    sel = (d >= lo) & (d <= hi)
    d, logs = d[sel], np.log(s[sel])
    # One entry per duration present (not per integer up to the longest: a duration
    # of 10^9 bins would need gigabytes); sums in input order, as bincount adds.
    uniq, inv = np.unique(d, return_inverse=True)
    n_t = np.bincount(inv, minlength=uniq.size).astype(np.float64)
    sum_s = np.bincount(inv, weights=s[sel], minlength=uniq.size)
    sum_l = np.bincount(inv, weights=logs, minlength=uniq.size)
    sum_l2 = np.bincount(inv, weights=logs**2, minlength=uniq.size)
    few = n_t < min_count
    many = ~few
    var = np.zeros_like(n_t)
    var[many] = (sum_l2[many] - sum_l[many] ** 2 / n_t[many]) / (n_t[many] - 1)
    # Round-off can leave a tiny positive variance where all sizes are equal.
    scale_l = np.ones_like(n_t)
    scale_l[many] = np.maximum(1.0, (sum_l[many] / n_t[many]) ** 2)
    constant = many & (var <= 1e-12 * scale_l)
    use = many & ~constant
    t_used = uniq[use]
    t_out = t_used.astype(np.float64)
    c_out = n_t[use].astype(np.int64)
    m_out = sum_s[use] / n_t[use]
    w_out = n_t[use] / var[use]
    n_few, n_pooled = int(few.sum()), 0
    if pool and few.any():
        split = int(uniq[np.flatnonzero(few)[0]])
        below = t_used < split
        t_out, c_out, m_out, w_out = t_out[below], c_out[below], m_out[below], w_out[below]
        pt, pc, pm, pw = _pooled(d, logs, split, min_count)
        t_out, c_out = np.concatenate([t_out, pt]), np.concatenate([c_out, pc])
        m_out, w_out = np.concatenate([m_out, pm]), np.concatenate([w_out, pw])
        n_pooled = int(pt.size)
        n_few = int(np.sum(few & (uniq < split)))
    return DurationTable(
        durations=t_out,
        counts=c_out,
        mean_sizes=m_out,
        weights=w_out,
        tmin=lo,
        tmax=hi,
        min_count=min_count,
        n_dropped_few=n_few,
        n_dropped_constant=int(constant.sum()),
        n_pooled=n_pooled,
    )


#: Logarithmic bins per decade for pooled long durations.
POOL_PER_DECADE = 10


def _pooled(
    d: NDArray[np.int64], logs: NDArray[np.float64], split: int, min_count: int
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Durations from ``split`` on, gathered into logarithmic bins of ``min_count`` or more.

    Within a bin the durations differ, so each avalanche's log size is first brought to
    the bin's geometric mean duration with a preliminary slope g0 (least squares of
    log S on log T over the pooled avalanches): log S + g0 (<log T> - log T). The bin's
    point is then (<log T>, log of the mean corrected size), and its weight n over the
    variance of the corrected log sizes, as for single durations.
    """
    sel = d >= split
    if np.count_nonzero(sel) < min_count:
        empty = np.zeros(0)
        return empty, np.zeros(0, np.int64), empty, empty
    lt, ls = np.log(d[sel].astype(np.float64)), logs[sel]
    g0 = float(np.polyfit(lt, ls, 1)[0]) if np.ptp(lt) > 0 else 1.0
    edges = np.log(split) + np.log(10.0) / POOL_PER_DECADE * np.arange(
        int(np.ceil((lt.max() - np.log(split)) * POOL_PER_DECADE / np.log(10.0))) + 2
    )
    b = np.searchsorted(edges, lt, side="right") - 1
    counts = np.bincount(b, minlength=edges.size)
    # Merge sparse bins forward until each holds min_count avalanches.
    group = np.zeros(counts.size, dtype=np.int64)
    g, acc = 0, 0
    for i, c in enumerate(counts):
        group[i] = g
        acc += c
        if acc >= min_count:
            g, acc = g + 1, 0
    if acc and g > 0:  # an incomplete last group joins the one before
        group[group == g] = g - 1
    gid = group[b]
    n_g = np.bincount(gid).astype(np.float64)
    keep = n_g >= min_count
    mlt = np.bincount(gid, weights=lt) / np.maximum(n_g, 1)
    corr = ls + g0 * (mlt[gid] - lt)
    s1 = np.bincount(gid, weights=np.exp(corr))
    l1 = np.bincount(gid, weights=corr)
    l2 = np.bincount(gid, weights=corr**2)
    var = (l2 - l1**2 / np.maximum(n_g, 1)) / np.maximum(n_g - 1, 1)
    keep &= var > 1e-12
    return (
        np.exp(mlt[keep]),
        n_g[keep].astype(np.int64),
        s1[keep] / n_g[keep],
        n_g[keep] / var[keep],
    )


def fit_size_duration(
    sizes: ArrayLike,
    durations: ArrayLike,
    *,
    tmin: int | None = None,
    tmax: int | None = None,
    min_count: int = 10,
    pool: bool = False,
) -> ScalingFit:
    """Fit <S>(T) ~ T^(1/(sigma nu z)) by weighted least squares in log-log space.

    For each duration T in [tmin, tmax] the mean size <S>_T is computed; log <S>_T is
    regressed on log T with weight n_T / var(log S | T). Durations with fewer than
    ``min_count`` avalanches, or whose avalanches all have the same size (zero
    variance), are left out and counted: a variance estimated from a handful of
    avalanches is so noisy that a few durations would take most of the weight
    (on a critical branching process, min_count=2 gives a reduced chi^2 near 30,
    min_count=10 near 1.5).

    The standard error is the weighted-least-squares one, scaled up by
    sqrt(reduced chi^2) when that exceeds 1 (the points scatter more than their
    weights say, for example from corrections to scaling), never scaled down.

    Parameters
    ----------
    sizes, durations : array_like of shape (n,)
        Sizes (> 0) and integer durations (>= 1) of complete avalanches.
    tmin, tmax : int, optional
        Range of durations to fit; default all.
    min_count : int
        Least number of avalanches a duration needs to enter the fit (>= 2).
    pool : bool
        Gather the long durations, from the first with fewer than ``min_count``
        avalanches on, into logarithmic bins (10 a decade, merged until each holds
        ``min_count``) instead of dropping them: each avalanche's log size is brought to
        its bin's geometric mean duration with a preliminary slope, so the bin is one
        point at that duration. This extends the fitted range by a decade or more where
        long avalanches are single (the crackling report uses it).

    Returns
    -------
    ScalingFit

    References
    ----------
    Sethna, Dahmen & Myers, Nature 410, 242 (2001); Ghavasieh et al., arXiv 2509.22649
    (2025), Methods.

    Examples
    --------
    >>> import numpy as np, crackle as ck
    >>> t = np.repeat(np.arange(1, 51), 20)
    >>> s = t**2.0 * np.exp(np.random.default_rng(0).normal(0, 0.1, t.size))
    >>> round(ck.fit_size_duration(s, t).exponent, 2)
    2.0
    """
    func = "fit_size_duration"
    if tmin is not None:
        tmin = check_int(tmin, "tmin", func, low=1)
    table = duration_table(
        sizes, durations, tmin=tmin, tmax=tmax, min_count=min_count, func=func, pool=pool
    )
    return fit_table(table)


def fit_table(table: DurationTable, first: float | None = None) -> ScalingFit:
    """The weighted least-squares <S>(T) fit over the points of ``table`` from duration
    ``first`` on (all by default); see :func:`fit_size_duration`."""
    func = "fit_size_duration"
    keep = slice(None) if first is None else table.durations >= first * (1 - 1e-12)
    t_used, mean_s = table.durations[keep], table.mean_sizes[keep]
    w, counts = table.weights[keep], table.counts[keep]
    if t_used.size < 3:
        raise param_error(
            "durations",
            func,
            f"spread over at least 3 durations holding {table.min_count} or more avalanches "
            "of different sizes in [tmin, tmax]; widen the range, lower min_count or collect "
            "more avalanches",
            f"{t_used.size} usable duration(s)",
        )
    x, y = np.log(t_used), np.log(mean_s)
    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    intercept, slope = cov @ (design.T @ (w * y))
    resid = y - (intercept + slope * x)
    dof = t_used.size - 2
    chi2_red = float(np.sum(w * resid**2) / dof) if dof > 0 else float("nan")
    scale = max(1.0, chi2_red) if np.isfinite(chi2_red) else 1.0
    return ScalingFit(
        exponent=float(slope),
        stderr=float(np.sqrt(cov[1, 1] * scale)),
        intercept=float(intercept),
        tmin=table.tmin if first is None else int(np.ceil(t_used[0])),
        tmax=table.tmax,
        n_durations=int(t_used.size),
        n_avalanches=int(counts.sum()),
        n_dropped_few=table.n_dropped_few,
        n_dropped_constant=table.n_dropped_constant,
        reduced_chi2=chi2_red,
        durations=t_used,
        mean_sizes=mean_s,
        weights=w,
    )


def predicted_exponent(
    tau: float, alpha: float, tau_err: float = 0.0, alpha_err: float = 0.0
) -> tuple[float, float]:
    """1/(sigma nu z) predicted by the crackling-noise relation (alpha - 1)/(tau - 1).

    Returns the value and its error by linear propagation of independent errors.

    Examples
    --------
    >>> predicted_exponent(1.5, 2.0)
    (2.0, 0.0)
    """
    f = "predicted_exponent"
    # NaN passes through (an exponent that could not be measured); anything that is
    # not a real number, or an infinity, is an error.
    vals = []
    for name, v in (("tau", tau), ("alpha", alpha), ("tau_err", tau_err), ("alpha_err", alpha_err)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise param_error(name, f, "a real number (NaN where not measured)", v)
        if np.isinf(v) or (name.endswith("_err") and v < 0):
            raise param_error(name, f, "finite" + (" and >= 0" if name.endswith("_err") else ""), v)
        vals.append(float(v))
    tau, alpha, tau_err, alpha_err = vals
    if abs(tau - 1.0) < 1e-12:
        raise param_error("tau", f, "different from 1", tau)
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.float64(alpha - 1.0) / np.float64(tau - 1.0)
        dt = np.float64(tau - 1.0)
        err = float(np.hypot(alpha_err / dt, (alpha - 1.0) * tau_err / dt / dt))
    inputs_finite = all(np.isfinite(vals))
    if inputs_finite and not (np.isfinite(value) and np.isfinite(err)):
        raise param_error(
            "tau",
            f,
            "and alpha such that (alpha - 1)/(tau - 1) and its error are finite",
            (tau, alpha),
        )
    return float(value), err
