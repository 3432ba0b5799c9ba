"""Densities in logarithmic bins, for log-log plots (``crackle.report``) and the
straightness of a distribution (``crackle.stats.finite_size``).

Shared by the statistics and the report stages, so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_1d, check_int, param_error

__all__ = ["LogBinnedDensity", "log_binned_density"]


@dataclass(frozen=True)
class LogBinnedDensity:
    """A probability density estimated in logarithmic bins.

    ``centres`` are geometric bin centres, ``density`` the fraction of the values in a
    bin divided by its width (for discrete data, by the number of integers it holds),
    ``counts`` the raw counts. Only bins with at least ``min_count`` values are kept.
    """

    centres: NDArray[np.float64]
    density: NDArray[np.float64]
    counts: NDArray[np.int64]
    edges: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k).tolist() for k in ("centres", "density", "counts", "edges")}


def log_binned_density(
    x: ArrayLike,
    *,
    bins_per_decade: int = 10,
    min_count: int = 10,
    discrete: bool = False,
) -> LogBinnedDensity:
    """Density of positive values in logarithmic bins, for log-log plots and straightness.

    Parameters
    ----------
    x : array_like of shape (n,)
        Positive values (sizes or durations).
    bins_per_decade : int
        Logarithmic bins per decade.
    min_count : int
        Bins with fewer values are dropped (their density is mostly noise).
    discrete : bool
        Integer data: bin edges at half-integers and densities per integer, so a
        discrete power law gives a straight line down to x = 1.

    Examples
    --------
    >>> import numpy as np
    >>> d = log_binned_density(np.arange(1, 1001), bins_per_decade=5, discrete=True)
    >>> bool(np.allclose(d.density, 1e-3))
    True
    """
    func = "log_binned_density"
    v = check_1d(x, "x", func, positive=True, min_size=2)
    bpd = check_int(bins_per_decade, "bins_per_decade", func, low=1)
    mc = check_int(min_count, "min_count", func, low=1)
    lo, hi = float(v.min()), float(v.max())
    if discrete:
        if not np.all(v == np.round(v)):
            raise param_error("x", func, "integers when discrete=True", "non-integer values")
        first = max(lo - 0.5, 0.5)
        n_bins = max(int(np.ceil(np.log10((hi + 0.5) / first) * bpd)), 1)
        raw = np.geomspace(first, hi + 0.5, n_bins + 1)
        edges = np.unique(np.floor(raw) + 0.5)
        if edges.size < 2:
            edges = np.array([lo - 0.5, hi + 0.5])
        widths = np.diff(np.floor(edges))  # integers inside each bin
    else:
        n_bins = max(int(np.ceil(np.log10(hi / lo) * bpd)), 1)
        edges = np.geomspace(lo, hi * (1 + 1e-12), n_bins + 1)
        widths = np.diff(edges)
    counts, _ = np.histogram(v, bins=edges)
    keep = counts >= mc
    if discrete:  # the geometric mean of the first and last integer in the bin
        centres = np.sqrt(np.ceil(edges[:-1]) * np.floor(edges[1:]))
    else:
        centres = np.sqrt(edges[:-1] * edges[1:])
    return LogBinnedDensity(
        centres[keep],
        counts[keep] / (v.size * widths[keep]),
        counts[keep].astype(np.int64),
        edges,
    )
