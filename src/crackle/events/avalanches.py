"""Avalanches: from trajectories or binned counts to sizes, durations and shapes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import (
    check_1d,
    check_2d,
    check_bool,
    check_int,
    check_real,
    param_error,
    real_array,
)
from crackle.events.shapes import ShapeSums

__all__ = [
    "DEFAULT_MAX_SHAPE_DURATION",
    "Avalanches",
    "avalanches_from_counts",
    "avalanches_from_trajectories",
    "concat_avalanches",
]

#: Profiles longer than this are counted but not summed, unless the caller says otherwise:
#: the shape state costs max_duration^2 / 2 floats (8 MB at 1000).
DEFAULT_MAX_SHAPE_DURATION = 1000


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Avalanches:
    """A set of complete avalanches, with the censored ones kept apart.

    Attributes
    ----------
    sizes : ndarray of shape (n,)
        Size of each complete avalanche (sum of the signal over its duration).
    durations : ndarray of shape (n,)
        Duration of each complete avalanche (number of steps or layers), >= 1.
    censored_sizes, censored_durations : ndarray of shape (n_censored,)
        What was seen of avalanches cut by the end (or start) of the record. Their true
        size and duration are unknown, so they are never used in fits.
    shapes : ShapeSums or None
        Summed profiles per duration, for shape collapse.
    n_empty : int
        Trajectories or records with no avalanche at all (the first entry at or below
        threshold).
    info : dict
        How the avalanches were made (threshold, source); JSON-safe.
    """

    sizes: NDArray[np.float64]
    durations: NDArray[np.int64]
    censored_sizes: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    censored_durations: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    shapes: ShapeSums | None = None
    n_empty: int = 0
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("sizes", "censored_sizes"):
            raw = real_array(getattr(self, name), name, "Avalanches")
            arr = np.asarray(raw, np.float64)
            if arr.ndim != 1:
                raise param_error(name, "Avalanches", "one-dimensional", f"shape {arr.shape}")
            bad = ~np.isfinite(arr) | (arr < 0)
            if bad.any():
                raise param_error(
                    name,
                    "Avalanches",
                    "finite and non-negative (an avalanche's size)",
                    f"{int(bad.sum())} NaN, inf or negative value(s), the first at index "
                    f"{int(np.argmax(bad))}",
                )
            object.__setattr__(self, name, _readonly(arr))
        for name in ("durations", "censored_durations"):
            raw = real_array(getattr(self, name), name, "Avalanches")
            if raw.ndim != 1:
                raise param_error(name, "Avalanches", "one-dimensional", f"shape {raw.shape}")
            if raw.dtype.kind == "f":
                bad = ~np.isfinite(raw) | (raw != np.round(raw))
                if bad.any():
                    raise param_error(
                        name,
                        "Avalanches",
                        "whole numbers of time steps",
                        f"{int(bad.sum())} non-integer value(s), e.g. {raw[np.argmax(bad)]!r}",
                    )
            arr = np.asarray(raw, np.int64)
            if (arr < 0).any():
                raise param_error(name, "Avalanches", "non-negative", f"min {arr.min()}")
            object.__setattr__(self, name, _readonly(arr))
        if not isinstance(self.n_empty, int | np.integer) or isinstance(self.n_empty, bool):
            raise param_error("n_empty", "Avalanches", "an integer", self.n_empty)
        if self.shapes is not None and not isinstance(self.shapes, ShapeSums):
            raise param_error("shapes", "Avalanches", "ShapeSums or None", self.shapes)
        if self.sizes.shape != self.durations.shape:
            raise ValueError(
                f"sizes and durations must have the same length; got {self.sizes.size} "
                f"and {self.durations.size}"
            )
        if self.censored_sizes.shape != self.censored_durations.shape:
            raise ValueError("censored_sizes and censored_durations must have the same length")

    @classmethod
    def from_arrays(
        cls, sizes: ArrayLike, durations: ArrayLike, *, n_censored: int = 0
    ) -> Avalanches:
        """Avalanches from measured sizes and durations (for example a file).

        Parameters
        ----------
        sizes, durations : array_like of shape (n,)
            Positive sizes and integer durations >= 1 of complete avalanches.
        n_censored : int
            How many censored avalanches the source dropped, kept for the record.
        """
        func = "Avalanches.from_arrays"
        s = check_1d(sizes, "sizes", func, positive=True)
        d = check_1d(durations, "durations", func, positive=True, integer=True)
        if s.size != d.size:
            raise param_error(
                "durations", func, f"of the same length as sizes ({s.size})", f"length {d.size}"
            )
        n_c = check_int(n_censored, "n_censored", func, low=0)
        info = {"source": "arrays", "n_censored_unrecorded": n_c} if n_c else {"source": "arrays"}
        return cls(s, d.astype(np.int64), info=info)

    @property
    def n(self) -> int:
        """Number of complete avalanches."""
        return int(self.sizes.size)

    @property
    def n_censored(self) -> int:
        """Number of censored avalanches (kept apart, never fitted)."""
        extra = int(self.info.get("n_censored_unrecorded", 0))
        return int(self.censored_sizes.size) + extra

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return (
            f"Avalanches(n={self.n}, n_censored={self.n_censored}, n_empty={self.n_empty}, "
            f"max_duration={int(self.durations.max()) if self.n else 0})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (counts and ranges, not the arrays)."""
        out: dict[str, Any] = {
            "n": self.n,
            "n_censored": self.n_censored,
            "n_empty": self.n_empty,
            "info": dict(self.info),
        }
        if self.n:
            out["size_range"] = [float(self.sizes.min()), float(self.sizes.max())]
            out["duration_range"] = [int(self.durations.min()), int(self.durations.max())]
        if self.shapes is not None:
            out["shape_max_duration"] = self.shapes.max_duration
            out["shape_n_too_long"] = self.shapes.n_too_long
        return out


