"""Spike trains: the :class:`Spikes` object and binning.

A recording of spikes is a set of (unit, time) events. :func:`read_spikes`
(``crackle.events.spike_files``) reads CSV, Parquet, NPZ/NPY, NWB (``pynwb``, the Units
table) and Neo files (``neo``'s readers) into a :class:`Spikes`; :func:`bin_spikes`
counts the spikes in time bins, pooled over units (the population activity A_t) or per
unit (a raster), with the mean
inter-event interval of the pooled train as the default bin width (Beggs & Plenz
2003). NWB and Neo are optional: ``pip install crackle[neural]``.

Input handling, in one place (every case has a test):

* times need not be sorted (they are sorted, stably); NaN or inf times are refused,
  naming the column and the first bad row; times before ``t_start`` (default 0) are
  refused: pass ``t_start`` for times relative to an event (negative allowed then);
* the same unit spiking twice at the same time is refused by default
  (``duplicates="drop"`` keeps one, ``"keep"`` keeps both);
* unit labels may be integers or strings; they are kept in ``unit_labels`` and the
  spikes carry integer codes 0..n_units-1 in sorted label order;
* units listed without any spike (an NWB unit with no spikes, or ``unit_labels=``)
  are kept, with rate 0;
* a file without the expected columns is refused, naming the columns it has and the
  ``time_col=`` / ``unit_col=`` fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_choice, check_real, param_error

__all__ = ["BinnedSpikes", "Spikes", "bin_spikes"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Spikes:
    """A spike recording: the pooled train with the unit of every spike.

    Attributes
    ----------
    times : ndarray of float64, shape (n_spikes,)
        Spike times, sorted (ties keep their input order).
    units : ndarray of int64, shape (n_spikes,)
        Unit code of each spike, an index into ``unit_labels``.
    unit_labels : tuple
        The label (int or str) of each unit code, sorted.
    t_start, t_stop : float
        The observation window; ``t_stop`` defaults to the last spike.
    source : str
        Where the spikes came from (a file name, or "arrays").
    """

    times: FloatArray = field(repr=False)
    units: IntArray = field(repr=False)
    unit_labels: tuple[Any, ...] = field(repr=False)
    t_start: float
    t_stop: float
    source: str = "arrays"

    @property
    def n_spikes(self) -> int:
        return int(self.times.size)

    @property
    def n_units(self) -> int:
        return len(self.unit_labels)

    @property
    def duration(self) -> float:
        """t_stop - t_start."""
        return self.t_stop - self.t_start

    @property
    def spike_counts(self) -> IntArray:
        """Spikes of each unit, shape (n_units,)."""
        return np.bincount(self.units, minlength=self.n_units).astype(np.int64)

    @property
    def rates(self) -> FloatArray:
        """Mean rate of each unit (spikes per time unit), shape (n_units,)."""
        dur = self.duration
        return self.spike_counts / dur if dur > 0 else np.full(self.n_units, np.nan)

    @property
    def mean_iei(self) -> float:
        """Mean inter-event interval of the pooled train: (t_last - t_first)/(n - 1)."""
        if self.n_spikes < 2:
            return float("nan")
        return float((self.times[-1] - self.times[0]) / (self.n_spikes - 1))

    def unit_times(self, code: int) -> FloatArray:
        """The sorted spike times of unit ``code``."""
        return np.asarray(self.times[self.units == code])

    def __len__(self) -> int:
        return self.n_spikes

    def __repr__(self) -> str:
        return (
            f"Spikes(n_spikes={self.n_spikes}, n_units={self.n_units}, "
            f"t_start={self.t_start:g}, t_stop={self.t_stop:g}, source={self.source!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (not the spikes themselves)."""
        rates = self.rates
        return {
            "n_spikes": self.n_spikes,
            "n_units": self.n_units,
            "t_start": self.t_start,
            "t_stop": self.t_stop,
            "duration": self.duration,
            "mean_iei": None if not np.isfinite(self.mean_iei) else self.mean_iei,
            "mean_rate": float(np.mean(rates)) if rates.size and np.isfinite(rates).all() else None,
            "n_silent_units": int((self.spike_counts == 0).sum()),
            "source": self.source,
        }

    @classmethod
    def from_arrays(
        cls,
        times: ArrayLike,
        units: ArrayLike | None = None,
        *,
        t_start: float | None = None,
        t_stop: float | None = None,
        unit_labels: ArrayLike | None = None,
        duplicates: str = "error",
        source: str = "arrays",
        time_col: str = "times",
        unit_col: str = "units",
    ) -> Spikes:
        """Validate spike times and units into a :class:`Spikes`.

        Parameters
        ----------
        times : array_like of shape (n_spikes,)
            Spike times (any order).
        units : array_like of shape (n_spikes,), optional
            Unit label of each spike (ints or strings); default: all from one unit 0.
        t_start : float, optional
            Start of the recording; default 0 (so negative times are refused, naming
            this fix).
        t_stop : float, optional
            End of the recording; default the last spike.
        unit_labels : array_like, optional
            Every unit of the recording, also those that never spiked.
        duplicates : {"error", "drop", "keep"}
            What to do with the same unit spiking twice at the same time.
        source : str
            Recorded in the result.
        time_col, unit_col : str
            Names used in error messages (the reader's column names).

        Examples
        --------
        >>> from crackle.events.spikes import Spikes
        >>> sp = Spikes.from_arrays([0.3, 0.1, 0.2, 0.5], ["b", "a", "b", "a"], t_stop=1.0)
        >>> sp.unit_labels, sp.units.tolist(), sp.rates.tolist()
        (('a', 'b'), [0, 1, 1, 0], [2.0, 2.0])
        """
        func = "read_spikes" if source != "arrays" else "Spikes.from_arrays"
        duplicates = check_choice(duplicates, "duplicates", func, ("error", "drop", "keep"))
        t = _times(times, time_col, func)
        if units is None:
            codes = np.zeros(t.size, dtype=np.int64)
            labels: tuple[Any, ...] = (0,)
        else:
            codes, labels = _codes(units, t.size, unit_col, func)
        if unit_labels is not None:
            codes, labels = _add_labels(codes, labels, unit_labels, func)
        t0 = 0.0 if t_start is None else check_real(t_start, "t_start", func)
        if t.size and t.min() < t0:
            i = int(np.argmin(t))
            raise param_error(
                time_col,
                func,
                f">= t_start = {t0:g} (times from the start of the recording); pass "
                "t_start=<the earliest time> for times relative to an event",
                f"{int((t < t0).sum())} time(s) before it, the first at row {i} ({t[i]:g})",
            )
        if t.size and np.any(t[1:] < t[:-1]):
            order = np.argsort(t, kind="stable")
            t, codes = t[order], codes[order]
        dup = _duplicates(t, codes)
        if dup.any():
            if duplicates == "error":
                raise param_error(
                    time_col,
                    func,
                    "free of duplicate spikes (the same unit twice at the same time); pass "
                    "duplicates='drop' to keep one of each, or duplicates='keep'",
                    f"{int(dup.sum())} duplicate(s), the first at time {t[np.argmax(dup)]:g} "
                    f"of unit {labels[codes[np.argmax(dup)]]!r}",
                )
            if duplicates == "drop":
                t, codes = t[~dup], codes[~dup]
        last = float(t[-1]) if t.size else t0
        t1 = last if t_stop is None else check_real(t_stop, "t_stop", func)
        if t1 < last or t1 < t0:
            raise param_error(
                "t_stop", func, f">= the last spike ({last:g}) and >= t_start ({t0:g})", t1
            )
        return cls(_readonly(t), _readonly(codes), labels, t0, t1, source)


