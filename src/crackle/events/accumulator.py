"""Streaming accumulation of avalanches with memory bounded by the longest duration."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_int, param_error
from crackle.events.avalanches import (
    DEFAULT_MAX_SHAPE_DURATION,
    Avalanches,
    avalanches_from_trajectories,
    concat_avalanches,
)
from crackle.events.shapes import ShapeSums

__all__ = ["AvalancheAccumulator"]


class AvalancheAccumulator:
    """Merge avalanche chunks as they are produced: ``update()``, ``compute()``, ``reset()``.

    State and merge rules (all sums, so the merged result equals the one-shot result
    for any chunking):

    - shape sums per duration (:class:`ShapeSums`, O(max_shape_duration^2) floats);
    - counts: complete, censored, empty; a histogram of durations;
    - the event arrays themselves only when ``keep_events=True``. With
      ``keep_events=False`` each chunk goes to ``sink`` (for example a Parquet writer)
      and memory stays flat whatever the number of avalanches.

    Parameters
    ----------
    max_shape_duration : int
        Longest duration whose profiles are summed.
    keep_events : bool
        Keep sizes and durations in memory so that :meth:`compute` can return them.
    sink : callable, optional
        Called with every chunk's :class:`Avalanches` (before it is merged).

    Examples
    --------
    >>> import numpy as np, crackle as ck
    >>> acc = ck.AvalancheAccumulator()
    >>> q = np.abs(np.random.default_rng(0).normal(size=(100, 20)))
    >>> for chunk in np.array_split(q, 4):
    ...     _ = acc.update_trajectories(chunk, threshold=0.5)
    >>> acc.compute().n == ck.avalanches_from_trajectories(q, 0.5).n
    True
    """

    def __init__(
        self,
        max_shape_duration: int = DEFAULT_MAX_SHAPE_DURATION,
        *,
        keep_events: bool = True,
        sink: Callable[[Avalanches], None] | None = None,
    ) -> None:
        self.max_shape_duration = check_int(
            max_shape_duration, "max_shape_duration", "AvalancheAccumulator", low=1
        )
        self.keep_events = bool(keep_events)
        self.sink = sink
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        self._parts: list[Avalanches] = []
        self._shapes = ShapeSums.empty(self.max_shape_duration)
        self._duration_hist = np.zeros(1, dtype=np.int64)
        self.n = 0
        self.n_censored = 0
        self.n_empty = 0
        self._info: dict[str, object] = {}

    def update(self, chunk: Avalanches) -> None:
        """Merge one chunk of avalanches."""
        if not isinstance(chunk, Avalanches):
            raise param_error("chunk", "AvalancheAccumulator.update", "an Avalanches object", chunk)
        if self.sink is not None:
            self.sink(chunk)
        if chunk.shapes is not None:
            if chunk.shapes.max_duration > self.max_shape_duration:
                raise ValueError(
                    "chunk keeps longer shapes than the accumulator; build chunks with "
                    f"max_shape_duration={self.max_shape_duration}"
                )
            self._shapes = self._shapes.merge(chunk.shapes)
        if chunk.n:
            hist = np.bincount(chunk.durations)
            if hist.size > self._duration_hist.size:
                hist[: self._duration_hist.size] += self._duration_hist
                self._duration_hist = hist
            else:
                self._duration_hist[: hist.size] += hist
        self.n += chunk.n
        self.n_censored += chunk.n_censored
        self.n_empty += chunk.n_empty
        if not self._info:
            self._info = dict(chunk.info)
        if self.keep_events:
            # Shapes are merged above; keep the events without their own copy.
            self._parts.append(
                Avalanches(
                    chunk.sizes,
                    chunk.durations,
                    chunk.censored_sizes,
                    chunk.censored_durations,
                    None,
                    chunk.n_empty,
                    chunk.info,
                )
            )

    def update_trajectories(self, q: ArrayLike, threshold: ArrayLike) -> Avalanches:
        """Extract avalanches from a chunk of trajectories, merge them and return them."""
        chunk = avalanches_from_trajectories(
            q, threshold, max_shape_duration=self.max_shape_duration
        )
        self.update(chunk)
        return chunk

    @property
    def shapes(self) -> ShapeSums:
        """Shape sums accumulated so far."""
        return self._shapes

    @property
    def duration_counts(self) -> NDArray[np.int64]:
        """``duration_counts[T]`` = number of complete avalanches of duration T."""
        return self._duration_hist.copy()

    def compute(self) -> Avalanches:
        """All avalanches merged so far (requires ``keep_events=True``)."""
        if not self.keep_events:
            raise RuntimeError(
                "this accumulator was built with keep_events=False and holds only summaries; "
                "read the events back from its sink (for example the run directory's Parquet file)"
            )
        if not self._parts:
            return Avalanches(np.zeros(0), np.zeros(0, np.int64), shapes=self._shapes)
        merged = concat_avalanches(self._parts)
        return Avalanches(
            merged.sizes,
            merged.durations,
            merged.censored_sizes,
            merged.censored_durations,
            self._shapes,
            merged.n_empty,
            self._info,
        )