def concat_avalanches(parts: Sequence[Avalanches]) -> Avalanches:
    """Join avalanche sets from chunks of one experiment (same threshold).

    Shape sums are merged; ``info`` is taken from the first part.
    """
    if isinstance(parts, Avalanches) or not isinstance(parts, Sequence) or not parts:
        raise param_error("parts", "concat_avalanches", "a non-empty sequence of Avalanches", parts)
    wrong = [i for i, p in enumerate(parts) if not isinstance(p, Avalanches)]
    if wrong:
        raise param_error(
            "parts",
            "concat_avalanches",
            "a non-empty sequence of Avalanches",
            f"an object of type {type(parts[wrong[0]]).__name__} at index {wrong[0]}",
        )
    shapes: ShapeSums | None = None
    for p in parts:
        if p.shapes is not None:
            shapes = p.shapes if shapes is None else shapes.merge(p.shapes)
    extra = sum(int(p.info.get("n_censored_unrecorded", 0)) for p in parts)
    info = dict(parts[0].info)
    if extra:
        info["n_censored_unrecorded"] = extra
    return Avalanches(
        sizes=np.concatenate([p.sizes for p in parts]),
        durations=np.concatenate([p.durations for p in parts]),
        censored_sizes=np.concatenate([p.censored_sizes for p in parts]),
        censored_durations=np.concatenate([p.censored_durations for p in parts]),
        shapes=shapes,
        n_empty=sum(p.n_empty for p in parts),
        info=info,
    )


def _threshold_row(threshold: ArrayLike, length: int, func: str) -> NDArray[np.float64]:
    if threshold is None:
        raise param_error("threshold", func, "a number or one number per layer", threshold)
    thr = np.asarray(real_array(threshold, "threshold", func, "a number or one per layer"), float)
    if thr.ndim == 0:
        thr = np.full(length, float(thr))
    if thr.shape != (length,):
        raise param_error(
            "threshold",
            func,
            f"a scalar or one value per layer, shape ({length},)",
            f"shape {thr.shape}",
        )
    if not np.isfinite(thr).all():
        raise param_error("threshold", func, "finite", threshold)
    return thr