def _times(times: ArrayLike, col: str, func: str) -> FloatArray:
    try:
        t = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise param_error(
            col, func, "numeric spike times (is the time column the right one?)", "non-numbers"
        ) from exc
    if t.ndim != 1:
        raise param_error(col, func, "one-dimensional", f"shape {t.shape}")
    bad = ~np.isfinite(t)
    if bad.any():
        raise param_error(
            col,
            func,
            "finite (no NaN or inf); drop those rows first",
            f"{int(bad.sum())} non-finite time(s), the first at row {int(np.argmax(bad))}",
        )
    return t


def _codes(units: ArrayLike, n: int, col: str, func: str) -> tuple[IntArray, tuple[Any, ...]]:
    u = np.asarray(units)
    if u.ndim != 1 or u.size != n:
        raise param_error(col, func, f"one label per spike ({n})", f"shape {u.shape}")
    if u.dtype.kind in "iu":
        if u.size and u.min() >= 0 and u.max() < max(4 * n, 1 << 20):
            # Small non-negative integer labels: a lookup table instead of a sort.
            present = np.bincount(u, minlength=1) > 0
            lookup = np.cumsum(present) - 1
            labels = tuple(int(v) for v in np.flatnonzero(present))
            return lookup[u].astype(np.int64), labels
    elif u.dtype.kind == "f":
        bad = ~np.isfinite(u)
        if bad.any():
            raise param_error(
                col,
                func,
                "a label for every spike (no NaN); drop those rows first",
                f"{int(bad.sum())} missing label(s), the first at row {int(np.argmax(bad))}",
            )
        if (u != np.round(u)).any():
            raise param_error(col, func, "integer or string unit labels", "non-integer numbers")
        u = u.astype(np.int64)
    elif u.dtype.kind == "O":
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in u):
            raise param_error(col, func, "a label for every spike (no missing labels)", "None")
        u = u.astype(str)
    import pandas as pd

    codes, uniques = pd.factorize(u, sort=True)
    labels = tuple(v.item() if hasattr(v, "item") else v for v in np.asarray(uniques))
    return np.asarray(codes, dtype=np.int64), labels


