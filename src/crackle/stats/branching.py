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
from crackle._validation import (
    check_1d,
    check_choice,
    check_int,
    check_real,
    param_error,
    real_array,
)
from crackle.stats._branching_naive import naive_ratio
from crackle.stats._lagsums import lag_sums
from crackle.stats._mr_checks import (
    autocorrelation_time,
    block_bootstrap,
    consistency_checks,
    pooled_slopes,
    spread,
)
from crackle.stats._mrfits import complex_vector, model, run_fit

__all__ = ["BranchingRatioResult", "branching_ratio"]

FloatArray = NDArray[np.float64]
_FUNC = "branching_ratio"
_SHAPES = "a 1-D array, a 2-D array of shape (n_trials, T) or a list of 1-D arrays"
COEFFICIENTS = ("ts", "sm")
FITS = ("exp", "exp_offset", "complex")


def _none_if_nan(v: float) -> float | None:
    return v if np.isfinite(v) else None


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """A dict of numbers (and nested dicts of numbers) with NaN and inf as None."""
    return {
        key: _clean(v) if isinstance(v, dict) else _none_if_nan(float(v)) for key, v in d.items()
    }


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
        searched, (0, 1.5] (for ``fit="complex"``: tau on a bound of its range),
        e.g. for r_k that do not decay (always True for naive).
    coefficients : {"ts", "sm"}
        Trial-separated or stationary-mean coefficients (MR).
    fit : {"exp", "exp_offset", "complex"}
        The model fitted to r_k (``"naive"`` for the naive estimator).
    offset : float
        The constant c of ``exp_offset`` and ``complex`` (0 for ``exp``).
    params : dict
        Every parameter of the fitted model, by name (``fitted`` evaluates it).
    valid : bool
        False when a consistency check failed; ``reasons`` says which (MR only).
    reasons : tuple of str
        One sentence per failed check: amplitude ~0, no decay to fit, oscillation,
        the fits disagree, tau outside the fitted lag range.
    alternatives : dict
        The other fits of the same r_k, by name: m, tau and the residual sum of
        squares of each (``exp`` and ``exp_offset`` always, ``complex`` when fitted).
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
    coefficients: str = "ts"
    fit: str = "exp"
    offset: float = 0.0
    params: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    valid: bool = True
    reasons: tuple[str, ...] = ()
    alternatives: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def reason_names(self) -> tuple[str, ...]:
        """The failed checks by name ("amplitude ~0", "no decay to fit", ...): each
        sentence of ``reasons`` up to its colon."""
        return tuple(r.split(":")[0] for r in self.reasons)

    def fitted(self, k: ArrayLike | None = None) -> FloatArray:
        """The fitted curve at lags ``k`` (default the fitted lags).

        b m^k (+ c, or the complex model) for MR; m^k for the naive estimator.
        """
        kk = np.asarray(self.k if k is None else k, dtype=np.float64)
        if self.method == "naive":
            return np.asarray(self.m**kk)
        params = self.params or {"b": self.b, "m": self.m}
        return model(self.fit, params, kk)

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
            "coefficients": self.coefficients,
            "fit": self.fit,
            "offset": _none_if_nan(self.offset),
            "params": _clean(self.params),
            "valid": self.valid,
            "reasons": list(self.reasons),
            "alternatives": {name: _clean(alt) for name, alt in self.alternatives.items()},
        }

    def _repr_html_(self) -> str:
        """m ± its error and the estimator's checks (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("m", None, "m_stderr", None),
            ("tau", "autocorrelation time −dt/ln m (time bins)", None, None),
            ("method", "method", None, None),
            ("fit", "fitted function", None, None),
            ("kmax", "largest lag k_max", None, None),
            ("n_trials", "trials", None, None),
            ("n_steps", "time bins per trial", None, None),
            ("valid", "consistency checks passed", None, None),
            "seed",
        ]
        note = "; ".join(self.reasons)
        return repr_html(self, f"branching ratio ({self.method.upper()})", fields, note=note)

    def plot(self, ax: Any = None) -> Any:
        """r_k against the lag k with the fitted b m^k and the alternatives (log scale
        on r_k when every value is positive); returns the Axes (default: a new pyplot
        figure with constrained layout)."""
        from crackle.report.figures import plot_branching_ratio

        kk = np.linspace(1, max(self.kmax, 2), 200)
        curves = [(f"{self.fit} fit, m = {self.m:.4f}", kk, self.fitted(kk))]
        for name, alt in self.alternatives.items():
            if alt.get("params"):
                curves.append((f"{name}, m = {alt['m']:.4f}", kk, model(name, alt["params"], kk)))
        title = "multistep regression: $r_k = b\\,m^k$"
        if not self.valid:
            title = "not valid: " + "; ".join(self.reason_names)
        return plot_branching_ratio(
            self.k,
            self.r_k,
            self.r_k_stderr,
            curves,
            log=bool((self.r_k > 0).all() and (curves[0][2] > 0).all()),
            title=title,
            ax=ax,
        )


def _as_trials(counts: Any, nonnegative: bool = True) -> list[FloatArray]:
    """A list of 1-D float arrays (one per trial), validated."""
    if isinstance(counts, list | tuple) and counts and all(np.ndim(c) == 1 for c in counts):
        rows: list[Any] = list(counts)
    else:
        arr = np.asarray(real_array(counts, "counts", _FUNC, _SHAPES), np.float64)
        if arr.ndim not in (1, 2):
            raise param_error("counts", _FUNC, _SHAPES, f"shape {arr.shape}")
        rows = [arr] if arr.ndim == 1 else list(arr)
    if not rows:
        raise param_error("counts", _FUNC, _SHAPES, "no trials")
    one = len(rows) == 1
    # check_1d refuses NaN, inf (and negative values where asked) naming the trial.
    out = [
        check_1d(row, "counts" if one else f"counts[{i}]", _FUNC, nonnegative=nonnegative)
        for i, row in enumerate(rows)
    ]
    big = max(float(np.abs(t).max()) if t.size else 0.0 for t in out)
    if big > 1e150:
        raise param_error(
            "counts",
            _FUNC,
            "below 1e150 in magnitude (products A_t A_{t+k} must fit in float64); rescale "
            "them: m does not depend on the scale",
            f"values up to {big:g}",
        )
    return out


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
    coefficients: str = "ts",
    fit: str = "exp",
    kmax: int | None = None,
    dt: float = 1.0,
    n_boot: int = 100,
    n_blocks: int | None = None,
    seed: SeedLike = 0,
) -> BranchingRatioResult:
    """Branching ratio m of binned activity A_t, naive or by multistep regression.

    ``"naive"``: m = (1/|P|) sum over P of A_{t+1} / A_t, with P every pair of
    consecutive bins inside a trial whose first bin is active (A_t > 0; bins with
    A_t = 0 are counted in ``n_zero``). Under drive E[A_{t+1} / A_t] = m + h E[1/A_t],
    and under subsampling the ratio no longer estimates m at all. It needs counts.

    ``"mr"`` (Wilting & Priesemann 2018; coefficients and fits named as in the
    ``mrestimator`` package, Spitzner et al. 2021): r_k, the slope of the linear
    regression of A_{t+k} on A_t, for k = 1..kmax, then a fit of r_k.

    * ``coefficients="ts"`` (trial-separated): in each trial the slope over the pairs
      t = 0..T-k-1, r_k = Cov(A_t, A_{t+k}) / Var(A_t) with the trial's own means
      (population moments over those pairs), averaged over trials with equal weights.
      Each trial's own mean biases r_k downwards on short trials.
    * ``coefficients="sm"`` (stationary mean): the same slope with the moments pooled
      over the pairs of all trials (means over all trials), unbiased on short trials
      of a process that is stationary across trials. With one trial, "ts" = "sm".
    * ``fit="exp"``: r_k = b m^k; ``"exp_offset"``: r_k = b m^k + c; ``"complex"``:
      b m^k plus an oscillation, a Gaussian peak and an offset (see
      ``docs/branching.md``). Unweighted least squares. Subsampling lowers b, not m.

    Consistency checks (MR) set ``valid = False`` and say why in ``reasons``: the
    fitted decay over the lags, b (m - m^kmax), within 3 standard errors of r_1 of 0
    (amplitude ~0); no
    decay to fit (m >= 1, a minimum on the edge of the range searched, or a fit that
    explains less than half of the variance of r_k); r_k dipping below zero by more
    than z standard errors, z = max(3, the 1 % Bonferroni bound over kmax lags), and
    by more than |r_1| / 10 (oscillation the exponential cannot follow); the
    exponential and offset (and complex) fits giving tau more than 20 % apart (and
    more than 2 bootstrap standard deviations of their difference); tau outside the
    fitted lags [1, kmax]. The standard error of r_1 is the bootstrap's where
    ``n_boot`` >= 2, else 1 / sqrt(number of lag-1 pairs) (white noise).

    Uncertainty: ``n_boot`` bootstrap replicas, each refitted. With several trials,
    trials are resampled with replacement. With one trial it is cut into
    ``n_blocks`` contiguous blocks of pair origins (pairs reach into the next block,
    so pooling all blocks gives exactly the full-series r_k); blocks are resampled
    and their sums pooled. Blocks should be much longer than tau; a series too short
    for two blocks of more than kmax + 1 origins gets no error bars. A complex fit is
    refitted in each replica from the full-data optimum only.

    Parameters
    ----------
    counts : array_like
        Activity: shape (T,) for one trial, (n_trials, T) for trials of equal length,
        or a list of 1-D arrays for trials of unequal length. MR takes any real-valued
        activity (counts, rates, multi-unit activity, LFP, calcium traces; negative
        values included); the naive ratio needs non-negative counts. NaN and inf are
        refused. A raster of units x bins is not trials: sum it over units first.
    method : {"mr", "naive"}
        The estimator.
    coefficients : {"ts", "sm"}
        MR coefficients: trial-separated or stationary mean.
    fit : {"exp", "exp_offset", "complex"}
        MR fit function.
    kmax : int, optional
        Largest lag for MR; default min(T_min // 10, 1000) with T_min the shortest
        trial. Every trial must be longer than 2 kmax. Choose several times tau.
    dt : float
        Bin width, for tau.
    n_boot : int
        Bootstrap replicas (0: no error bars).
    n_blocks : int, optional
        Blocks for the bootstrap of a single trial (default: 20, or as many as the
        series holds, each at least kmax + 1 bins long). A number the series cannot
        hold is an error naming the most it can.
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
    >>> bool(abs(est.m - 0.95) < 0.01), bool(est.b < 0.5), est.valid
    (True, True, True)
    >>> round(ck.branching_ratio(run.observed, method="naive").m, 2)  # badly biased
    1.26
    >>> import numpy as np
    >>> noise = np.random.default_rng(0).poisson(5.0, 50_000)  # no branching at all
    >>> ck.branching_ratio(noise, kmax=60, n_boot=20).valid
    False
    """
    method = check_choice(method, "method", _FUNC, ("mr", "naive"))
    coefficients = check_choice(coefficients, "coefficients", _FUNC, COEFFICIENTS)
    fit = check_choice(fit, "fit", _FUNC, FITS)
    trials = _as_trials(counts, nonnegative=method == "naive")
    lengths = [t.size for t in trials]
    dt = check_real(dt, "dt", _FUNC, low=0.0, low_open=True, high=1e100)
    n_boot = check_int(n_boot, "n_boot", _FUNC, low=0)
    asked = None if n_blocks is None else check_int(n_blocks, "n_blocks", _FUNC, low=2)
    n_blocks = 20 if asked is None else asked
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
    if asked is not None and len(lengths) == 1 and nb < asked:
        raise param_error(
            "n_blocks",
            _FUNC,
            f"at most {nb} for this series ({lengths[0]} bins, blocks of at least "
            f"kmax + 1 = {kmax + 1}); leave it out to use as many as fit",
            asked,
        )
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
            m_stderr=spread(boot),
            b=float("nan"),
            method="naive",
            kmax=1,
            k=np.array([1], dtype=np.int64),
            r_k=np.array([m_naive]),
            r_k_stderr=np.array([spread(boot)]),
            tau=autocorrelation_time(m_naive, dt),
            n_zero=n_zero,
            coefficients=coefficients,
            fit="naive",
            params={"m": m_naive},
            **common,
        )

    separated = coefficients == "ts" and len(trials) > 1
    if separated:
        const = [i for i, t in enumerate(trials) if np.ptp(t[: t.size - 1]) == 0]
        if const:
            raise param_error(
                "counts",
                _FUNC,
                "a series that varies in every trial (a constant trial has no "
                "trial-separated regression slope); drop constant trials or use "
                "coefficients='sm'",
                f"{len(const)} constant trial(s), the first is trial {const[0]}",
            )
        # Centre each trial on its own mean: r_k does not change, cancellation goes away.
        x = flat - np.repeat([t.mean() for t in trials], lengths)
    else:
        if np.ptp(flat) == 0:
            raise param_error(
                "counts",
                _FUNC,
                "a series that varies (a constant series has no regression slope)",
                "a constant series",
            )
        # Pooled moments are invariant under a common shift only: centre on the grand mean.
        x = flat - flat.mean()
    sums = lag_sums(x, starts, stops, ends, kmax)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = sums.slopes() if separated else None
        r = pooled_slopes(sums, per, None)
    if not np.isfinite(r).all():
        raise param_error(
            "counts",
            _FUNC,
            "a series whose first T - kmax bins vary (the regression of A_(t+k) on "
            "A_t needs a non-zero variance of A_t); lower kmax",
            "zero variance at some lag",
        )

    k = np.arange(1, kmax + 1, dtype=np.float64)
    fits = {name: run_fit(name, k, r) for name in dict.fromkeys(("exp", "exp_offset", fit))}
    best = fits[fit]
    start = complex_vector(best) if fit == "complex" else None
    reps = block_bootstrap(
        lambda w: pooled_slopes(sums, per, w), nb, n_boot, rng, k, list(fits), fit, start
    )
    r_se = spread(reps["r"]) if reps["r"].size else np.full(kmax, np.nan)
    pairs_lag1 = float(sums.n[:, 0].sum())
    se1 = float(r_se[0]) if np.isfinite(r_se[0]) else 1.0 / np.sqrt(pairs_lag1)
    reasons = consistency_checks(fits, fit, k, r, se1, r_se, reps, dt)
    alternatives = {
        name: {
            "m": f.m,
            "tau": autocorrelation_time(f.m, dt),
            "sse": f.sse,
            "params": dict(f.params),
        }
        for name, f in fits.items()
        if name != fit
    }
    return BranchingRatioResult(
        m=best.m,
        m_stderr=spread(reps[fit]),
        b=best.b,
        method="mr",
        kmax=kmax,
        k=k.astype(np.int64),
        r_k=r,
        r_k_stderr=r_se,
        tau=autocorrelation_time(best.m, dt),
        success=best.success,
        coefficients=coefficients,
        fit=fit,
        offset=best.offset,
        params=dict(best.params),
        valid=not reasons,
        reasons=tuple(reasons),
        alternatives=alternatives,
        **common,
    )
