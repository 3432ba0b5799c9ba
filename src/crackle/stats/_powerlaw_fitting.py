"""The xmin procedure behind :func:`crackle.stats.fit_power_law` (private).

Chooses the candidate xmin values (every admissible distinct value; a documented subset
for continuous data with very many), fits all of them at once and keeps the one with
the smallest KS distance. Works on sorted, validated data already cut at xmax.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crackle._validation import param_error
from crackle.stats import _powerlaw_core as core

XminArg = str | float | tuple[float, float]

#: Continuous data with more admissible xmin values than this are scanned on a subset.
MAX_CONTINUOUS_CANDIDATES = 20_000
_FIT = "fit_power_law"


def _candidates(
    prep: core.Prepared, xmin_arg: XminArg, min_tail: int
) -> tuple[core.IntArray, int, str]:
    """Distinct-value indices to try as xmin, the number admissible, and the mode."""
    u = prep.uvals.size
    nt = prep.n - prep.first[:u]
    if isinstance(xmin_arg, tuple):
        lo, hi = xmin_arg
        mode = "range"
    elif isinstance(xmin_arg, str):
        lo, hi = -np.inf, np.inf
        mode = "auto"
    else:
        k = int(np.searchsorted(prep.uvals, float(xmin_arg), side="left"))
        if k > u - 2 or nt[k] < min_tail:
            left = 0 if k >= u else int(nt[k])
            raise param_error(
                "xmin",
                _FIT,
                f"a value that leaves at least min_tail = {min_tail} values, with at "
                "least two distinct ones, at or above it; lower it",
                f"xmin = {xmin_arg!r}, which leaves {left} value(s)",
            )
        return np.array([k], dtype=np.intp), 1, "fixed"
    ks = np.arange(u, dtype=np.intp)
    ok = (nt >= min_tail) & (ks <= u - 2) & (prep.uvals >= lo) & (prep.uvals <= hi)
    cand = ks[ok]
    if cand.size == 0:
        where = "x" if mode == "auto" else "xmin"
        raise param_error(
            where,
            _FIT,
            f"data with at least min_tail = {min_tail} values, two of them distinct, above "
            "some candidate xmin" + ("" if mode == "auto" else " inside the xmin range"),
            f"{prep.n} value(s), {u} distinct",
        )
    total = cand.size
    if not prep.discrete and total > MAX_CONTINUOUS_CANDIDATES:
        half = MAX_CONTINUOUS_CANDIDATES // 2
        lin = cand[np.linspace(0, total - 1, half).round().astype(np.intp)]
        # geometric in tail size: dense where the tail is small
        sizes = np.geomspace(nt[cand[0]], nt[cand[-1]], half)
        pos = np.searchsorted(-nt[cand], -sizes, side="left").clip(0, total - 1)
        cand = np.unique(np.concatenate([lin, cand[pos]]))
    return cand, total, mode


def fit_sorted(
    xs: core.FloatArray,
    discrete: bool,
    xmin_arg: XminArg,
    xmax: float | None,
    min_tail: int,
    sup: bool,
) -> dict[str, Any]:
    """Fit sorted, validated data already cut at xmax; return the numbers."""
    if xs.size == 0 or xs[0] == xs[-1]:
        raise param_error("x", _FIT, "data with at least two distinct values at or below xmax")
    prep = core.prepare(xs, discrete, xmax)
    cand, total, mode = _candidates(prep, xmin_arg, min_tail)
    u = np.array([float(xmin_arg)]) if isinstance(xmin_arg, float) else None
    alpha, sigma, lz, ok = core.fit_candidates(prep, cand, u)
    if u is not None:
        j = 0
        d = core.ks_exact(prep, float(alpha[0]), float(lz[0]), int(cand[0]), sup, float(u[0]))
    else:
        j, d, _ = core.ks_scan(prep, cand, alpha, lz, sup)
    k = int(cand[j])
    n_tail = int(prep.n - prep.first[k])
    a = float(alpha[j])
    loglik = float(-a * prep.slog[k] - n_tail * lz[j])
    success = bool(ok[j]) and bool(np.isfinite(loglik))
    if success:
        msg = "ok"
    elif a >= core.ALPHA_MAX * (1 - 1e-9):
        msg = f"the likelihood still rises at alpha = {core.ALPHA_MAX:g}: the tail is too steep"
    else:
        msg = "the exponent did not converge inside (1, 20]"
    if mode != "fixed" and cand.size < total:
        msg += f"; xmin scanned on {cand.size} of {total} admissible values (subset)"
    return {
        "alpha": a,
        "xmin": float(prep.uvals[k] if u is None else u[0]),
        "sigma": float(sigma[j]),
        "ks": d,
        "n_tail": n_tail,
        "loglik": loglik,
        "success": success,
        "message": msg,
        "mode": mode,
        "candidates": int(cand.size),
    }
