"""The statistics of :mod:`crackle.experiments.zoo`: rank correlations with bootstrap
intervals, partial rank correlations, the historical question, robustness pairs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from crackle.experiments.zoo import ZooConfig


def json_safe(obj: Any) -> Any:
    """Nested data with NaN and infinities as None, numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _rank(a: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.stats import rankdata

    return np.asarray(rankdata(a), dtype=float)


def _resid(r: NDArray[np.float64], design: NDArray[np.float64]) -> NDArray[np.float64]:
    coef, *_ = np.linalg.lstsq(design, r, rcond=None)
    return np.asarray(r - design @ coef, dtype=float)


def partial_spearman(
    x: NDArray[np.float64], y: NDArray[np.float64], design: NDArray[np.float64] | None
) -> float:
    """Pearson correlation of the ranks of x and y after a least-squares fit of each on
    ``design`` (columns: an intercept, covariates' ranks, dummies); plain Spearman rho
    for ``design`` None."""
    rx, ry = _rank(x), _rank(y)
    if design is not None:
        rx, ry = _resid(rx, design), _resid(ry, design)
    else:
        rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry / den) if den > 0 else math.nan


def _design(
    log_params: NDArray[np.float64] | None, family: NDArray[Any] | None
) -> NDArray[np.float64] | None:
    cols = [np.ones(len(log_params if log_params is not None else family))]  # type: ignore[arg-type]
    if log_params is not None:
        cols.append(_rank(log_params))
    if family is not None:
        levels = sorted(set(family.tolist()))
        cols += [(family == lv).astype(float) for lv in levels[1:]]
    return np.column_stack(cols)


def bootstrap(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    log_params: NDArray[np.float64] | None,
    family: NDArray[Any] | None,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """The (partial) rank correlation and its percentile 95 % bootstrap interval over
    models (resampled with replacement; resamples where it is undefined are dropped)."""
    n = x.size
    est = partial_spearman(
        x, y, None if log_params is None and family is None else _design(log_params, family)
    )
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        fam = None if family is None else family[i]
        lp = None if log_params is None else log_params[i]
        d = None if lp is None and fam is None else _design(lp, fam)
        v = partial_spearman(x[i], y[i], d)
        if math.isfinite(v):
            vals.append(v)
    if len(vals) < n_boot // 2:
        return est, math.nan, math.nan
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return est, float(lo), float(hi)


def analyse(
    df: Any, cfg: ZooConfig
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any], tuple[dict[str, Any], ...], tuple[str, ...]]:
    from crackle.experiments.zoo import METRICS

    rng = np.random.default_rng(cfg.data_seed)
    notes: list[str] = []
    plain = df[~df["penalty"].astype(bool)]
    acc = plain["test_accuracy"].to_numpy(dtype=float)
    logp = np.log(plain["n_params"].to_numpy(dtype=float))
    fam = plain["family"].to_numpy()
    corr: list[dict[str, Any]] = []
    for col, label in METRICS:
        m = plain[col].to_numpy(dtype=float)
        ok = np.isfinite(m) & np.isfinite(acc)
        row: dict[str, Any] = {"metric": col, "label": label, "n": int(ok.sum())}
        if ok.sum() < len(m):
            notes.append(
                f"{col}: {len(m) - int(ok.sum())} model(s) without a finite value left out"
            )
        if ok.sum() >= 5 and np.ptp(m[ok]) > 0:
            for key, lp, fm in (
                ("spearman", None, None),
                ("partial_params", logp[ok], None),
                ("partial_family", logp[ok], fam[ok]),
            ):
                est, lo, hi = bootstrap(acc[ok], m[ok], lp, fm, cfg.n_boot, rng)
                row[key], row[f"{key}_lo"], row[f"{key}_hi"] = est, lo, hi
        else:
            notes.append(f"{col}: fewer than 5 finite, non-constant values; no correlation")
        corr.append(row)
    years = plain["year"].to_numpy(dtype=float)
    history: dict[str, Any] = {"year_spearman": {}}
    for col in ("test_accuracy", *(c for c, _ in METRICS)):
        m = plain[col].to_numpy(dtype=float)
        ok = np.isfinite(m)
        if ok.sum() >= 5 and np.ptp(m[ok]) > 0 and np.ptp(years[ok]) > 0:
            est, lo, hi = bootstrap(years[ok], m[ok], None, None, cfg.n_boot, rng)
            history["year_spearman"][col] = {"rho": est, "lo": lo, "hi": hi, "n": int(ok.sum())}
    agg = plain.groupby("family").agg(
        year=("year", "first"),
        models=("name", "count"),
        test_accuracy=("test_accuracy", "mean"),
        branching=("branching", "mean"),
        lyapunov=("lyapunov", "mean"),
        dist_lyapunov=("dist_lyapunov", "mean"),
        dist_log_sigma=("dist_log_sigma", "mean"),
        dynamic_range_db=("dynamic_range_db", "mean"),
        dynamic_range_defined=("dynamic_range_db", lambda s: int(np.isfinite(s).sum())),
        n_params=("n_params", "median"),
    )
    history["families"] = agg.sort_values("year").reset_index().to_dict(orient="records")
    robust: list[dict[str, Any]] = []
    pen = df[df["penalty"].astype(bool)]
    pairs = []
    for _, r in pen.iterrows():
        twin = plain[
            (plain["family"] == r["family"])
            & (plain["variant"] == r["variant"])
            & (plain["seed"] == r["seed"])
        ]
        if len(twin) == 1:
            pairs.append((r, twin.iloc[0]))
    if pairs:
        cols = ["test_accuracy", *[f"acc_noise_{s:g}" for s in cfg.noise], "dist_lyapunov"]
        for col in cols:
            d = np.array([float(a[col]) - float(b[col]) for a, b in pairs])
            d = d[np.isfinite(d)]
            if d.size == 0:
                continue
            boots = [d[rng.integers(0, d.size, d.size)].mean() for _ in range(cfg.n_boot)]
            lo, hi = np.percentile(boots, [2.5, 97.5])
            robust.append(
                {
                    "column": col,
                    "n_pairs": int(d.size),
                    "mean_difference": float(d.mean()),
                    "lo": float(lo),
                    "hi": float(hi),
                    "plain_mean": float(np.mean([float(b[col]) for _, b in pairs])),
                    "penalty_mean": float(np.mean([float(a[col]) for a, _ in pairs])),
                }
            )
    else:
        notes.append("no penalised model with a plain twin: no robustness comparison")
    return tuple(corr), history, tuple(robust), tuple(notes)
