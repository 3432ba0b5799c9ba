"""Exponents against the fitting window: where they are stable, and how much they move.

An exponent fitted from x_min on drifts with x_min wherever corrections to scaling
are present (a critical branching process's duration exponent goes 1.73, 1.85, 1.91,
1.95, 1.97 for T_min = 2, 5, 10, 20, 50 at 10^6 avalanches before settling at 2). The
statistical error of one fit says nothing about that. :func:`scan_power_law` and
:func:`scan_size_duration` fit the exponent for a grid of lower cut-offs, find the
smallest one from which every later estimate agrees with it within its statistical
error (the *stable window*), and report the spread of the exponent over that window,
and over smaller upper cut-offs, as a systematic error. ``docs/crackling.md`` explains
every choice.

Agreement of nested fits: the fit from a larger cut-off j uses a subset of the data of
the fit from cut-off k, and under the hypothesis that the law holds from k on, the fit
from k is efficient, so Var(e_j - e_k) = s_j^2 - s_k^2 (Hausman 1978). Cut-off k is
stable when |e_j - e_k| <= z sqrt(s_j^2 - s_k^2) for every later j.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_1d, check_int, check_real, param_error
from crackle.stats import _powerlaw_core as core
from crackle.stats.scaling import DurationTable, duration_table

__all__ = ["WindowScan", "scan_power_law", "scan_size_duration"]

FloatArray = NDArray[np.float64]

#: Lower cut-offs tried per decade.
PER_DECADE = 10
#: A cut-off is stable when every later estimate lies within Z of its nested error.
STABILITY_Z = 3.0
#: The systematic window: cut-offs from the chosen one on whose statistical error is at
#: most this many times the chosen one's (tails of at least a ninth of the chosen tail).
SYS_ERR_RATIO = 3.0


@dataclass(frozen=True)
class WindowScan:
    """An exponent fitted over a grid of lower cut-offs, and its stable window.

    Attributes
    ----------
    quantity : str
        What was fitted: ``"tau"`` (sizes), ``"alpha"`` (durations) or ``"inv_snz"``
        (the slope of <S>(T)).
    lows : ndarray of shape (K,)
        The lower cut-offs tried (x_min, or T_min for <S>(T)).
    exponents, stat_errs : ndarray of shape (K,)
        The exponent fitted from each cut-off and its statistical error.
    counts : ndarray of shape (K,)
        Avalanches in each fit.
    upper : float
        The upper end of every fit (x_max or T_max).
    chosen : int
        Index of the chosen cut-off (the start of the stable window), -1 when no
        cut-off is stable.
    window : tuple of int
        First and last index (inclusive) of the cut-offs whose spread is the
        systematic error.
    exponent, stat_err, sys_err : float
        The exponent at the chosen cut-off, its statistical error, and half the range
        of the exponents over the window and over the upper cut-offs in ``uppers``.
    uppers : dict
        Exponent at the chosen lower cut-off for each smaller upper cut-off tried.
    stable : bool
        Whether a stable window was found.
    message : str
        What was found, in words.
    """

    quantity: str
    lows: FloatArray = field(repr=False)
    exponents: FloatArray = field(repr=False)
    stat_errs: FloatArray = field(repr=False)
    counts: NDArray[np.int64] = field(repr=False)
    upper: float
    chosen: int
    window: tuple[int, int]
    exponent: float
    stat_err: float
    sys_err: float
    uppers: dict[float, float]
    stable: bool
    message: str

    @property
    def low(self) -> float:
        """The chosen lower cut-off (NaN when none is stable)."""
        return float(self.lows[self.chosen]) if self.chosen >= 0 else float("nan")

    @property
    def decades(self) -> float:
        """Decades spanned by the chosen window, log10(upper / low)."""
        return float(np.log10(self.upper / self.low)) if self.chosen >= 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary, with the scanned curve."""

        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "quantity": self.quantity,
            "low": num(self.low),
            "upper": num(self.upper),
            "decades": num(self.decades),
            "exponent": num(self.exponent),
            "stat_err": num(self.stat_err),
            "sys_err": num(self.sys_err),
            "stable": self.stable,
            "message": self.message,
            "window": [num(float(self.lows[i])) for i in self.window] if self.stable else None,
            "uppers": {f"{k:g}": num(v) for k, v in self.uppers.items()},
            "scan": {
                "lows": [float(v) for v in self.lows],
                "exponents": [num(float(v)) for v in self.exponents],
                "stat_errs": [num(float(v)) for v in self.stat_errs],
                "counts": [int(v) for v in self.counts],
            },
        }

    def _repr_html_(self) -> str:
        """The chosen exponent ± stat ± sys and its window (Jupyter's display)."""
        from crackle._display import repr_html

        symbol = {"tau": "τ", "alpha": "α", "inv_snz": "1/(σνz)"}.get(self.quantity, "exponent")
        fields: list[Any] = [
            ("exponent", symbol, "stat_err", "sys_err"),
            ("low", "lower cut-off", None, None),
            ("upper", "upper cut-off", None, None),
            ("decades", "decades of the window", None, None),
            ("stable", "stable window found", None, None),
        ]
        return repr_html(self, f"window scan of {symbol}", fields, note=self.message)

    def plot(self, ax: Any = None) -> Any:
        """The exponent against the lower cut-off, with the chosen window; returns ``ax``."""
        from crackle.report.figures import plot_window_scan

        return plot_window_scan(self, ax=ax)


