"""Rank correlation tests for few points: Spearman's rho with its exact permutation
p-value, and the rank partial correlation given a third variable."""

from __future__ import annotations

from typing import Any

import numpy as np


def exact_spearman_p(x: Any, y: Any) -> float:
    """Two-sided permutation p-value of Spearman's rho over all orderings of y."""
    import itertools

    from scipy import stats

    rx = stats.rankdata(x) - (len(x) + 1) / 2
    perms = np.array(list(itertools.permutations(stats.rankdata(y))))
    perms -= perms.mean(axis=1, keepdims=True)
    rhos = perms @ rx / (np.linalg.norm(perms, axis=1) * np.linalg.norm(rx))
    return float(np.mean(np.abs(rhos) >= abs(rhos[0]) - 1e-12))


def partial_rank(x: Any, y: Any, z: Any) -> tuple[float, float]:
    """Rank partial correlation of x and y given z, and its p-value (t, n - 3 df)."""
    from scipy import stats

    rz = stats.rankdata(z)
    design = np.column_stack([np.ones_like(rz), rz])
    res = [r - design @ np.linalg.lstsq(design, r, rcond=None)[0]
           for r in (stats.rankdata(x), stats.rankdata(y))]  # fmt: skip
    den = float(np.linalg.norm(res[0]) * np.linalg.norm(res[1]))
    n = len(x)
    if den == 0 or n < 4:
        return float("nan"), float("nan")
    rho = float(np.clip(res[0] @ res[1] / den, -1.0, 1.0))
    if abs(rho) == 1.0:
        return rho, 0.0
    t = rho * np.sqrt((n - 3) / (1 - rho**2))
    return rho, float(2 * stats.t.sf(abs(t), n - 3))