def _add_labels(
    codes: IntArray, labels: tuple[Any, ...], extra: ArrayLike, func: str
) -> tuple[IntArray, tuple[Any, ...]]:
    want = [v.item() if hasattr(v, "item") else v for v in np.asarray(extra).ravel()]
    missing = set(labels) - set(want)
    if missing:
        raise param_error(
            "unit_labels",
            func,
            "a list of every unit, including those that spiked",
            f"{len(missing)} spiking unit(s) missing, e.g. {sorted(missing, key=str)[0]!r}",
        )
    try:
        full = sorted(set(want))
    except TypeError:
        full = sorted(set(want), key=str)
    pos = {v: i for i, v in enumerate(full)}
    remap = np.array([pos[v] for v in labels], dtype=np.int64)
    return remap[codes] if codes.size else codes, tuple(full)


def _duplicates(t: FloatArray, codes: IntArray) -> NDArray[np.bool_]:
    """True at every spike that repeats an earlier (unit, time) pair; t sorted."""
    dup = np.zeros(t.size, dtype=bool)
    if t.size < 2:
        return dup
    tie = np.flatnonzero(t[1:] == t[:-1])
    if tie.size == 0:
        return dup
    idx = np.unique(np.concatenate([tie, tie + 1]))  # every spike in a tie group
    order = idx[np.lexsort((idx, codes[idx], t[idx]))]
    same = (t[order][1:] == t[order][:-1]) & (codes[order][1:] == codes[order][:-1])
    dup[order[1:][same]] = True
    return dup