def _stable_start(e: FloatArray, s: FloatArray, z: float) -> int:
    """Smallest k such that every later estimate agrees with e[k] (nested errors)."""
    k_n = e.size
    for k in range(k_n):
        later = slice(k + 1, k_n)
        var = np.maximum(s[later] ** 2 - s[k] ** 2, 0.0)
        # Equal errors (no new information) must agree exactly up to round-off.
        tol = z * np.sqrt(var) + 1e-12 * max(1.0, abs(float(e[k])))
        if np.all(np.abs(e[later] - e[k]) <= tol):
            return k
    return -1


def _choose(
    values: FloatArray,
    cand: NDArray[np.intp],
    e: FloatArray,
    s: FloatArray,
    fixed_low: float | None,
    z: float,
    low_name: str,
    what: str,
    func: str,
) -> tuple[NDArray[np.intp], FloatArray, FloatArray, int, str]:
    """Drop the cut-offs whose fit failed (never a fixed one) and pick the chosen one:
    ``fixed_low``, or the start of the stable window (-1: none)."""
    good = np.isfinite(e) & np.isfinite(s)
    k_fix = None if fixed_low is None else int(np.searchsorted(values, fixed_low, side="left"))
    if k_fix is not None:
        good |= cand == k_fix
    cand, e, s = cand[good], e[good], s[good]
    if k_fix is not None:
        chosen = int(np.searchsorted(cand, k_fix))
        if chosen >= cand.size or cand[chosen] != k_fix:
            raise param_error(
                "fixed_low", func, "a value that leaves enough data for a fit", fixed_low
            )
        return cand, e, s, chosen, f"{low_name} fixed at {values[k_fix]:g}"
    chosen = _stable_start(e, s, z) if e.size else -1
    if chosen < 0:
        return cand, e, s, -1, f"{what} drifts with {low_name}: no stable window"
    return cand, e, s, chosen, f"stable from {low_name} = {values[cand[chosen]]:g}"


def _summarise(
    quantity: str,
    lows: FloatArray,
    e: FloatArray,
    s: FloatArray,
    counts: NDArray[np.int64],
    upper: float,
    chosen: int,
    uppers: dict[float, float],
    message: str,
) -> WindowScan:
    if chosen < 0:
        nan = float("nan")
        return WindowScan(
            quantity, lows, e, s, counts, upper, -1, (0, 0), nan, nan, nan, uppers, False, message
        )
    last = chosen
    while last + 1 < e.size and s[last + 1] <= SYS_ERR_RATIO * s[chosen]:
        last += 1
    vals = np.concatenate([e[chosen : last + 1], np.array(list(uppers.values()), float)])
    vals = vals[np.isfinite(vals)]
    sys_err = float(0.5 * (vals.max() - vals.min())) if vals.size else 0.0
    return WindowScan(
        quantity,
        lows,
        e,
        s,
        counts,
        upper,
        chosen,
        (chosen, last),
        float(e[chosen]),
        float(s[chosen]),
        sys_err,
        uppers,
        True,
        message,
    )


