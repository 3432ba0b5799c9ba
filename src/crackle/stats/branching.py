"""Branching ratio of binned activity: the naive ratio and multistep regression (MR).

:func:`branching_ratio` returns a :class:`BranchingRatioResult`. The MR estimator of
Wilting & Priesemann (2018) regresses A_{t+k} on A_t for k = 1..kmax and fits
r_k = b m^k; unlike the naive ratio it is unbiased under subsampling and drive.
The lagged sums live in ``_lagsums``; ``docs/branching.md`` explains every choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import check_1d, check_choice, check_int, check_real, param_error
from crackle.stats._branching_naive import naive_ratio
from crackle.stats._expfit import fit_exponential
from crackle.stats._lagsums import LagSums, lag_sums, slopes

__all__ = ["BranchingRatioResult", "branching_ratio"]

FloatArray = NDArray[np.float64]
_FUNC = "branching_ratio"
_SHAPES = "a 1-D array, a 2-D array of shape (n_trials, T) or a list of 1-D arrays"


def _none_if_nan(v: float) -> float | None:
    return v if np.isfinite(v) else None


@dataclass(frozen=True)
class BranchingRatioResult:
    """Estimated branching ratio m of binned activity.

    Attributes
    ----------
    m : float
        The estimate.
    m_stderr : float
        Bootstrap standard error of m (NaN when ``n_boot`` = 0); resampled over
        trials, or over contiguous blocks of a single trial.
    b : float
        Amplitude of the fit r_k = b m^k (MR); NaN for the naive estimator. Under
        subsampling b < 1 while m is unbiased.
    method : {"naive", "mr"}
        The estimator.
    kmax : int
        Largest lag (1 for the naive estimator).
    k, r_k : ndarray of shape (kmax,)
        Lags and the regression slopes of A_{t+k} on A_t averaged over trials (MR);
        for the naive estimator k = [1] and r_k = [m].
    r_k_stderr : ndarray of shape (kmax,)
        Bootstrap standard errors of r_k (NaN without bootstrap).
    tau : float
        Autocorrelation time -dt / ln m (inf at m = 1, negative for m > 1, in the
        units of ``dt``).
    dt : float
        Duration of one bin.
    n_trials, n_steps : int
        Trials and total bins analysed.
    n_boot, n_blocks : int
        Bootstrap replicas and the unit they resample: trials (n_blocks =
        n_trials) or blocks of the single trial.
    n_zero : int
        Bins with A_t = 0 left out as origins of the naive ratio (0 for MR).
    seed : int, str or None
        Record of the bootstrap seed.
    success : bool
        False when the least-squares minimum lies on the edge of the range of m
        searched, (0, 1.5], e.g. for r_k that do not decay (always True for naive).
    """

    m: float
    m_stderr: float
    b: float
    method: str
    kmax: int
    k: NDArray[np.int64] = field(repr=False, compare=False)
    r_k: FloatArray = field(repr=False, compare=False)
    r_k_stderr: FloatArray = field(repr=False, compare=False)
    tau: float = float("nan")
    dt: float = 1.0
    n_trials: int = 1
    n_steps: int = 0
    n_boot: int = 0
    n_blocks: int = 1
    n_zero: int = 0
    seed: int | str | None = None
    success: bool = True

    def fitted(self, k: ArrayLike | None = None) -> FloatArray:
        """b m^k at lags ``k`` (default the fitted lags); m^k for the naive estimator."""
        kk = self.k if k is None else np.asarray(k, dtype=np.float64)
        b = 1.0 if self.method == "naive" else self.b
        return np.asarray(b * self.m ** np.asarray(kk, dtype=np.float64))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (NaN and inf become None)."""
        return {
            "m": self.m,
            "m_stderr": _none_if_nan(self.m_stderr),
            "b": _none_if_nan(self.b),
            "method": self.method,
            "kmax": self.kmax,
            "k": self.k.tolist(),
            "r_k": self.r_k.tolist(),
            "tau": _none_if_nan(self.tau),
            "dt": self.dt,
            "n_trials": self.n_trials,
            "n_steps": self.n_steps,
            "n_boot": self.n_boot,
            "n_blocks": self.n_blocks,
            "n_zero": self.n_zero,
            "seed": self.seed,
            "success": self.success,
        }

    def plot(self, ax: Any = None) -> Any:
        """r_k against k (log scale on r_k) with the fitted b m^k."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        err = np.where(np.isfinite(self.r_k_stderr), self.r_k_stderr, 0.0)
        ax.errorbar(self.k, self.r_k, yerr=err, fmt="o", ms=3, label="$r_k$")
        kk = np.linspace(1, max(self.kmax, 2), 200)
        ax.plot(kk, self.fitted(kk), "-", label=f"fit, m = {self.m:.4f}")
        ax.set_xlabel("lag k")
        ax.set_ylabel("$r_k$")
        if (self.r_k > 0).all():
            ax.set_yscale("log")
        ax.legend(frameon=False)
        return ax


def _as_trials(counts: Any) -> list[FloatArray]:
    """A list of 1-D float arrays (one per trial), validated."""
    if isinstance(counts, list | tuple) and counts and all(np.ndim(c) == 1 for c in counts):
        rows: list[Any] = list(counts)
    else:
        try:
            arr = np.asarray(counts, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise param_error("counts", _FUNC, _SHAPES, counts) from exc
        if arr.ndim not in (1, 2):
            raise param_error("counts", _FUNC, _SHAPES, f"shape {arr.shape}")
        rows = [arr] if arr.ndim == 1 else list(arr)
    if not rows:
        raise param_error("counts", _FUNC, _SHAPES, "no trials")
    one = len(rows) == 1
    # check_1d refuses NaN, inf and negative values with a message naming the trial.
    return [
        check_1d(row, "counts" if one else f"counts[{i}]", _FUNC, nonnegative=True)
        for i, row in enumerate(rows)
    ]


def _blocks(lengths: list[int], n_blocks: int, kmax: int) -> tuple[Any, ...]:
    """Segments: whole trials, or n_blocks contiguous blocks of a single trial."""
    ends = np.cumsum(lengths)
    starts = ends - np.asarray(lengths)
    if len(lengths) > 1:
        return starts, ends - 1, ends, len(lengths)
    total = lengths[0]
    # Blocks of pair origins over [0, total - 1); the last lag-kmax origin is total-kmax-1.
    nb = max(1, min(n_blocks, (total - kmax) // (kmax + 1)))
    edges = np.linspace(0, total - kmax, nb + 1).round().astype(np.int64)
    # The last block runs to the last origin at lag 1; shorter lags keep their pairs.
    edges[-1] = total - 1
    return edges[:-1], edges[1:], np.full(nb, total, np.int64), nb


def branching_ratio(
    counts: ArrayLike | Sequence[ArrayLike],
    method: str = "mr",
    *,
    kmax: int | None = None,
    dt: float = 1.0,
    n_boot: int = 100,
    n_blocks: int = 20,
    seed: SeedLike = 0,
) -> BranchingRatioResult:
    """Branching ratio m of binned activity A_t, naive or by multistep regression.

    ``"naive"``: m = (1/|P|) sum over P of A_{t+1} / A_t, with P every pair of
    consecutive bins inside a trial whose first bin is active (A_t > 0; bins with
    A_t = 0 are counted in ``n_zero``). Under drive E[A_{t+1} / A_t] = m + h E[1/A_t],
    and under subsampling the ratio no longer estimates m at all.

    ``"mr"`` (Wilting & Priesemann 2018; the "trialseparated" coefficients of the
    ``mrestimator`` package): in each trial the slope of the linear regression of
    A_{t+k} on A_t over the pairs t = 0..T-k-1,
    r_k = Cov(A_t, A_{t+k}) / Var(A_t) (population moments over those pairs),
    for k = 1..kmax; r_k is averaged over trials with equal weights; then
    r_k = b m^k is fitted by unweighted nonlinear least squares (b, m >= 0).
    Subsampling lowers b, not m.

    Uncertainty: ``n_boot`` bootstrap replicas, each refitted. With several trials,
    trials are resampled with replacement. With one trial it is cut into
    ``n_blocks`` contiguous blocks of pair origins (pairs reach into the next block,
    so pooling all blocks gives exactly the full-series r_k); blocks are resampled
    and their sums pooled. Blocks should be much longer than tau; a series too short
    for two blocks of more than kmax + 1 origins gets no error bars.

    Parameters
    ----------
    counts : array_like
        Non-negative activity: shape (T,) for one trial, (n_trials, T) for trials of
        equal length, or a list of 1-D arrays for trials of unequal length. Counts
        need not be integers (summed rates or amplitudes work as well); NaN, inf and
        negative values are refused.
    method : {"mr", "naive"}
        The estimator.
    kmax : int, optional
        Largest lag for MR; default min(T_min // 10, 1000) with T_min the shortest
        trial. Every trial must be longer than 2 kmax. Choose several times tau.
    dt : float
        Bin width, for tau.
    n_boot : int
        Bootstrap replicas (0: no error bars).
    n_blocks : int
        Blocks for the bootstrap of a single trial.
    seed : int, numpy.random.Generator or None
        Bootstrap randomness.

    Returns
    -------
    BranchingRatioResult

    References
    ----------
    Wilting & Priesemann, Nat. Commun. 9, 2325 (2018); Spitzner et al., PLoS ONE 16,
    e0249447 (2021) (mrestimator).

    Examples
    --------
    >>> import crackle as ck
    >>> from crackle.sim import driven_branching_process
    >>> run = driven_branching_process(0.95, 5.0, 50_000, subsample=0.05, seed=1)
    >>> est = ck.branching_ratio(run.observed, method="mr", kmax=60, n_boot=20)
    >>> bool(abs(est.m - 0.95) < 0.01), bool(est.b < 0.5)
    (True, True)
    >>> round(ck.branching_ratio(run.observed, method="naive").m, 2)  # badly biased
    1.26
    """
    method = check_choice(method, "method", _FUNC, ("mr", "naive"))
    trials = _as_trials(counts)
    lengths = [t.size for t in trials]
    dt = check_real(dt, "dt", _FUNC, low=0.0, low_open=True)
    n_boot = check_int(n_boot, "n_boot", _FUNC, low=0)
    n_blocks = check_int(n_blocks, "n_blocks", _FUNC, low=2)
    if method == "naive":
        kmax = 1
    elif kmax is None:
        kmax = max(1, min(min(lengths) // 10, 1000))
    else:
        kmax = check_int(kmax, "kmax", _FUNC, low=1)
    short = [i for i, n in enumerate(lengths) if n <= 2 * kmax]
    if short:
        raise param_error(
            "counts",
            _FUNC,
            f"made of trials longer than 2 * kmax = {2 * kmax} bins; lower "
            "kmax or drop the short trials",
            f"{len(short)} trial(s) too short, the first (index {short[0]}) of length "
            f"{lengths[short[0]]}",
        )
    flat = np.concatenate(trials)
    rng = as_generator(seed, _FUNC)
    starts, stops, ends, nb = _blocks(lengths, n_blocks, kmax)
    if nb < 2:
        n_boot = 0  # a single block has nothing to resample: no error bars
    common: dict[str, Any] = {
        "dt": dt,
        "n_trials": len(trials),
        "n_steps": int(flat.size),
        "n_boot": n_boot,
        "n_blocks": int(nb),
        "seed": seed_repr(seed),
    }
    if method == "naive":
        m_naive, boot, n_zero = naive_ratio(flat, starts, stops, n_boot, rng)
        return BranchingRatioResult(
            m=m_naive,
            m_stderr=_std(boot),
            b=float("nan"),
            method="naive",
            kmax=1,
            k=np.array([1], dtype=np.int64),
            r_k=np.array([m_naive]),
            r_k_stderr=np.array([_std(boot)]),
            tau=_tau(m_naive, dt),
            n_zero=n_zero,
            **common,
        )

    const = [i for i, t in enumerate(trials) if np.ptp(t[: t.size - 1]) == 0]
    if const:
        raise param_error(
            "counts",
            _FUNC,
            "a series that varies in every trial (a constant trial has no "
            "regression slope); drop constant trials",
            f"{len(const)} constant trial(s), the first is trial {const[0]}",
        )
    # Centre each trial on its own mean: r_k does not change, cancellation goes away.
    x = flat - np.repeat([t.mean() for t in trials], lengths)
    sums = lag_sums(x, starts, stops, ends, kmax)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = sums.slopes() if len(trials) > 1 else None
        r = pooled_slopes(sums, per, None)
    if not np.isfinite(r).all():
        raise param_error(
            "counts",
            _FUNC,
            "a series whose first T - kmax bins vary in every trial (the "
            "regression of A_(t+k) on A_t needs a non-zero variance of A_t); lower kmax",
            "zero variance at some lag",
        )

    k = np.arange(1, kmax + 1, dtype=np.float64)
    b, m, ok = fit_exponential(k, r)
    boot_m, boot_r = _bootstrap(lambda w: pooled_slopes(sums, per, w), nb, n_boot, rng, k)
    return BranchingRatioResult(
        m=m,
        m_stderr=_std(boot_m),
        b=b,
        method="mr",
        kmax=kmax,
        k=k.astype(np.int64),
        r_k=r,
        r_k_stderr=_std(boot_r) if boot_r.size else np.full(kmax, np.nan),
        tau=_tau(m, dt),
        success=ok,
        **common,
    )


def pooled_slopes(sums: LagSums, per: FloatArray | None, w: FloatArray | None) -> FloatArray:
    """r_k: the mean of per-trial slopes ``per``, or the slope of pooled block sums.

    ``w`` holds bootstrap multiplicities of the trials or blocks (None: all once).
    """
    if per is not None:
        out: FloatArray = per.mean(axis=0) if w is None else (w @ per) / w.sum()
        return out
    ws = np.ones(sums.n.shape[0]) if w is None else w
    return slopes(*(ws @ a for a in (sums.n, sums.front, sums.back, sums.front_sq, sums.cross)))


def _tau(m: float, dt: float) -> float:
    """-dt / ln m: 0 at m = 0, inf at m = 1, negative above."""
    if m <= 0.0:
        return 0.0
    return float("inf") if m == 1.0 else float(-dt / np.log(m))


def _std(a: FloatArray) -> Any:
    if a.shape[0] < 2:
        return float("nan") if a.ndim == 1 else np.full(a.shape[1:], np.nan)
    out = np.std(a, axis=0, ddof=1)
    return float(out) if a.ndim == 1 else out


def _bootstrap(
    stat: Any,
    nb: int,
    n_boot: int,
    rng: np.random.Generator,
    k: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    ms, rs = np.empty(n_boot), np.empty((n_boot, k.size))
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, nb, nb), minlength=nb).astype(np.float64)
        rs[i] = stat(w)
        ms[i] = fit_exponential(k, rs[i])[1]
    return ms, rs
