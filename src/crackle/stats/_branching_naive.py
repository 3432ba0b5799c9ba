"""The naive branching ratio, m = <A_{t+1} / A_t> over active bins, with its bootstrap."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from crackle._validation import param_error

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def naive_ratio(
    flat: FloatArray, starts: IntArray, stops: IntArray, n_boot: int, rng: np.random.Generator
) -> tuple[float, FloatArray, int]:
    """Mean ratio A_{t+1} / A_t over pair origins t with A_t > 0.

    Pair origins are the union of the segments [starts, stops) of the flat activity
    (bins with a successor in the same trial). Bootstrap replicas resample the
    segments (trials or blocks) with replacement and pool their sums. Returns the
    estimate, the replicas (shape (n_boot,)) and the number of origins with A_t = 0.
    """
    cover = np.zeros(flat.size + 1, dtype=np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, stops, -1)
    origin = np.cumsum(cover[:-1]) > 0
    active = origin & (flat > 0)
    n_zero = int((origin & (flat == 0)).sum())
    if not active.any():
        raise param_error(
            "counts",
            "branching_ratio",
            "active (A_t > 0) in at least one bin with a successor",
            "no active bin",
        )
    ratio = np.zeros(flat.size)
    idx = np.flatnonzero(active)
    with np.errstate(over="ignore"):
        ratio[idx] = flat[idx + 1] / flat[idx]
        total = ratio.sum()
    if not np.isfinite(total):
        raise param_error(
            "counts",
            "branching_ratio",
            "counts whose ratios A_{t+1}/A_t and their sum stay finite (a tiny positive "
            "count before a large one overflows); rescale or round the counts",
            "ratios that overflow float64",
        )
    seg = np.searchsorted(starts, np.arange(flat.size), side="right") - 1
    nb = starts.size
    num = np.bincount(seg, weights=ratio, minlength=nb)
    den = np.bincount(seg, weights=active.astype(np.float64), minlength=nb)
    m = float(num.sum() / den.sum())
    boot = np.empty(n_boot)
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, nb, nb), minlength=nb).astype(np.float64)
        boot[i] = float(w @ num) / max(float(w @ den), 1.0)
    return m, boot, n_zero