def _grid(values: FloatArray, lo: float, hi: float, per_decade: int) -> NDArray[np.intp]:
    """Indices into sorted distinct ``values`` nearest above a geometric grid on [lo, hi]."""
    if not hi >= lo > 0:
        return np.zeros(0, dtype=np.intp)
    n_pts = int(np.floor(np.log10(hi / lo) * per_decade + 1e-9)) + 1
    pts = lo * 10.0 ** (np.arange(n_pts) / per_decade)
    idx = np.searchsorted(values, pts * (1 - 1e-12), side="left")
    idx = idx[idx < values.size]
    idx = idx[values[idx] <= hi * (1 + 1e-12)]
    return np.unique(idx).astype(np.intp)


def scan_power_law(
    x: ArrayLike,
    *,
    discrete: bool,
    xmax: float | None = None,
    quantity: str = "tau",
    low_range: tuple[float, float] | None = None,
    fixed_low: float | None = None,
    min_tail: int = 100,
    min_decades: float = 1.0,
    z: float = STABILITY_Z,
    per_decade: int = PER_DECADE,
) -> WindowScan:
    """Fit the power-law exponent from a grid of x_min values and find the stable window.

    x_min runs over a geometric grid (``per_decade`` points a decade, snapped to the
    data's distinct values) from the smallest value to the largest that leaves at
    least ``min_tail`` values and ``min_decades`` decades below the upper end (``xmax``,
    or the largest value). Each fit is the maximum-likelihood one of
    :func:`~crackle.stats.fit_power_law` (doubly truncated when ``xmax`` is set). The
    chosen x_min is the smallest from which every later estimate agrees within ``z``
    nested standard errors (or ``fixed_low`` when given). The systematic error is half
    the range of the exponent over the cut-offs from the chosen one on whose statistical
    error is at most three times the chosen one's, and at the chosen x_min with the upper end
    lowered by 1/2 and 1 decade (where at least ``min_decades`` remain).

    Parameters
    ----------
    x : array_like of shape (n,)
        Positive values (integers when ``discrete``).
    discrete : bool
        Integer data.
    xmax : float, optional
        Upper truncation; larger values are left out.
    quantity : str
        Name of the exponent, for the result (``"tau"`` for sizes, ``"alpha"`` for
        durations).
    low_range : (float, float), optional
        Only x_min candidates inside this range.
    fixed_low : float, optional
        Use this x_min instead of the stable one (the scan still gives the spread).
    min_tail, min_decades, z, per_decade
        See above.

    Returns
    -------
    WindowScan

    References
    ----------
    Clauset, Shalizi & Newman, SIAM Rev. 51, 661 (2009); Deluca & Corral, Acta
    Geophys. 61, 1351 (2013) (doubly truncated fits); Hausman, Econometrica 46, 1251
    (1978) (nested estimators).

    Examples
    --------
    >>> from crackle.stats import sample_power_law
    >>> scan = scan_power_law(sample_power_law(2.5, 1.0, 20_000, seed=0), discrete=False)
    >>> scan.stable, round(scan.exponent, 1)
    (True, 2.5)
    """
    func = "scan_power_law"
    arr = check_1d(x, "x", func, positive=True, integer=bool(discrete))
    min_tail = check_int(min_tail, "min_tail", func, low=10)
    min_decades = check_real(min_decades, "min_decades", func, low=0.0)
    z = check_real(z, "z", func, low=0.0, low_open=True)
    per_decade = check_int(per_decade, "per_decade", func, low=1)
    xs = np.sort(arr)
    if xmax is not None:
        xmax = check_real(xmax, "xmax", func, low=0.0, low_open=True)
        xs = xs[: np.searchsorted(xs, xmax, side="right")]
    upper = float(xmax) if xmax is not None else float(xs[-1]) if xs.size else float("nan")
    empty = np.zeros(0)
    if xs.size < min_tail or xs[0] == xs[-1]:
        msg = f"too few values to fit ({xs.size} at or below x_max, {min_tail} needed)"
        return _summarise(quantity, empty, empty, empty, np.zeros(0, np.int64), upper, -1, {}, msg)
    prep = core.prepare(xs, bool(discrete), xmax)
    u = prep.uvals
    nt = prep.n - prep.first[: u.size]
    top = upper / 10.0**min_decades
    ok = (nt >= min_tail) & (np.arange(u.size) <= u.size - 2) & (u <= top)
    lo_b, hi_b = (float(u[0]), top) if low_range is None else low_range
    cand = _grid(u, max(float(u[0]), lo_b), min(top, hi_b), per_decade)
    if fixed_low is not None:
        k_fix = int(np.searchsorted(u, fixed_low, side="left"))
        cand = np.union1d(cand, [k_fix]).astype(np.intp)
    cand = cand[ok[cand]] if cand.size else cand
    if cand.size == 0:
        msg = (
            f"no x_min leaves {min_tail} values and {min_decades:g} decade(s) below "
            f"x_max = {upper:g}"
        )
        return _summarise(quantity, empty, empty, empty, np.zeros(0, np.int64), upper, -1, {}, msg)
    e, s, _, conv = core.fit_candidates(prep, cand)
    # Fits that did not converge (a tail too steep for alpha <= 20) leave the scan.
    cand, e, s, chosen, msg = _choose(
        u, cand, np.where(conv, e, np.nan), s, fixed_low, z, "x_min", "the exponent", func
    )
    lows = u[cand].astype(np.float64)
    counts = nt[cand].astype(np.int64)
    if chosen >= 0 and fixed_low is None:
        msg += f" ({counts[chosen]} values)"
    uppers: dict[float, float] = {}
    if chosen >= 0:
        for drop in (0.5, 1.0):
            new_hi = upper / 10.0**drop
            if new_hi / lows[chosen] < 10.0**min_decades:
                break
            if discrete:
                new_hi = float(np.floor(new_hi))
            sub = xs[: np.searchsorted(xs, new_hi, side="right")]
            p2 = core.prepare(sub, bool(discrete), new_hi)
            k2 = int(np.searchsorted(p2.uvals, lows[chosen], side="left"))
            if p2.n - p2.first[k2] < min_tail:
                break
            a2, _, _, c2 = core.fit_candidates(p2, np.array([k2], dtype=np.intp))
            if c2[0]:
                uppers[new_hi] = float(a2[0])
    return _summarise(quantity, lows, e, s, counts, upper, chosen, uppers, msg)


