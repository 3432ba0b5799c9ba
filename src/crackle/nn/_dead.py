"""Dead networks in the probes: one contract for all of them.

A perturbation probe measures how a small change of the input travels through the
layers. Where every unit of a layer is off (a ReLU layer whose pre-activations are
all negative: a *dead* layer), every unit is saturated (tanh far from 0, where its
derivative is 0 in floating point), or the layer does not depend on its input, the
perturbation vanishes there: the branching ratios after it are 0/0 and the log growth
(a Lyapunov exponent) is log 0 = -inf. The probes never return such a value:

- when it happens for every input, the value is NaN;
- when it happens for some inputs, the value is taken over the others (those inputs'
  ``per_sample`` entries are NaN);

and in both cases the result's ``reason`` says so, naming the first such layer, the
cause and the number of inputs ("dead network: no unit active at layer ...";
"perturbation lost: ..." where a finite difference cannot tell saturation from
rounding), and a
:class:`DeadNetworkWarning` with the same text points at the caller's line.
``reason`` is None for a clean measurement.

The cause is read from the layer's output at those inputs: all zero is "no unit
active"; not zero, the units are saturated (or, for the finite difference of
:func:`~crackle.nn.branching_parameter`, the perturbation fell below the
floating-point resolution of the layer's output).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["DeadNetworkWarning", "Vanished", "dead_reason", "vanished", "warn_dead"]


class DeadNetworkWarning(UserWarning):
    """A probe met a dead network: the perturbation vanished at a layer (no unit
    active, or every unit saturated) for some or all inputs. The result's ``reason``
    says where, why, for how many inputs, and what the value was taken over."""


@dataclass(frozen=True)
class Vanished:
    """Where the perturbation vanished: the rows it vanished in, the layer where it
    vanished first for most of them, and whether that layer's output was zero there
    (no unit active) or not (saturated units, or below floating-point resolution)."""

    rows: NDArray[np.bool_]
    layer: str | None
    off: bool


def vanished(
    norms: NDArray[np.float64],
    names: Sequence[str],
    outputs: NDArray[np.float64] | None = None,
) -> Vanished:
    """``norms`` (rows, L): the perturbation's size after each layer (a zero, or a NaN
    from 0/0, is a vanished perturbation); ``outputs`` (rows, L): the size of each
    layer's output (None: taken as zero where the perturbation vanished)."""
    a = np.asarray(norms, dtype=np.float64).reshape(len(norms), -1)
    gone = ~(a > 0)
    rows: NDArray[np.bool_] = np.asarray(gone.any(axis=1), dtype=bool)
    if not rows.any():
        return Vanished(rows, None, True)
    firsts = gone[rows].argmax(axis=1)
    first = int(np.bincount(firsts).argmax())
    layer = names[first] if first < len(names) else f"#{first + 1}"
    off = True
    if outputs is not None:
        out = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[rows]
        off = bool((out[firsts == first, first] == 0).all())
    return Vanished(rows, layer, off)


def _cause(v: Vanished, finite_difference: bool) -> tuple[str, str]:
    """(what happened at the layer, why the perturbation vanishes there)."""
    where = f"at layer {v.layer!r}" if v.layer is not None else "at some layer"
    if v.off:
        return (
            f"no unit active {where}",
            "every unit is off, or the layer does not depend on its input, so the "
            "perturbation vanishes there",
        )
    if finite_difference:
        return (
            f"the perturbation vanishes {where}",
            "its units are saturated, or eps |x| is below the floating-point resolution "
            "of its output: a larger eps or the model in float64 tells which",
        )
    return (
        f"every unit saturated {where}",
        "the derivative of its activation is 0 in floating point, so the perturbation "
        "vanishes there",
    )


def dead_reason(
    what: str,
    v: Vanished,
    n_dead: int,
    n: int,
    rest: str | None,
    *,
    finite_difference: bool = False,
    how: str | None = None,
) -> str:
    """The ``reason`` text. ``rest`` None: ``what`` is undefined (NaN), for all ``n``
    inputs; else ``what`` is undefined at ``n_dead`` of them and ``rest`` says what
    the value was taken over. ``how`` replaces the explanation in brackets."""
    head, why = _cause(v, finite_difference)
    why = how or why
    label = "perturbation lost" if finite_difference and not v.off else "dead network"
    if rest is None:
        return f"{label}: {head} for any of the {n} input(s) ({why}), so {what} is undefined (NaN)"
    return (
        f"{label} at {n_dead} of {n} input(s): {head} for them ({why}), so {what} is "
        f"undefined at those inputs; {rest}"
    )


def warn_dead(reason: str) -> None:
    """Warn with ``reason``, pointing at the first line outside crackle (the caller's)."""
    from crackle.nn._blocks import user_stacklevel

    warnings.warn(reason, DeadNetworkWarning, stacklevel=user_stacklevel())
