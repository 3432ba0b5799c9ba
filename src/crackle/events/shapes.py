"""Profile sums per duration: the O(T_max^2) state behind shape collapse.

Profiles of every duration T = 1..max_duration are summed into one packed,
triangular array: the sum for duration T occupies ``T`` slots starting at
``T (T - 1) / 2``. Memory depends on the longest duration kept, never on the
number of avalanches, which is what lets millions of avalanches stream through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ShapeSums", "packed_offset"]


def packed_offset(durations: NDArray[np.int64]) -> NDArray[np.int64]:
    """Start of duration T's block in the packed array, T >= 1."""
    d = np.asarray(durations, dtype=np.int64)
    return d * (d - 1) // 2


@dataclass(frozen=True)
class ShapeSums:
    """Summed avalanche profiles per duration.

    Attributes
    ----------
    max_duration : int
        Longest duration whose profiles are kept.
    counts : ndarray of shape (max_duration,)
        ``counts[T - 1]`` is the number of profiles of duration T summed.
    sums : ndarray of shape (max_duration * (max_duration + 1) // 2,)
        Packed profile sums; see :meth:`profile_sum`.
    n_too_long : int
        Complete avalanches longer than ``max_duration``, whose profiles were not kept.
    """

    max_duration: int
    counts: NDArray[np.int64]
    sums: NDArray[np.float64]
    n_too_long: int = 0

    @classmethod
    def empty(cls, max_duration: int) -> ShapeSums:
        m = int(max_duration)
        return cls(m, np.zeros(m, np.int64), np.zeros(m * (m + 1) // 2), 0)

    @classmethod
    def from_flat(
        cls,
        durations: NDArray[np.int64],
        positions: NDArray[np.int64],
        values: NDArray[np.float64],
        event_durations: NDArray[np.int64],
        max_duration: int,
    ) -> ShapeSums:
        """Accumulate profiles given as flat (duration, position, value) entries.

        ``durations``, ``positions`` and ``values`` describe one entry per time step
        of every avalanche (its duration, the step index within it and the
        signal); ``event_durations`` has one duration per avalanche, for the counts.
        Entries of avalanches longer than ``max_duration`` are dropped and counted.
        """
        m = int(max_duration)
        keep = durations <= m
        idx = packed_offset(durations[keep]) + positions[keep]
        sums = np.bincount(idx, weights=values[keep], minlength=m * (m + 1) // 2)
        ev_keep = event_durations <= m
        counts = np.bincount(event_durations[ev_keep] - 1, minlength=m).astype(np.int64)
        return cls(m, counts, sums.astype(np.float64), int((~ev_keep).sum()))

    def resized(self, max_duration: int) -> ShapeSums:
        """The same sums in a larger packed array (profiles are never truncated)."""
        m = int(max_duration)
        if m < self.max_duration:
            raise ValueError("ShapeSums can only grow; pass a max_duration >= the current one")
        if m == self.max_duration:
            return self
        counts = np.zeros(m, np.int64)
        counts[: self.max_duration] = self.counts
        sums = np.zeros(m * (m + 1) // 2)
        sums[: self.sums.size] = self.sums
        return ShapeSums(m, counts, sums, self.n_too_long)

    def merge(self, other: ShapeSums) -> ShapeSums:
        """Sum of two accumulations (the merge rule of the streaming state)."""
        m = max(self.max_duration, other.max_duration)
        a, b = self.resized(m), other.resized(m)
        return ShapeSums(m, a.counts + b.counts, a.sums + b.sums, a.n_too_long + b.n_too_long)

    def profile_sum(self, duration: int) -> NDArray[np.float64]:
        """Sum of the profiles of duration ``duration``, shape (duration,)."""
        t = int(duration)
        if not 1 <= t <= self.max_duration:
            raise ValueError(f"duration must be in [1, {self.max_duration}], got {t}")
        start = t * (t - 1) // 2
        return self.sums[start : start + t].copy()

    def mean_profile(self, duration: int) -> NDArray[np.float64]:
        """Mean profile of the avalanches of duration ``duration`` (NaN if none)."""
        n = self.counts[int(duration) - 1]
        if n == 0:
            return np.full(int(duration), np.nan)
        return self.profile_sum(duration) / n

    def durations_with(self, min_count: int = 1) -> NDArray[np.int64]:
        """Durations with at least ``min_count`` stored profiles."""
        return (np.flatnonzero(self.counts >= min_count) + 1).astype(np.int64)

    def to_arrays(self) -> dict[str, Any]:
        """Arrays for ``numpy.savez`` (see :meth:`from_arrays`)."""
        return {
            "max_duration": np.int64(self.max_duration),
            "counts": self.counts,
            "sums": self.sums,
            "n_too_long": np.int64(self.n_too_long),
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> ShapeSums:
        m = int(arrays["max_duration"])
        counts = np.asarray(arrays["counts"], dtype=np.int64)
        sums = np.asarray(arrays["sums"], dtype=np.float64)
        if counts.shape != (m,) or sums.shape != (m * (m + 1) // 2,):
            raise ValueError("shape arrays do not match their max_duration; the file is damaged")
        return cls(m, counts, sums, int(arrays["n_too_long"]))