def avalanches_from_trajectories(
    q: ArrayLike,
    threshold: ArrayLike,
    *,
    max_shape_duration: int | None = DEFAULT_MAX_SHAPE_DURATION,
) -> Avalanches:
    """Avalanches of signal strength along layers (or steps), one per trajectory.

    A trajectory's avalanche starts at its first entry and lasts while the signal
    stays above threshold: duration ``T`` is the number of consecutive entries above
    threshold from the start, size ``S`` their sum, the profile those entries.

    Parameters
    ----------
    q : array_like of shape (n, L)
        Signal strength of trajectory ``i`` at layer ``l`` (for example the mean
        squared pre-activation, Ghavasieh et al. 2025).
    threshold : float or array_like of shape (L,)
        One threshold, or one per layer (for example ``mu_l + k s_l`` in ResNets).
    max_shape_duration : int or None
        Profiles of avalanches up to this duration are summed for shape collapse;
        ``None`` keeps no shapes. Memory grows as its square.

    Returns
    -------
    Avalanches
        Complete avalanches; trajectories still above threshold at the last entry are
        censored (kept apart with their partial size); trajectories starting at or
        below threshold count in ``n_empty``.

    References
    ----------
    Ghavasieh et al., "Toward a Physics of Deep Learning and Brains", arXiv 2509.22649
    (2025), Methods.

    Examples
    --------
    >>> import numpy as np, crackle as ck
    >>> q = np.array([[2.0, 3.0, 0.5, 4.0], [2.0, 2.0, 2.0, 2.0], [0.1, 5.0, 5.0, 5.0]])
    >>> av = ck.avalanches_from_trajectories(q, threshold=1.0)
    >>> av.sizes.tolist(), av.durations.tolist(), av.n_censored, av.n_empty
    ([5.0], [2], 1, 1)
    """
    func = "avalanches_from_trajectories"
    arr = check_2d(q, "q", func)
    n, length = arr.shape
    thr = _threshold_row(threshold, length, func)
    if max_shape_duration is not None:
        max_shape_duration = check_int(max_shape_duration, "max_shape_duration", func, low=1)

    above = arr > thr
    below_any = ~above.all(axis=1)
    # First index at or below threshold; trajectories never below are censored at L.
    dur = np.where(below_any, np.argmin(above, axis=1), length).astype(np.int64)
    tmax_seen = int(dur.max())
    cols = np.arange(tmax_seen)
    inside = cols[None, :] < dur[:, None]
    # A sequential cumulative sum, so a size is bit-identical however the trajectories
    # are chunked (a pairwise row sum would depend on the chunk's longest avalanche).
    if tmax_seen:
        cs = np.cumsum(arr[:, :tmax_seen], axis=1)
        sizes = np.where(dur > 0, cs[np.arange(n), np.maximum(dur - 1, 0)], 0.0)
    else:
        sizes = np.zeros(n)

    complete = below_any & (dur > 0)
    censored = ~below_any
    shapes = None
    if max_shape_duration is not None:
        m = max_shape_duration
        rows, pos = np.nonzero(inside & complete[:, None])
        shapes = ShapeSums.from_flat(dur[rows], pos, arr[rows, pos], dur[complete], m)
    return Avalanches(
        sizes=sizes[complete],
        durations=dur[complete],
        censored_sizes=sizes[censored],
        censored_durations=dur[censored],
        shapes=shapes,
        n_empty=int((dur == 0).sum()),
        info={
            "source": "trajectories",
            "threshold": float(thr[0]) if np.all(thr == thr[0]) else thr.tolist(),
            "n_trajectories": int(n),
            "length": int(length),
        },
    )


