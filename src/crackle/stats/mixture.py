"""Fit a mixture of subcritical branching processes to an observed power spectrum.

A driven branching process with ratio m and drive h (``crackle.sim.driven``) is an
AR(1)-like process with the Lorentzian spectrum
S_m(w) = [h / (1 - m)] / (1 - 2 m cos w + m^2), w = 2 pi f / fs.
Summing many such processes with m ~ Beta(a, b) gives
S(f) = C E_m[S_m(w)] (+ W, white noise, e.g. from subsampling), which is 1/f^beta
over a band although every m < 1. :func:`fit_mixture_spectrum` fits (a, b, C, W).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares
from scipy.special import betaln

from crackle._validation import check_1d, check_int, check_real, param_error
from crackle.stats.correlations import log_binned

__all__ = ["MixtureSpectrumFit", "fit_mixture_spectrum", "mixture_spectrum"]

FloatArray = NDArray[np.float64]

# Quadrature in eps = 1 - m on a log grid: smooth Lorentzians in log eps.
_EPS = np.geomspace(1e-7, 1.0 - 1e-9, 700)
_LOG_EPS = np.log(_EPS)
_TRAP = (np.r_[np.diff(_LOG_EPS), 0.0] + np.r_[0.0, np.diff(_LOG_EPS)]) / 2  # trapezoid weights
# The Beta shape bounds of the fit: b > 1 keeps E_m[S_m] finite as eps -> 0.
_BOUNDS = ((0.05, 1.05), (200.0, 200.0))


def _eval_points(
    f: FloatArray, band: tuple[float, float], n_bins: int
) -> tuple[FloatArray, NDArray[np.int64], FloatArray]:
    """Up to 16 evenly chosen frequencies per non-empty log bin, their bin, bin sizes."""
    edges = np.linspace(np.log10(band[0]), np.log10(band[1]), n_bins + 1)
    idx = np.clip(np.searchsorted(edges, np.log10(f), side="right") - 1, 0, n_bins - 1)
    order = np.argsort(f, kind="stable")
    f, idx = f[order], idx[order]
    picks = []
    for j in np.unique(idx):
        members = np.flatnonzero(idx == j)
        picks.append(members[np.linspace(0, members.size - 1, min(16, members.size)).astype(int)])
    chosen = np.concatenate(picks)
    # Renumber bins 0..n_nonempty-1, in the order log_binned returns them.
    _, eid = np.unique(idx[chosen], return_inverse=True)
    return f[chosen], eid.astype(np.int64), np.bincount(eid).astype(np.float64)


def mixture_spectrum(freqs: ArrayLike, a: float, b: float, fs: float = 1.0) -> FloatArray:
    """E_m[S_m(w)] for m ~ Beta(a, b), unit drive, at ``freqs`` (shape (n,)).

    Two-sided spectrum of one component per unit drive; the one-sided Welch density
    of a sum of n such components with drive h is 2 n h / fs times this.
    Integrated by the trapezoid rule in log(1 - m) over 1 - m in [1e-7, 1).

    Examples
    --------
    >>> float(mixture_spectrum([0.25], 1.0, 2.0)[0]) > 0
    True
    """
    return _kernel(freqs, fs) @ _weights(a, b)


def _kernel(freqs: ArrayLike, fs: float) -> FloatArray:
    """S_m(w) on the quadrature grid, shape (n_freqs, n_grid)."""
    w = 2 * np.pi * np.asarray(freqs, dtype=np.float64) / fs
    eps = _EPS
    # 1 - 2 m cos w + m^2 = eps^2 + 2 m (1 - cos w), without cancellation near w = 0.
    den = eps[None, :] ** 2 + 2 * (1.0 - eps[None, :]) * (2 * np.sin(w[:, None] / 2) ** 2)
    out: FloatArray = 1.0 / (eps[None, :] * den)
    return out


def _weights(a: float, b: float) -> FloatArray:
    """Trapezoid weights in log eps times the Beta(a, b) density of m = 1 - eps."""
    # log density of m at 1 - eps, plus log of the Jacobian eps of d(log eps).
    logw = (a - 1) * np.log1p(-_EPS) + (b - 1) * _LOG_EPS - betaln(a, b) + _LOG_EPS
    return np.exp(logw) * _TRAP


@dataclass(frozen=True)
class MixtureSpectrumFit:
    """A Beta(a, b) mixture of Lorentzians fitted to a PSD.

    Attributes
    ----------
    a, b : float
        Beta shape parameters of the branching ratios m.
    scale : float
        C, the prefactor of E_m[S_m]: 2 n h / fs for n components of drive h.
    white : float
        Fitted white-noise level W (0 when not fitted).
    mean_m : float
        a / (a + b), the mean branching ratio of the components.
    band : tuple of float
        Fitted band (f_lo, f_hi).
    bin_freqs, bin_psd : ndarray of shape (n_bins,)
        The log-binned points fitted (geometric means).
    rms_log10 : float
        Root-mean-square residual in log10 PSD.
    success : bool
        Whether the optimiser converged away from the bounds of a and b.
    message : str
        What happened.
    """

    a: float
    b: float
    scale: float
    white: float
    mean_m: float
    band: tuple[float, float]
    bin_freqs: FloatArray = field(repr=False, compare=False)
    bin_psd: FloatArray = field(repr=False, compare=False)
    rms_log10: float = float("nan")
    fs: float = 1.0
    success: bool = True
    message: str = ""

    def model(self, freqs: ArrayLike) -> FloatArray:
        """The fitted PSD at ``freqs``."""
        out: FloatArray = self.scale * mixture_spectrum(freqs, self.a, self.b, self.fs) + self.white
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "a": self.a,
            "b": self.b,
            "scale": self.scale,
            "white": self.white,
            "mean_m": self.mean_m,
            "band": list(self.band),
            "rms_log10": self.rms_log10,
            "fs": self.fs,
            "success": self.success,
            "message": self.message,
        }

    def plot(self, ax: Any = None) -> Any:
        """The binned PSD and the fitted mixture spectrum in log-log; returns the Axes."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax, figsize=(5.5, 4.0))
        ax.loglog(self.bin_freqs, self.bin_psd, "o", ms=3, label="PSD (log bins)")
        f = np.geomspace(*self.band, 200)
        ax.loglog(f, self.model(f), "-", label=f"m ~ Beta({self.a:.2f}, {self.b:.2f}) mixture")
        ax.set_xlabel("frequency f")
        ax.set_ylabel("power spectral density S(f)")
        ax.set_title("mixture of branching spectra", fontsize=10)
        ax.legend(frameon=False, fontsize=8)
        return ax