def _wls_windows(
    x: FloatArray, y: FloatArray, w: FloatArray, lo: NDArray[np.intp], hi: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray]:
    """Slope and its standard error of weighted least squares over points [lo, hi)."""

    def csum(v: FloatArray) -> FloatArray:
        return np.concatenate([[0.0], np.cumsum(v)])

    sw, sx, sy = csum(w), csum(w * x), csum(w * y)
    sxx, sxy, syy = csum(w * x * x), csum(w * x * y), csum(w * y * y)

    def part(c: FloatArray) -> FloatArray:
        out: FloatArray = c[hi] - c[lo]
        return out

    a_w, a_x, a_y, a_xx, a_xy, a_yy = map(part, (sw, sx, sy, sxx, sxy, syy))
    det = a_w * a_xx - a_x**2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (a_w * a_xy - a_x * a_y) / det
        icpt = (a_y - slope * a_x) / a_w
        chi2 = a_yy - 2 * icpt * a_y - 2 * slope * a_xy + icpt**2 * a_w
        chi2 += 2 * icpt * slope * a_x + slope**2 * a_xx
        dof = (hi - lo - 2).astype(np.float64)
        red = np.where(dof > 0, np.maximum(chi2, 0.0) / dof, np.nan)
        scale = np.where(np.isfinite(red), np.maximum(red, 1.0), 1.0)
        err = np.sqrt(a_w / det * scale)
    return slope, err