@dataclass(frozen=True)
class BinnedSpikes:
    """Spike counts in time bins of equal width.

    Attributes
    ----------
    counts : ndarray of int64, shape (n_bins,) or (n_units, n_bins)
        Pooled counts (the population activity A_t), or a raster with ``raster``.
    width : float
        Bin width, in the time unit of the spikes.
    iei : float
        Mean inter-event interval of the pooled train.
    t_start : float
        Left edge of the first bin.
    n_units : int
        Units of the recording.
    raster : bool
        Whether ``counts`` holds one row per unit.
    width_rule : str
        ``"iei"`` or ``"fixed"``.
    """

    counts: IntArray = field(repr=False)
    width: float
    iei: float
    t_start: float
    n_units: int
    raster: bool = False
    width_rule: str = "fixed"

    @property
    def activity(self) -> IntArray:
        """The pooled counts A_t, shape (n_bins,)."""
        out: IntArray = self.counts.sum(axis=0) if self.raster else self.counts
        return out

    @property
    def n_bins(self) -> int:
        return int(self.counts.shape[-1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "width_rule": self.width_rule,
            "iei": self.iei,
            "t_start": self.t_start,
            "n_bins": self.n_bins,
            "n_units": self.n_units,
            "raster": self.raster,
            "mean_count": float(self.activity.mean()),
        }


def bin_spikes(
    spikes: Spikes, width: float | str = "iei", *, raster: bool = False, factor: float = 1.0
) -> BinnedSpikes:
    """Count spikes in bins [t_start + i w, t_start + (i + 1) w), i = 0..n_bins-1.

    Parameters
    ----------
    spikes : Spikes
        The recording.
    width : float or "iei"
        Bin width in the time unit of the spikes, or ``"iei"``: the mean
        inter-event interval of the pooled train, (t_last - t_first)/(n_spikes - 1)
        (Beggs & Plenz 2003).
    raster : bool
        Counts per unit, shape (n_units, n_bins), instead of pooled counts.
    factor : float
        Multiplies the width (e.g. 0.25..4 times the IEI for a scan of bin widths).

    Returns
    -------
    BinnedSpikes
        n_bins = ceil((t_stop - t_start) / width) (the last bin may be partial; a
        spike at t_stop falls in the last bin).

    References
    ----------
    Beggs & Plenz, J. Neurosci. 23, 11167 (2003).

    Examples
    --------
    >>> from crackle.events.spikes import Spikes, bin_spikes
    >>> sp = Spikes.from_arrays([0.1, 0.15, 0.7, 1.2, 1.25], [0, 1, 0, 1, 0], t_stop=1.5)
    >>> b = bin_spikes(sp, 0.5)
    >>> b.counts.tolist(), bin_spikes(sp, 0.5, raster=True).counts.tolist()
    ([2, 1, 2], [[1, 1, 1], [1, 0, 1]])
    >>> round(bin_spikes(sp).width, 4)  # the mean inter-event interval
    0.2875
    """
    func = "bin_spikes"
    if not isinstance(spikes, Spikes):
        raise param_error("spikes", func, "a Spikes object (see read_spikes)", spikes)
    factor = check_real(factor, "factor", func, low=0.0, low_open=True)
    iei = spikes.mean_iei
    if isinstance(width, str):
        check_choice(width, "width", func, ("iei",))
        if not (np.isfinite(iei) and iei > 0):
            raise param_error(
                "width",
                func,
                "a number when the pooled train has no inter-event interval "
                "(fewer than two spikes, or all at one time)",
                "'iei'",
            )
        w, rule = iei * factor, "iei"
    else:
        w, rule = check_real(width, "width", func, low=0.0, low_open=True) * factor, "fixed"
    dur = spikes.duration
    n_bins = max(int(np.ceil(dur / w)), 1)
    if n_bins > 2**31:
        raise param_error("width", func, "wide enough for at most 2^31 bins", w)
    idx = np.floor((spikes.times - spikes.t_start) / w).astype(np.int64)
    np.minimum(idx, n_bins - 1, out=idx)  # a spike at t_stop belongs to the last bin
    if raster:
        flat = spikes.units * n_bins + idx
        counts = np.bincount(flat, minlength=spikes.n_units * n_bins).reshape(
            spikes.n_units, n_bins
        )
    else:
        counts = np.bincount(idx, minlength=n_bins)
    return BinnedSpikes(
        counts.astype(np.int64, copy=False),
        float(w),
        float(iei),
        spikes.t_start,
        spikes.n_units,
        raster,
        rule,
    )