def fit_mixture_spectrum(
    freqs: ArrayLike,
    psd: ArrayLike,
    *,
    fs: float = 1.0,
    band: tuple[float, float] | None = None,
    white_noise: bool = False,
    n_bins: int = 40,
) -> MixtureSpectrumFit:
    """Fit a Beta(a, b) mixture of subcritical branching spectra to a measured PSD.

    Model: S(f) = C E_{m ~ Beta(a, b)}[S_m(2 pi f / fs)] + W with
    S_m(w) = 1 / ((1 - m)(1 - 2 m cos w + m^2)), the spectrum of a driven branching
    process per unit drive (see :func:`mixture_spectrum`); W is fitted only with
    ``white_noise=True`` (binomial subsampling adds white noise). The band is cut into
    ``n_bins`` log bins (each decade weighs the same, as in
    :func:`~crackle.stats.psd_slope`) and log10 S is fitted by least squares over
    log a, log b, log C (and log W), from several starting points. a is kept in
    [0.05, 200] and b in [1.05, 200] (b <= 1 makes E_m[S_m] diverge at low
    frequency); a fit that ends on a bound is reported with ``success=False``.
    Near 1 - m -> 0 the density grows as (1 - m)^(b - 1), so the spectrum falls as
    f^-(3 - b) between the slowest and the typical relaxation rates.

    Parameters
    ----------
    freqs, psd : array_like of shape (n,)
        A one-sided PSD, e.g. ``PSDSlope.freqs`` and ``.psd`` from
        :func:`~crackle.stats.psd_slope` or :func:`scipy.signal.welch`; psd > 0 in
        the band.
    fs : float
        Sampling frequency of the series.
    band : (float, float), optional
        Frequencies fitted; default all positive frequencies given.
    white_noise : bool
        Fit an additive white-noise level as well.
    n_bins : int
        Log bins over the band (>= 5).

    Returns
    -------
    MixtureSpectrumFit

    References
    ----------
    Ren & Feng, arXiv 2606.10384 (2026); Wilting & Priesemann, Nat. Commun. 9, 2325
    (2018).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.geomspace(1e-4, 0.5, 300)
    >>> fit = fit_mixture_spectrum(f, 3.0 * mixture_spectrum(f, 5.0, 2.0))
    >>> round(fit.a, 3), round(fit.b, 3), round(fit.scale, 3)
    (5.0, 2.0, 3.0)
    """
    func = "fit_mixture_spectrum"
    f = check_1d(freqs, "freqs", func, nonnegative=True, min_size=5)
    s = check_1d(psd, "psd", func)
    if s.size != f.size:
        raise param_error("psd", func, f"of the same length as freqs ({f.size})", s.size)
    fs = check_real(fs, "fs", func, low=0.0, low_open=True)
    n_bins = check_int(n_bins, "n_bins", func, low=5)
    pos = f > 0
    lo, hi = (float(f[pos].min()), float(f[pos].max())) if band is None else map(float, band)
    if not (0 < lo < hi <= fs / 2):
        raise param_error("band", func, "(f_lo, f_hi) with 0 < f_lo < f_hi <= fs/2", (lo, hi))
    sel = (f >= lo) & (f <= hi)
    if (s[sel] <= 0).any():
        raise param_error("psd", func, "strictly positive in the band", "values <= 0")
    bf, bs = log_binned(f, s, (lo, hi), n_bins)
    ef, eid, ecount = _eval_points(f[sel & pos], (lo, hi), n_bins)
    kern = _kernel(ef, fs)  # independent of (a, b): computed once
    n_par = 4 if white_noise else 3
    if bf.size <= n_par:
        raise param_error(
            "band", func, f"holding frequencies in more than {n_par} log bins", f"{bf.size} bin(s)"
        )
    y = np.log10(bs)

    def resid(p: FloatArray) -> FloatArray:
        out: FloatArray = model_log(p) - y
        return out

    def model_log(p: FloatArray) -> FloatArray:
        # Binned like the data: the mean of log10 S over (up to 16 of) each bin's points.
        core = np.exp(p[2]) * (kern @ _weights(np.exp(p[0]), np.exp(p[1])))
        if white_noise:
            core = core + np.exp(p[3])
        out: FloatArray = np.bincount(eid, weights=np.log10(core)) / ecount
        return out

    lower = [np.log(_BOUNDS[0][0]), np.log(_BOUNDS[0][1]), -np.inf] + [-np.inf] * white_noise
    upper = [np.log(_BOUNDS[1][0]), np.log(_BOUNDS[1][1]), np.inf] + [np.inf] * white_noise
    best = None
    for a0, b0 in ((1.0, 2.0), (5.0, 2.0), (2.0, 1.5), (10.0, 2.5), (1.0, 3.0)):
        shape = mixture_spectrum(bf, a0, b0, fs)
        c0 = float(np.mean(np.log(bs) - np.log(shape)))  # level matched at the start
        p0 = [np.log(a0), np.log(b0), c0] + [np.log(bs.min()) - 3.0] * white_noise
        sol = least_squares(
            resid,
            p0,
            bounds=(lower, upper),
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
            max_nfev=500,
        )
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    a, b = float(np.exp(best.x[0])), float(np.exp(best.x[1]))
    on_bound = not (
        _BOUNDS[0][0] * 1.001 < a < _BOUNDS[1][0] * 0.999
        and _BOUNDS[0][1] * 1.001 < b < _BOUNDS[1][1] * 0.999
    )
    ok = bool(best.success) and not on_bound
    msg = "converged" if ok else ("a or b ended on a bound" if on_bound else str(best.message))
    return MixtureSpectrumFit(
        a=a,
        b=b,
        scale=float(np.exp(best.x[2])),
        white=float(np.exp(best.x[3])) if white_noise else 0.0,
        mean_m=a / (a + b),
        band=(lo, hi),
        bin_freqs=bf,
        bin_psd=bs,
        rms_log10=float(np.sqrt(np.mean(best.fun**2))),
        fs=fs,
        success=ok,
        message=msg,
    )
