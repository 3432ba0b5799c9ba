"""Input validation at the public boundary.

One error type and one message shape, in the manner of scikit-learn:
``The 'x' parameter of fit_power_law must be ... Got ... instead.``
Inner code trusts what these helpers return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CrackleValueError",
    "check_1d",
    "check_2d",
    "check_choice",
    "check_int",
    "check_real",
    "param_error",
]


class CrackleValueError(ValueError):
    """A public function was given a value it cannot work with.

    A subclass of :class:`ValueError`, so ``except ValueError`` catches it.
    """


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def param_error(name: str, func: str, must: str, got: Any | None = None) -> CrackleValueError:
    """Build the error for parameter ``name`` of ``func``.

    ``must`` completes the sentence "must be ..."; ``got`` (already a description
    when a string) is what the caller passed.
    """
    msg = f"The {name!r} parameter of {func} must be {must}."
    if got is not None:
        desc = got if isinstance(got, str) else _describe(got)
        msg += f" Got {desc} instead."
    return CrackleValueError(msg)


def check_1d(
    x: ArrayLike,
    name: str,
    func: str,
    *,
    dtype: type | np.dtype[Any] = np.float64,
    min_size: int = 1,
    positive: bool = False,
    nonnegative: bool = False,
    integer: bool = False,
) -> NDArray[Any]:
    """Return ``x`` as a fresh 1-D array of ``dtype``, or raise a clear error.

    The array is always a copy, so callers may sort or modify it freely.
    """
    try:
        arr = np.array(x, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise param_error(name, func, "a one-dimensional array of numbers", x) from exc
    if arr.ndim != 1:
        raise param_error(name, func, "exactly one-dimensional", f"shape {arr.shape}")
    if arr.size < min_size:
        raise param_error(
            name, func, f"an array with at least {min_size} value(s)", f"{arr.size} value(s)"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        raise param_error(
            name,
            func,
            "finite (no NaN or inf); drop or repair those entries first",
            f"{int(bad.sum())} non-finite value(s), the first at index {int(np.argmax(bad))}",
        )
    if positive and (arr <= 0).any():
        raise param_error(
            name,
            func,
            "strictly positive; a power law lives on x > 0, so remove zeros and "
            "negative values (or shift the data) first",
            f"{int((arr <= 0).sum())} value(s) <= 0, min {arr.min():g}",
        )
    if nonnegative and (arr < 0).any():
        raise param_error(
            name,
            func,
            "non-negative",
            f"{int((arr < 0).sum())} negative value(s), min {arr.min():g}",
        )
    if integer and (arr != np.round(arr)).any():
        raise param_error(
            name,
            func,
            "integer-valued (or pass discrete=False for continuous data)",
            "non-integer values",
        )
    return arr.astype(dtype, copy=False)


def check_2d(x: ArrayLike, name: str, func: str, *, min_rows: int = 1) -> NDArray[np.float64]:
    """Return ``x`` as a float64 array of shape (n, L) with finite entries."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise param_error(name, func, "an array of shape (n, L)", f"shape {arr.shape}")
    if arr.shape[0] < min_rows or arr.shape[1] < 1:
        raise param_error(
            name, func, f"non-empty, with at least {min_rows} row(s)", f"shape {arr.shape}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise param_error(
            name,
            func,
            "finite (no NaN or inf); an overflowing trajectory should be clipped or dropped first",
            f"non-finite values in {rows.size} row(s), the first is row {int(rows[0])}",
        )
    return arr


def check_int(
    value: Any, name: str, func: str, *, low: int | None = None, high: int | None = None
) -> int:
    """Return ``value`` as ``int`` if it is an integer within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise param_error(name, func, "an integer", value)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise param_error(name, func, f"an integer in [{lo}, {hi}]", value)
    return v


def check_real(
    value: Any,
    name: str,
    func: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as ``float`` if it is finite and within the interval."""
    if isinstance(value, bool):
        raise param_error(name, func, "a real number", value)
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise param_error(name, func, "a real number", value) from exc
    if not np.isfinite(v):
        raise param_error(name, func, "a finite real number", value)
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise param_error(name, func, f"in {lb}{lo}, {hi}{rb}", value)
    return v


def check_choice(value: Any, name: str, func: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        raise param_error(name, func, f"one of {opts}", value)
    return value
