"""Spearman rank correlations with bootstrap confidence intervals over cells and
replicates: how well does a predictor rank the cells of a grid whose response was
measured several times per cell?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_int, check_real, param_error

__all__ = ["RankCI", "paired_rank_difference", "rank_bootstrap", "spearman_rows"]

_FUNC = "rank_bootstrap"


@dataclass(frozen=True)
class RankCI:
    """Spearman's rho of the response against one predictor (or a difference of two).

    ``rho`` is the point estimate on the per-cell means, ``low``/``high`` the percentile
    bootstrap interval at ``confidence``, ``p`` the two-sided p-value of the point
    estimate (scipy's t approximation; NaN for a difference), ``n`` the cells used and
    ``degenerate`` the fraction of bootstrap draws in which one side was constant (left
    out of the interval).
    """

    rho: float
    low: float
    high: float
    p: float
    n: int
    confidence: float
    degenerate: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (NaN stays a float; crackle's JSON writer nulls it)."""
        return dict(self.__dict__)


def spearman_rows(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Spearman's rho of each row of ``x`` (shape (m, n)) against the same row of ``y``.

    Ties get average ranks; a row in which either side is constant gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> spearman_rows(np.array([[1.0, 2, 3], [1, 1, 1]]), np.array([[3.0, 5, 9], [1, 2, 3]]))
    array([ 1., nan])
    """
    from scipy import stats

    rx = stats.rankdata(x, axis=1)
    ry = stats.rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    num = (rx * ry).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(den > 1e-12 * rx.shape[1] ** 3, num / den, np.nan)
    return np.asarray(np.clip(rho, -1.0, 1.0))


def _response(y: ArrayLike, func: str) -> NDArray[np.float64]:
    arr = np.asarray(y, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise param_error("response", func, "of shape (n_cells,) or (n_cells, n_replicates)",
                          f"shape {arr.shape}")  # fmt: skip
    if not np.isfinite(arr).all():
        raise param_error("response", func, "finite (no NaN or inf)", "non-finite values")
    return arr


def _draws(
    resp: NDArray[np.float64], preds: NDArray[np.float64], n_boot: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Bootstrap rho draws, shape (n_boot, k), for the k columns of ``preds``: cells
    resampled with replacement, and the replicates of each drawn cell resampled with
    replacement before averaging (a two-stage bootstrap)."""
    n, r = resp.shape
    cells = rng.integers(0, n, size=(n_boot, n))
    reps = rng.integers(0, r, size=(n_boot, n, r))
    means = np.take_along_axis(resp[cells], reps, axis=2).mean(axis=2)
    return np.column_stack([spearman_rows(means, preds[cells, c]) for c in range(preds.shape[1])])


def _ci(rho: float, p: float, draws: NDArray[np.float64], n: int, confidence: float) -> RankCI:
    ok = np.isfinite(draws)
    if not ok.any():
        return RankCI(rho, float("nan"), float("nan"), p, n, confidence, 1.0)
    a = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(draws[ok], [a, 1.0 - a])
    return RankCI(rho, float(lo), float(hi), p, n, confidence, float(1.0 - ok.mean()))


def _point(resp: NDArray[np.float64], pred: NDArray[np.float64]) -> tuple[float, float]:
    from scipy import stats

    m = resp.mean(axis=1)
    if m.size < 3 or np.ptp(m) == 0 or np.unique(pred).size < 2:
        return float("nan"), float("nan")
    res = stats.spearmanr(m, pred)
    return float(res.statistic), float(res.pvalue)


def _check(n_boot: int, confidence: float, func: str) -> tuple[int, float]:
    nb = check_int(n_boot, "n_boot", func, low=1, high=10**6)
    cf = check_real(confidence, "confidence", func, low=0.0, high=1.0, low_open=True,
                    high_open=True)  # fmt: skip
    return nb, cf


def rank_bootstrap(
    response: ArrayLike,
    predictors: Mapping[str, ArrayLike],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> dict[str, RankCI]:
    """Spearman's rho of a per-cell response against each predictor, with a bootstrap
    confidence interval over cells and replicates.

    Parameters
    ----------
    response : array_like of shape (n_cells,) or (n_cells, n_replicates)
        The measured response (e.g. training accuracy), one row per cell, one column per
        replicate (seed); finite.
    predictors : dict of str to array_like of shape (n_cells,)
        Each predictor's value per cell; NaN leaves that cell out of that predictor's
        correlation; +inf and -inf rank above and below every finite value (a
        susceptibility that diverges at the critical point is the largest there).
    n_boot : int
        Bootstrap draws.
    confidence : float
        Coverage of the percentile interval, in (0, 1).
    seed : int, numpy Generator or None
        Randomness of the resampling.

    Returns
    -------
    dict of str to RankCI
        Per predictor: rho of the replicate means against it, the interval, the
        p-value and the cells used. Each draw resamples the cells with replacement and,
        within each drawn cell, its replicates with replacement (two-stage bootstrap), so
        the interval carries both the spread over the grid and the seed-to-seed noise.

    References
    ----------
    Efron & Tibshirani, "An Introduction to the Bootstrap" (1993), ch. 13 (percentile
    intervals); Davison & Hinkley, "Bootstrap Methods and their Application" (1997),
    sec. 3.8 (two-stage resampling of hierarchical data).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20.0)
    >>> out = rank_bootstrap(np.column_stack([x, x]), {"x": x, "minus x": -x}, seed=0)
    >>> out["x"].rho, out["x"].low, out["minus x"].high
    (1.0, 1.0, -1.0)
    """
    nb, cf = _check(n_boot, confidence, _FUNC)
    resp = _response(response, _FUNC)
    if not isinstance(predictors, Mapping) or not predictors:
        raise param_error("predictors", _FUNC, "a non-empty dict of name -> values", predictors)
    rng = np.random.default_rng(seed)
    out: dict[str, RankCI] = {}
    for name, values in predictors.items():
        pred = np.asarray(values, dtype=float)
        if pred.shape != (resp.shape[0],):
            raise param_error("predictors", _FUNC, f"arrays of shape ({resp.shape[0]},)",
                              f"{name!r} of shape {pred.shape}")  # fmt: skip
        ok = ~np.isnan(pred)
        n = int(ok.sum())
        if n < 3:
            nan = float("nan")
            out[name] = RankCI(nan, nan, nan, nan, n, cf, 1.0)
            continue
        rho, p = _point(resp[ok], pred[ok])
        draws = _draws(resp[ok], pred[ok][:, None], nb, rng)[:, 0]
        out[name] = _ci(rho, p, draws, n, cf)
    return out


def paired_rank_difference(
    response: ArrayLike,
    first: ArrayLike,
    second: ArrayLike,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> RankCI:
    """rho(response, first) - rho(response, second) on the same bootstrap draws.

    Parameters
    ----------
    response : array_like of shape (n_cells,) or (n_cells, n_replicates)
        As in :func:`rank_bootstrap`.
    first, second : array_like of shape (n_cells,)
        Two predictors; cells where either is NaN are left out of both (inf ranks as
        in :func:`rank_bootstrap`).
    n_boot, confidence, seed
        As in :func:`rank_bootstrap`.

    Returns
    -------
    RankCI
        The difference and its paired percentile interval (an interval that excludes 0
        says one predictor ranks the cells better than the other); ``p`` is NaN.

    References
    ----------
    Efron & Tibshirani (1993), ch. 13.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(30.0)
    >>> d = paired_rank_difference(x, x, np.sin(x), seed=0)
    >>> d.low > 0
    True
    """
    func = "paired_rank_difference"
    nb, cf = _check(n_boot, confidence, func)
    resp = _response(response, func)
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    for name, arr in (("first", a), ("second", b)):
        if arr.shape != (resp.shape[0],):
            raise param_error(name, func, f"of shape ({resp.shape[0]},)", f"shape {arr.shape}")
    ok = ~np.isnan(a) & ~np.isnan(b)
    n = int(ok.sum())
    if n < 3:
        return RankCI(float("nan"), float("nan"), float("nan"), float("nan"), n, cf, 1.0)
    rng = np.random.default_rng(seed)
    d = _draws(resp[ok], np.column_stack([a[ok], b[ok]]), nb, rng)
    rho = _point(resp[ok], a[ok])[0] - _point(resp[ok], b[ok])[0]
    return _ci(rho, float("nan"), d[:, 0] - d[:, 1], n, cf)