def scan_size_duration(
    sizes: ArrayLike,
    durations: ArrayLike,
    *,
    tmax: int | None = None,
    min_count: int = 10,
    min_points: int = 5,
    min_decades: float = 1.0,
    fixed_low: int | None = None,
    pool: bool = True,
    z: float = STABILITY_Z,
    per_decade: int = PER_DECADE,
) -> WindowScan:
    """The <S>(T) slope fitted from a grid of T_min values, and its stable window.

    Each fit is :func:`~crackle.fit_size_duration`'s weighted least squares (weights
    n_T / var(log S | T), durations with a constant size left out, long durations with
    fewer than ``min_count`` avalanches pooled into logarithmic bins when ``pool``, the
    error scaled by sqrt(reduced chi^2) when above 1) over [T_min, T_max]. T_min runs
    over a geometric grid up to the largest that leaves ``min_points`` durations and
    ``min_decades`` decades; the stable window, the chosen T_min and the systematic
    error (including T_max lowered by 1/2 and 1 decade) are found as in
    :func:`scan_power_law`. Corrections to scaling at short durations
    (for a critical branching process <S>_T = a T^2 + b T + ...) move the chosen T_min
    up until the slope no longer drifts beyond its errors.

    Parameters
    ----------
    sizes, durations : array_like of shape (n,)
        Sizes (> 0) and integer durations (>= 1) of complete avalanches.
    tmax : int, optional
        Longest duration used.
    min_count, min_points, min_decades, fixed_low, z, per_decade
        See above.
    pool : bool
        Pool the long, sparse durations (see :func:`~crackle.fit_size_duration`).

    Returns
    -------
    WindowScan

    Examples
    --------
    >>> import numpy as np
    >>> t = np.repeat(np.arange(1, 301), 50)
    >>> s = t**2.0 * np.exp(np.random.default_rng(0).normal(0, 0.2, t.size))
    >>> scan = scan_size_duration(s, t)
    >>> scan.stable, round(scan.exponent, 2)
    (True, 2.0)
    """
    func = "scan_size_duration"
    min_points = check_int(min_points, "min_points", func, low=3)
    min_decades = check_real(min_decades, "min_decades", func, low=0.0)
    z = check_real(z, "z", func, low=0.0, low_open=True)
    per_decade = check_int(per_decade, "per_decade", func, low=1)
    table = duration_table(
        sizes, durations, tmin=None, tmax=tmax, min_count=min_count, func=func, pool=pool
    )
    return scan_table(
        table,
        min_points=min_points,
        min_decades=min_decades,
        fixed_low=fixed_low,
        z=z,
        per_decade=per_decade,
        func=func,
    )


def scan_table(
    table: DurationTable,
    *,
    min_points: int = 5,
    min_decades: float = 1.0,
    fixed_low: float | None = None,
    z: float = STABILITY_Z,
    per_decade: int = PER_DECADE,
    func: str = "scan_size_duration",
) -> WindowScan:
    """:func:`scan_size_duration` on a duration table already made (validated
    arguments), so that a caller can fit the same table afterwards."""
    t = table.durations
    x, y, w = np.log(t), np.log(table.mean_sizes), table.weights
    n_pts = t.size
    upper = float(t[-1]) if n_pts else float("nan")
    empty = np.zeros(0)
    if n_pts < min_points:
        msg = f"{n_pts} usable duration(s), {min_points} needed for <S>(T)"
        return _summarise("inv_snz", empty, empty, empty, np.zeros(0, np.int64), upper, -1, {}, msg)
    top = min(upper / 10.0**min_decades, float(t[n_pts - min_points]))
    cand = _grid(t, float(t[0]), top, per_decade)
    if fixed_low is not None:
        k_fix = int(np.searchsorted(t, fixed_low, side="left"))
        if k_fix > n_pts - min_points:
            raise param_error(
                "fixed_low", func, f"a T_min that leaves {min_points} usable durations", fixed_low
            )
        cand = np.union1d(cand, [k_fix]).astype(np.intp)
    if cand.size == 0:
        msg = f"durations span less than {min_decades:g} decade(s) with {min_points} points"
        return _summarise("inv_snz", empty, empty, empty, np.zeros(0, np.int64), upper, -1, {}, msg)
    hi = np.full(cand.size, n_pts, dtype=np.intp)
    e, s = _wls_windows(x, y, w, cand, hi)
    cand, e, s, chosen, msg = _choose(
        t, cand, e, s, fixed_low, z, "T_min", "the <S>(T) slope", func
    )
    cum = np.concatenate([[0], np.cumsum(table.counts)])
    counts = (cum[-1] - cum[cand]).astype(np.int64)
    lows = t[cand]
    uppers: dict[float, float] = {}
    if chosen >= 0:
        for drop in (0.5, 1.0):
            new_hi = upper / 10.0**drop
            m = int(np.searchsorted(t, new_hi, side="right"))
            if new_hi / lows[chosen] < 10.0**min_decades or m - cand[chosen] < min_points:
                break
            e2, _ = _wls_windows(x, y, w, cand[chosen : chosen + 1], np.array([m], np.intp))
            uppers[float(t[m - 1])] = float(e2[0])
    return _summarise("inv_snz", lows, e, s, counts, upper, chosen, uppers, msg)
