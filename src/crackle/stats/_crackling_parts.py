"""Pieces of :func:`crackle.crackling_report` (private): argument checks, the fit limits
set by censored avalanches, and the <S>(T) and shape-collapse parts with their
systematic errors."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from crackle._validation import CrackleValueError, check_real, param_error
from crackle.events.avalanches import Avalanches
from crackle.stats.collapse import CollapseResult, shape_collapse
from crackle.stats.powerlaw import PowerLawFit
from crackle.stats.scaling import ScalingFit, duration_table, fit_table
from crackle.stats.verdict import Check, PowerLawVerdict
from crackle.stats.windows import WindowScan, scan_table

_NAN = float("nan")


def check_xmin(value: Any, name: str, func: str) -> Any:
    """'auto', 'ks', a positive number or a (lo, hi) range with 0 < lo < hi."""
    must = "'auto', 'ks', a positive number, or a (low, high) range with 0 < low < high"
    if isinstance(value, str):
        if value not in ("auto", "ks"):
            raise param_error(name, func, must, value)
        return value
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise param_error(name, func, must, value)
        lo = check_real(value[0], name, func, low=0.0, low_open=True)
        hi = check_real(value[1], name, func, low=0.0, low_open=True)
        if not lo < hi:
            raise param_error(name, func, must, value)
        return (lo, hi)
    if isinstance(value, bool):
        raise param_error(name, func, must, value)
    return check_real(value, name, func, low=0.0, low_open=True)


def check_xmax(value: Any, name: str, func: str, auto: float | None) -> float | None:
    """'auto' (the censoring limit), None, or a positive number."""
    if isinstance(value, str):
        if value != "auto":
            raise param_error(name, func, "'auto', None or a positive number", value)
        return auto
    if value is None:
        return None
    if isinstance(value, bool):
        raise param_error(name, func, "'auto', None or a positive number", value)
    return check_real(value, name, func, low=0.0, low_open=True)


def censoring_limits(av: Avalanches, discrete_sizes: bool) -> tuple[float | None, float | None]:
    """Upper ends below which censoring cannot bias the fits.

    A censored avalanche's true size and duration are at least what was seen of it, so
    every avalanche smaller (shorter) than the smallest (shortest) censored one was
    seen whole: the counts below are unbiased, and a truncated fit there is exact.
    """
    if av.censored_sizes.size == 0:
        return None, None
    c_s = float(av.censored_sizes.min())
    c_d = int(av.censored_durations.min())
    s_max = float(np.ceil(c_s) - 1.0) if discrete_sizes else c_s
    d_max = float(c_d - 1)
    return (s_max if s_max > 0 else None), (d_max if d_max >= 1 else None)


@dataclass(frozen=True)
class SizeDurationPart:
    """One distribution's fit, window scan, verdict and check."""

    fit: PowerLawFit | None
    scan: WindowScan | None
    verdict: PowerLawVerdict | None
    check: Check

    def values(self) -> tuple[float, float, float]:
        if self.fit is None:
            return _NAN, _NAN, _NAN
        sys = self.scan.sys_err if self.scan is not None and self.scan.stable else _NAN
        return self.fit.exponent, self.fit.exponent_err, sys


@dataclass(frozen=True)
class ScalingPart:
    """The <S>(T) fit at the chosen T_min, its scan, and the chosen T_min."""

    fit: ScalingFit | None
    scan: WindowScan | None
    low: float | None

    def values(self) -> tuple[float, float, float]:
        if self.fit is None:
            return _NAN, _NAN, _NAN
        # Without a stable window the scan's systematic error is the spread over every
        # T_min (set in scaling_part).
        sys = self.scan.sys_err if self.scan is not None else _NAN
        return self.fit.exponent, self.fit.stderr, sys


def scaling_part(
    av: Avalanches, *, tmin: int | None, tmax: float | None, notes: list[str]
) -> ScalingPart:
    """<S>(T) from the stable T_min (or ``tmin``) to ``tmax``."""
    hi = None if tmax is None else int(tmax)
    if av.n < 3:
        notes.append("<S>(T) not fitted: fewer than 3 avalanches")
        return ScalingPart(None, None, None)
    try:
        # One table for the scan and the fit (long durations pooled).
        table = duration_table(
            av.sizes,
            av.durations,
            tmin=None,
            tmax=hi,
            min_count=10,
            func="crackling_report",
            pool=True,
        )
    except CrackleValueError as exc:
        notes.append(f"<S>(T) not fitted: {exc}")
        return ScalingPart(None, None, None)
    scan: WindowScan | None
    try:
        scan = scan_table(table, fixed_low=tmin)
    except CrackleValueError as exc:
        notes.append(f"<S>(T) not scanned: {exc}")
        scan = None
    low: float | None = None if tmin is None else float(tmin)
    if scan is not None and scan.stable:
        low = scan.low
    elif scan is not None and scan.lows.size:
        notes.append(f"<S>(T): {scan.message}; fitted over all durations")
    try:
        fit = fit_table(table, low)
    except CrackleValueError as exc:
        notes.append(f"<S>(T) not fitted: {exc}")
        return ScalingPart(None, scan, low)
    if scan is not None and not scan.stable and scan.lows.size:
        # No stable window: the spread over every T_min is the honest systematic error.
        vals = scan.exponents[np.isfinite(scan.exponents)]
        spread = float(0.5 * (vals.max() - vals.min())) if vals.size else _NAN
        scan = replace(
            scan,
            chosen=-1,
            window=(0, scan.lows.size - 1),
            exponent=fit.exponent,
            stat_err=fit.stderr,
            sys_err=spread,
        )
    return ScalingPart(fit, scan, low)


@dataclass(frozen=True)
class CollapsePart:
    result: CollapseResult | None
    sys: float

    def values(self) -> tuple[float, float, float]:
        if self.result is None or not self.result.success:
            return _NAN, _NAN, _NAN
        return self.result.gamma, self.result.gamma_err, self.sys


def collapse_part(
    av: Avalanches,
    *,
    enabled: bool,
    tmin: float | None,
    tmax: float | None,
    notes: list[str],
    gamma_range: tuple[float, float] = (0.5, 4.0),
) -> CollapsePart:
    """Shape collapse from max(4, tmin) on; its systematic error is half the change when
    T_min doubles."""
    if not enabled:
        return CollapsePart(None, _NAN)
    if av.shapes is None:
        notes.append("no shape collapse: these avalanches carry no shape sums")
        return CollapsePart(None, _NAN)
    lo = max(4, int(tmin) if tmin is not None and np.isfinite(tmin) else 4)
    hi = None if tmax is None else int(tmax)
    try:
        col = shape_collapse(av, tmin=lo, tmax=hi, gamma_range=gamma_range)
    except CrackleValueError as exc:
        notes.append(f"no shape collapse: {exc}")
        return CollapsePart(None, _NAN)
    if not col.success:
        notes.append(f"shape collapse: {col.message}")
        return CollapsePart(col, _NAN)
    sys = _NAN
    try:
        col2 = shape_collapse(av, tmin=2 * lo, tmax=hi, gamma_range=gamma_range)
        if col2.success:
            sys = 0.5 * abs(col2.gamma - col.gamma)
    except CrackleValueError:
        pass
    return CollapsePart(col, sys)
