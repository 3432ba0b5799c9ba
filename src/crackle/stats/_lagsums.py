"""Lagged sums for regression slopes of x_{t+k} on x_t, for every lag k at once.

The activity is one flat array holding all trials one after another. A *segment* is
a range [start, stop) of pair origins t inside one trial; pairs (t, t + k) count only
while t + k is still inside that trial (t + k < trial end). For every segment s and
lag k = 1..kmax the kernel returns the five sufficient statistics of the regression:
the number of pairs, sum x_t, sum x_{t+k}, sum x_t^2 and sum x_t x_{t+k}.

Front and back sums come from prefix sums (gathered with fancy indexing, no loop);
the cross sums need one dot product per (segment, lag), or, when there are many
segments, one product array and one cumulative sum per lag. Callers centre each
trial on its mean first, which keeps the sums free of cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Above this many segments the per-lag cumulative-sum path beats one dot per segment.
_MANY_SEGMENTS = 32


@dataclass(frozen=True)
class LagSums:
    """Sufficient statistics per (segment, lag), each of shape (n_segments, kmax)."""

    n: FloatArray
    front: FloatArray
    back: FloatArray
    front_sq: FloatArray
    cross: FloatArray

    def slopes(self) -> FloatArray:
        """Regression slope of x_{t+k} on x_t in every segment (population moments)."""
        return slopes(self.n, self.front, self.back, self.front_sq, self.cross)


def slopes(
    n: FloatArray, front: FloatArray, back: FloatArray, front_sq: FloatArray, cross: FloatArray
) -> FloatArray:
    """Cov(x_t, x_{t+k}) / Var(x_t) from the sums (arrays of any common shape)."""
    mf = front / n
    cov = cross / n - mf * (back / n)
    var = front_sq / n - mf * mf
    # A segment with Var(x_t) = 0 (constant activity) has no slope: NaN, left to the
    # callers (bootstrap replicates drop it, the estimate refuses it).
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = cov / var
    return out


def lag_sums(
    x: FloatArray, starts: IntArray, stops: IntArray, trial_ends: IntArray, kmax: int
) -> LagSums:
    """The sums of module docstring for segments [starts, stops) of the flat array ``x``.

    ``trial_ends[s]`` is the end (exclusive) of the trial holding segment s. Every
    segment must keep at least one pair at lag kmax.
    """
    k = np.arange(1, kmax + 1)
    # Last origin (exclusive) of a pair at lag k in each segment: shape (S, kmax).
    stop_k = np.minimum(stops[:, None], trial_ends[:, None] - k[None, :])
    start = starts[:, None]
    p1 = np.concatenate([[0.0], np.cumsum(x)])
    p2 = np.concatenate([[0.0], np.cumsum(x * x)])
    n = (stop_k - start).astype(np.float64)
    front = p1[stop_k] - p1[start]
    back = p1[stop_k + k] - p1[start + k]
    front_sq = p2[stop_k] - p2[start]
    cross = _cross(x, starts, stop_k, kmax)
    return LagSums(n, front, back, front_sq, cross)


def _cross(x: FloatArray, starts: IntArray, stop_k: IntArray, kmax: int) -> FloatArray:
    n_seg = starts.size
    out = np.empty((n_seg, kmax))
    if n_seg <= _MANY_SEGMENTS:
        for s in range(n_seg):
            a = int(starts[s])
            for j in range(kmax):
                b = int(stop_k[s, j])
                # einsum, not np.dot: as fast on one core, and never spawns BLAS threads
                # (which crawl on a busy machine).
                out[s, j] = np.einsum("i,i->", x[a:b], x[a + j + 1 : b + j + 1])
        return out
    for j in range(kmax):
        lag = j + 1
        cs = np.concatenate([[0.0], np.cumsum(x[:-lag] * x[lag:])])
        out[:, j] = cs[stop_k[:, j]] - cs[starts]
    return out