def avalanches_from_counts(
    counts: ArrayLike,
    threshold: float = 0.0,
    *,
    max_shape_duration: int | None = DEFAULT_MAX_SHAPE_DURATION,
    raster: bool | None = None,
) -> Avalanches:
    """Avalanches in binned activity: runs of bins with activity above threshold.

    Parameters
    ----------
    counts : array_like of shape (L,) or (n_trials, L)
        Activity per time bin (for example the number of active units), >= 0. Rows of
        a 2-D array are separate trials; no avalanche runs across a row boundary.
        With ``raster=True`` a 2-D array is a raster of (n_units, L) instead, summed
        over units into the population activity first.
    threshold : float
        A bin is active when its count is strictly greater than this.
    max_shape_duration : int or None
        As in :func:`avalanches_from_trajectories`.
    raster : bool, optional
        True: rows are units of one recording (pooled); False: rows are trials. A 2-D
        NumPy array without it is taken as trials with a warning naming both choices
        (a raster taken as trials splits every avalanche into one-unit pieces).

    Returns
    -------
    Avalanches
        Size = sum of the counts over a run, duration = run length, profile = the
        counts. Runs touching the first or last bin of a trial are censored: their
        true start or end was not observed.

    Examples
    --------
    >>> import crackle as ck
    >>> av = ck.avalanches_from_counts([0, 1, 2, 0, 0, 3, 0, 1])
    >>> av.sizes.tolist(), av.durations.tolist(), av.n_censored
    ([3.0, 3.0], [2, 1], 1)
    """
    func = "avalanches_from_counts"
    is_ndarray_2d = isinstance(counts, np.ndarray) and counts.ndim == 2
    if raster is not None:
        raster = check_bool(raster, "raster", func)
    arr = np.asarray(real_array(counts, "counts", func, "an array of counts"), np.float64)
    if arr.ndim not in (1, 2):
        raise param_error("counts", func, "of shape (L,) or (n_trials, L)", f"shape {arr.shape}")
    if raster is None and is_ndarray_2d and arr.shape[0] > 1:
        warnings.warn(
            f"avalanches_from_counts: taking the {arr.shape[0]} rows of counts as separate "
            "trials; if they are units of one recording (a raster), pass raster=True to "
            "pool them, or raster=False to keep them as trials and silence this warning",
            UserWarning,
            stacklevel=2,
        )
    if raster:
        arr = arr.sum(axis=0) if arr.ndim == 2 else arr
    rows2d = check_2d(arr, "counts", func)
    if (rows2d < 0).any():
        raise param_error(
            "counts", func, "non-negative (activity per bin)", f"{int((rows2d < 0).sum())} negative"
        )
    thr = check_real(threshold, "threshold", func)
    with np.errstate(over="ignore"):
        total = float(np.sum(rows2d))
    if not np.isfinite(total):
        raise param_error(
            "counts",
            func,
            "small enough that their running sum stays below 1.8e308 (float64); rescale the counts",
            "counts whose sum overflows",
        )
    if max_shape_duration is not None:
        max_shape_duration = check_int(max_shape_duration, "max_shape_duration", func, low=1)

    n_trials, length = rows2d.shape
    active = np.zeros((n_trials, length + 2), dtype=bool)
    active[:, 1:-1] = rows2d > thr
    flat = active.ravel()
    edges = np.diff(flat.astype(np.int8))
    starts = np.flatnonzero(edges == 1) + 1  # flat index in padded array
    ends = np.flatnonzero(edges == -1) + 1  # one past the run
    dur = (ends - starts).astype(np.int64)
    col_start = starts % (length + 2) - 1
    col_end = (ends - 1) % (length + 2) - 1
    censored = (col_start == 0) | (col_end == length - 1)

    padded = np.zeros((n_trials, length + 2))
    padded[:, 1:-1] = rows2d
    cs = np.concatenate([[0.0], np.cumsum(padded.ravel())])
    sizes = cs[ends] - cs[starts]

    shapes = None
    if max_shape_duration is not None:
        keep = ~censored
        run_id = np.repeat(np.arange(starts.size), dur)
        pos = np.arange(run_id.size) - np.repeat(np.cumsum(dur) - dur, dur)
        idx = starts[run_id] + pos
        sel = keep[run_id]
        shapes = ShapeSums.from_flat(
            dur[run_id][sel], pos[sel], padded.ravel()[idx][sel], dur[keep], max_shape_duration
        )
    return Avalanches(
        sizes=sizes[~censored],
        durations=dur[~censored],
        censored_sizes=sizes[censored],
        censored_durations=dur[censored],
        shapes=shapes,
        n_empty=0,
        info={
            "source": "raster" if raster else "counts",
            "threshold": thr,
            "n_trials": int(n_trials),
            "length": int(length),
        },
    )
