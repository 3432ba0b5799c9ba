"""Long-range temporal correlations: DFA exponent and power-spectrum slope.

:func:`dfa` is detrended fluctuation analysis with linear detrending (DFA-1; Peng et
al. 1994), vectorised over the windows of each scale. :func:`psd_slope` fits
S(f) ~ 1/f^beta to a Welch estimate over a stated band. For a stationary signal with
0 < beta < 1, and for the increments of the non-stationary ones up to beta < 3, the
two are tied by H = (1 + beta) / 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import welch

from crackle._validation import check_1d, check_int, check_real, param_error

__all__ = ["DFAResult", "PSDSlope", "dfa", "psd_slope"]

FloatArray = NDArray[np.float64]


def _line_fit(x: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and the slope's standard error."""
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = x.size - 2
    s2 = float(resid @ resid / dof) if dof > 0 else float("nan")
    se = float(np.sqrt(s2 / np.sum((x - x.mean()) ** 2))) if dof > 0 else float("nan")
    return float(coef[1]), float(coef[0]), se


@dataclass(frozen=True)
class DFAResult:
    """Detrended fluctuation analysis: F(n) ~ n^H.

    Attributes
    ----------
    exponent : float
        H, the least-squares slope of log F(n) on log n.
    stderr : float
        Its ordinary least-squares standard error (F at neighbouring scales is
        correlated, so this understates the true error).
    intercept : float
        Natural log of the prefactor.
    scales : ndarray of int64, shape (n_scales,)
        Window sizes n.
    fluctuation : ndarray of shape (n_scales,)
        F(n).
    order : int
        Degree of the detrending polynomial.
    n_samples : int
        Length of the series.
    """

    exponent: float
    stderr: float
    intercept: float
    scales: NDArray[np.int64] = field(repr=False, compare=False)
    fluctuation: FloatArray = field(repr=False, compare=False)
    order: int = 1
    n_samples: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "exponent": self.exponent,
            "stderr": self.stderr,
            "intercept": self.intercept,
            "scales": self.scales.tolist(),
            "fluctuation": self.fluctuation.tolist(),
            "order": self.order,
            "n_samples": self.n_samples,
        }

    def plot(self, ax: Any = None) -> Any:
        """F(n) against n in log-log with the fitted line; returns the Axes."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax, figsize=(5.5, 4.0))
        ax.loglog(self.scales, self.fluctuation, "o", ms=3, label="F(n), data")
        fit = np.exp(self.intercept) * self.scales.astype(float) ** self.exponent
        ax.loglog(self.scales, fit, "-", label=f"fit: F(n) ∝ n^H, H = {self.exponent:.3f}")
        ax.set_xlabel("window length n (samples)")
        ax.set_ylabel("fluctuation F(n)")
        ax.set_title("detrended fluctuation analysis", fontsize=10)
        ax.legend(frameon=False, fontsize=8)
        return ax


def default_scales(n_samples: int, n_scales: int = 25) -> NDArray[np.int64]:
    """Log-spaced integer window sizes from 10 to n_samples // 10 (distinct values).

    Ten points per window keep the linear detrending meaningful; ten windows (twenty,
    counting both directions) keep F(n) at the largest scale from being noise.
    """
    hi = n_samples // 10
    return np.unique(np.geomspace(10, hi, n_scales).round().astype(np.int64))


def _fluctuation(profile: FloatArray, n: int, order: int) -> float:
    """F(n): rms residual of polynomial fits in windows of n points, both directions."""
    w = profile.size // n
    # Orthonormal basis of the polynomials of degree <= order on the window: the
    # least-squares residual is the projection onto its complement, for all windows
    # at once (two thin matrix products; on a machine with more busy processes than
    # cores, pin OpenBLAS to one thread, OPENBLAS_NUM_THREADS=1, or they crawl).
    q, _ = np.linalg.qr(np.vander(np.linspace(-1.0, 1.0, n), order + 1))
    total = 0.0
    # Windows from the start and from the end, so no sample is left out (Kantelhardt 2002).
    for part in (profile[: w * n], profile[profile.size - w * n :]):
        blocks = part.reshape(w, n)
        resid = (blocks @ q) @ q.T
        np.subtract(blocks, resid, out=resid)
        total += float(np.einsum("ij,ij->", resid, resid))
    return float(np.sqrt(total / (2 * w * n)))


def dfa(x: ArrayLike, scales: ArrayLike | None = None, order: int = 1) -> DFAResult:
    """Detrended fluctuation analysis (DFA-1 by default) of a 1-D signal.

    The profile Y_i = sum_{j <= i} (x_j - <x>) is cut into non-overlapping windows
    of n points, counted from the start and again from the end (so 2 floor(N/n)
    windows, none of the data left out, as in Kantelhardt et al. 2002 and the
    ``MFDFA`` package); in each window a straight line (a polynomial of degree
    ``order``) is fitted by least squares;
    F(n) is the root mean square of the residuals over all windows. The exponent H
    is the least-squares slope of log F(n) on log n. White noise gives H = 1/2, 1/f
    noise H = 1, a random walk H = 3/2.

    Parameters
    ----------
    x : array_like of shape (N,)
        The signal (finite values), N >= 200.
    scales : array_like of int, optional
        Window sizes, each in [order + 2, N // 2]; default 25 log-spaced values from
        10 to N // 10 (see :func:`default_scales`), reported in the result.
    order : int
        Degree of the detrending polynomial, 1 (DFA-1, default) to 5. DFA-q measures
        exponents up to H = q + 1.

    Returns
    -------
    DFAResult

    References
    ----------
    Peng et al., "Mosaic organization of DNA nucleotides", Phys. Rev. E 49, 1685
    (1994); Kantelhardt et al., Physica A 316, 87 (2002).

    Examples
    --------
    >>> import numpy as np, crackle as ck
    >>> x = np.random.default_rng(0).normal(size=100_000)
    >>> round(ck.dfa(x).exponent, 1), round(ck.dfa(np.cumsum(x)).exponent, 1)
    (0.5, 1.5)
    """
    func = "dfa"
    arr = check_1d(x, "x", func, min_size=200)
    order = check_int(order, "order", func, low=1, high=5)
    if scales is None:
        sc = default_scales(arr.size)
    else:
        raw = check_1d(scales, "scales", func, min_size=2)
        if (raw != np.round(raw)).any() or raw.min() < order + 2 or raw.max() > arr.size // 2:
            raise param_error(
                "scales",
                func,
                f"integer window sizes in [order + 2, N // 2] = [{order + 2}, {arr.size // 2}]",
                f"values from {raw.min():g} to {raw.max():g}",
            )
        sc = np.unique(raw.astype(np.int64))
        if sc.size < 2:
            raise param_error("scales", func, "at least two distinct window sizes", sc.size)
    # Work at unit scale (a power of two: exact), so that squares of very large or
    # very small signals neither overflow nor underflow; F(n) scales back linearly.
    unit = _power_of_two_scale(arr)
    scaled = arr / unit  # exact; its mean cannot overflow where the signal's sum would
    profile = np.cumsum(scaled - scaled.mean())
    fl = np.array([_fluctuation(profile, int(n), order) for n in sc])
    with np.errstate(over="ignore"):
        fl_data = fl * unit
    if not np.isfinite(fl_data).all():
        raise param_error(
            "x",
            func,
            "of a scale whose fluctuations stay below 1.8e308; rescale it (the "
            "exponent does not depend on the scale)",
            f"values up to {np.abs(arr).max():g}",
        )
    if (fl <= 0).any():
        raise param_error(
            "x",
            func,
            "a signal that is not a straight line in every window (F(n) = 0 has no logarithm)",
            "F(n) = 0 at some scale",
        )
    slope, icpt, se = _line_fit(np.log(sc.astype(np.float64)), np.log(fl))
    return DFAResult(slope, se, float(icpt + np.log(unit)), sc, fl_data, order, int(arr.size))


def _power_of_two_scale(arr: FloatArray) -> float:
    """2^k nearest the signal's spread around its median (for a constant, its
    magnitude; 1.0 for zeros), k within float64's normal exponents: dividing by it is
    exact.

    The spread is measured on the signal divided by a power of two near its largest
    value, so that differences of values near 1.8e308 do not overflow.
    """
    top = float(np.max(np.abs(arr)))
    if top == 0 or not np.isfinite(top):
        return 1.0
    k_top = int(np.frexp(top)[1]) - 1  # floor(log2(top)), exactly (log2 rounds up at the top)
    scaled = arr / np.ldexp(1.0, k_top)  # |scaled| < 2
    spread = float(np.max(np.abs(scaled - np.median(scaled))))  # < 4
    if spread == 0:  # a constant: its own magnitude, so that its sum stays finite
        return float(np.ldexp(1.0, k_top))
    k = k_top + int(np.round(np.log2(spread)))
    return float(np.ldexp(1.0, int(np.clip(k, -1022, 1023))))


@dataclass(frozen=True)
class PSDSlope:
    """Slope of the power spectral density, S(f) ~ 1/f^beta, in a frequency band.

    Attributes
    ----------
    beta : float
        Minus the least-squares slope of log10 S on log10 f over the band.
    stderr : float
        Its ordinary least-squares standard error over the log bins.
    intercept : float
        log10 S at f = 1 of the fitted line.
    band : tuple of float
        (f_lo, f_hi), the fitted band (inclusive), in units of ``fs``.
    freqs, psd : ndarray of shape (n_freqs,)
        The whole Welch estimate (one-sided density, f = 0 included).
    bin_freqs, bin_psd : ndarray of shape (n_bins,)
        Geometric-mean frequency and PSD of each non-empty log bin: the fitted points.
    fs : float
        Sampling frequency.
    nperseg : int
        Welch segment length.
    """

    beta: float
    stderr: float
    intercept: float
    band: tuple[float, float]
    freqs: FloatArray = field(repr=False, compare=False)
    psd: FloatArray = field(repr=False, compare=False)
    bin_freqs: FloatArray = field(repr=False, compare=False)
    bin_psd: FloatArray = field(repr=False, compare=False)
    fs: float = 1.0
    nperseg: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the spectrum itself is left out)."""
        return {
            "beta": self.beta,
            "stderr": self.stderr,
            "intercept": self.intercept,
            "band": list(self.band),
            "fs": self.fs,
            "nperseg": self.nperseg,
            "n_bins": int(self.bin_freqs.size),
        }

    def plot(self, ax: Any = None) -> Any:
        """The Welch PSD in log-log, the band and the fitted 1/f^beta; returns the Axes."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax, figsize=(5.5, 4.0))
        pos = self.freqs > 0
        ax.loglog(self.freqs[pos], self.psd[pos], lw=0.8, color="0.6", label="Welch PSD")
        ax.loglog(self.bin_freqs, self.bin_psd, "o", ms=3, label="log bins")
        f = np.geomspace(*self.band, 50)
        ax.loglog(
            f, 10**self.intercept * f**-self.beta, "-", label=f"fit: 1/f^β, β = {self.beta:.3f}"
        )
        ax.axvspan(*self.band, alpha=0.1, label="fitted band")
        ax.set_xlabel("frequency f")
        ax.set_ylabel("power spectral density S(f)")
        ax.set_title("power spectrum and its 1/f^β slope", fontsize=10)
        ax.legend(frameon=False, fontsize=8)
        return ax


def default_nperseg(n_samples: int) -> int:
    """The largest power of two <= N / 8, at least 16 and at most 2^16."""
    return int(min(2**16, max(16, 2 ** int(np.floor(np.log2(max(n_samples / 8, 1)))))))


def log_binned(
    f: FloatArray, s: FloatArray, band: tuple[float, float], n_bins: int
) -> tuple[FloatArray, FloatArray]:
    """Geometric means of f and S in ``n_bins`` log-spaced bins over ``band``."""
    sel = (f >= band[0]) & (f <= band[1]) & (f > 0)
    lf, ls = np.log10(f[sel]), np.log10(s[sel])
    edges = np.linspace(np.log10(band[0]), np.log10(band[1]), n_bins + 1)
    idx = np.clip(np.searchsorted(edges, lf, side="right") - 1, 0, n_bins - 1)
    cnt = np.bincount(idx, minlength=n_bins)
    keep = cnt > 0
    mf = np.bincount(idx, weights=lf, minlength=n_bins)[keep] / cnt[keep]
    ms = np.bincount(idx, weights=ls, minlength=n_bins)[keep] / cnt[keep]
    return 10**mf, 10**ms


def psd_slope(
    x: ArrayLike,
    fs: float = 1.0,
    band: tuple[float, float] | None = None,
    nperseg: int | None = None,
    *,
    n_bins: int = 20,
) -> PSDSlope:
    """Fit S(f) ~ 1/f^beta to the Welch power spectral density over a band.

    S(f) is :func:`scipy.signal.welch` with a Hann window, 50 % overlap, linear
    detrending of each segment and a one-sided density. Over the band the
    frequencies are grouped into ``n_bins`` log-spaced bins (so each decade weighs
    the same, rather than the highest decade holding most points); log10 S is
    averaged in each bin and beta is minus the least-squares slope of those means
    against the bins' mean log10 f. White noise gives beta = 0, a random walk 2.

    Parameters
    ----------
    x : array_like of shape (N,)
        The signal (finite values), N >= 64.
    fs : float
        Sampling frequency.
    band : (float, float), optional
        (f_lo, f_hi) with 0 < f_lo < f_hi <= fs / 2; default from 4 frequency
        resolutions, 4 fs / nperseg, to fs / 4.
    nperseg : int, optional
        Welch segment length, in [16, N]; default the largest power of two <= N / 8
        (at most 2^16), so at least 15 half-overlapping segments are averaged.
    n_bins : int
        Log bins over the band (>= 3; empty bins are dropped, at least 3 must remain).

    Returns
    -------
    PSDSlope

    References
    ----------
    Welch, IEEE Trans. Audio Electroacoust. 15, 70 (1967); Ren & Feng, arXiv
    2606.10384 (2026).

    Examples
    --------
    >>> import numpy as np, crackle as ck
    >>> x = np.random.default_rng(0).normal(size=2**16)
    >>> round(ck.psd_slope(x).beta, 1), round(ck.psd_slope(np.cumsum(x)).beta, 1)
    (0.0, 2.0)
    """
    func = "psd_slope"
    arr = check_1d(x, "x", func, min_size=64)
    fs = check_real(fs, "fs", func, low=0.0, low_open=True)
    if nperseg is None:
        nps = default_nperseg(arr.size)
    else:
        nps = check_int(nperseg, "nperseg", func, low=16, high=arr.size)
    n_bins = check_int(n_bins, "n_bins", func, low=3)
    if band is None:
        lo, hi = 4.0 * fs / nps, fs / 4.0
    else:
        try:
            lo, hi = (float(v) for v in band)
        except (TypeError, ValueError) as exc:
            raise param_error("band", func, "a pair (f_lo, f_hi)", band) from exc
    if not (0 < lo < hi <= fs / 2) or not np.isfinite([lo, hi]).all():
        raise param_error(
            "band", func, f"(f_lo, f_hi) with 0 < f_lo < f_hi <= fs/2 = {fs / 2:g}", (lo, hi)
        )
    if arr.min() == arr.max():  # np.ptp would overflow for values near 1.8e308
        raise param_error(
            "x", func, "a signal that varies (a constant has no spectrum)", "a constant signal"
        )
    # At unit scale (a power of two: exact) so that squares neither overflow nor
    # underflow; the spectrum scales back by unit^2.
    unit = _power_of_two_scale(arr)
    # scipy-stubs spell the "linear" literal "literal"; the call is what scipy documents.
    f, s = welch(arr / unit, fs=fs, nperseg=nps, detrend="linear")  # type: ignore[call-overload]
    with np.errstate(over="ignore", under="ignore"):
        s = (s * unit) * unit
    if not np.isfinite(s).all() or not (s > 0).any():
        raise param_error(
            "x",
            func,
            "of a scale whose power spectrum stays within float64; rescale it (beta does "
            "not depend on the scale)",
            f"values up to {np.abs(arr).max():g}",
        )
    bf, bs = log_binned(f, np.maximum(s, np.finfo(float).tiny), (lo, hi), n_bins)
    if bf.size < 3:
        raise param_error(
            "band",
            func,
            "wide enough to hold Welch frequencies in at least 3 log bins; "
            "widen it or raise nperseg",
            f"{bf.size} non-empty bin(s) in {(lo, hi)}",
        )
    slope, icpt, se = _line_fit(np.log10(bf), np.log10(bs))
    return PSDSlope(-slope, se, icpt, (lo, hi), f, s, bf, bs, fs, nps)
