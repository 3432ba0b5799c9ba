"""Input validation at the public boundary.

One error type and one message shape, in the manner of scikit-learn:
``The 'x' parameter of fit_power_law must be ... Got ... instead.``
Inner code trusts what these helpers return.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CrackleValueError",
    "check_1d",
    "check_2d",
    "check_bool",
    "check_callable",
    "check_choice",
    "check_int",
    "check_memory",
    "check_real",
    "memory_limit",
    "param_error",
    "real_array",
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


_KIND_NAMES = {
    "c": "complex numbers (the imaginary part would be lost)",
    "U": "text",
    "S": "bytes",
    "M": "dates",
    "m": "time differences",
    "V": "structured records",
    "O": "Python objects",
}


def real_array(
    x: Any, name: str, func: str, must: str = "an array of real numbers"
) -> NDArray[Any]:
    """``x`` as a numpy array of real numbers (bool, integer or float dtype), without
    converting: complex, text and object arrays and ragged lists are refused, named."""
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise param_error(
            name, func, must, "a ragged sequence (rows of different lengths) or mixed values"
        ) from exc
    if raw.dtype.kind in "biuf":
        return raw
    if raw.dtype.kind == "O":
        # Python objects: numbers held in an object array (pandas, lists with numpy
        # scalars) pass when every one is a real number.
        try:
            if all(isinstance(v, bool | int | float | np.integer | np.floating) for v in raw.flat):
                return raw.astype(np.float64)
        except (TypeError, ValueError):
            pass
    what = _KIND_NAMES.get(raw.dtype.kind, f"values of dtype {raw.dtype}")
    raise param_error(name, func, must, f"an array of {what} (dtype {raw.dtype})")


def check_bool(value: Any, name: str, func: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (numpy bools too); a string such
    as ``"no"`` is an error, never taken for a truthy flag."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise param_error(name, func, "True or False", value)


def check_callable(value: Any, name: str, func: str, *, optional: bool = True) -> Any:
    """Return ``value`` if it is callable (or None when ``optional``)."""
    if value is None and optional:
        return None
    if not callable(value):
        raise param_error(name, func, "a function" + (" or None" if optional else ""), value)
    return value


def memory_limit() -> int:
    """Bytes one allocation plan may need: ``CRACKLE_MEMORY_LIMIT_GB`` (GiB) when set,
    else three quarters of this machine's physical memory (16 GiB where unknown)."""
    env = os.environ.get("CRACKLE_MEMORY_LIMIT_GB")
    if env:
        try:
            gib = float(env)
            if gib > 0 and np.isfinite(gib):
                return int(gib * 2**30)
        except ValueError:
            pass
    return _machine_limit()


def _machine_limit() -> int:
    """Three quarters of this machine's physical memory (16 GiB where unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 * 2**30 * 4 // 3
    return int(0.75 * total)


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GiB" if nbytes >= 2**27 else f"{nbytes / 2**20:.3g} MiB"


def check_memory(
    nbytes: float, what: str, func: str, *, hint: str = "", limit: int | None = None
) -> None:
    """Refuse, before allocating, a plan that needs more than the memory limit.

    The message gives the estimate and the limit (see :func:`memory_limit`).
    """
    lim = memory_limit() if limit is None else int(limit)
    if not nbytes <= lim:
        if limit is not None:
            source = " (the device's memory)"
        elif os.environ.get("CRACKLE_MEMORY_LIMIT_GB") and lim != _machine_limit():
            source = " (CRACKLE_MEMORY_LIMIT_GB)"
        else:
            source = " (3/4 of this machine's memory; set CRACKLE_MEMORY_LIMIT_GB to change it)"
        msg = (
            f"{func} would need about {_gib(nbytes)} of memory for {what}; the limit is "
            f"{_gib(lim)}{source}."
        )
        raise CrackleValueError(msg + (f" {hint}" if hint else ""))


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
    raw = real_array(x, name, func, "a one-dimensional array of real numbers")
    with np.errstate(over="ignore"):
        arr = np.array(raw, dtype=np.float64, copy=True)
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
    raw = real_array(x, name, func, "an array of real numbers of shape (n, L)")
    with np.errstate(over="ignore"):
        arr = np.asarray(raw, dtype=np.float64)
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
