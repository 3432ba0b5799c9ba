"""Dead networks in the probes: one contract for all of them.

A perturbation probe measures how a small change of the input travels through the
layers. Where every unit of a layer is off (a ReLU layer whose pre-activations are
all negative: a *dead* layer), or the layer does not depend on its input, the
perturbation vanishes there: the branching ratios after it are 0/0 and the log growth
(a Lyapunov exponent) is log 0 = -inf. The probes never return such a value:

- when it happens for every input, the value is NaN;
- when it happens for some inputs, the value is taken over the others (those inputs'
  ``per_sample`` entries are NaN);

and in both cases the result's ``reason`` says so, naming the first such layer and
the number of inputs ("dead network: no unit active at layer ..."), and a
:class:`DeadNetworkWarning` with the same text points at the caller's line.
``reason`` is None for a clean measurement.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["DeadNetworkWarning", "dead_inputs", "dead_reason", "warn_dead"]


class DeadNetworkWarning(UserWarning):
    """A probe met a dead network: the perturbation vanished at a layer (no unit
    active) for some or all inputs. The result's ``reason`` says where, for how many
    inputs, and what the value was taken over."""


def dead_inputs(
    norms: NDArray[np.float64], names: Sequence[str]
) -> tuple[NDArray[np.bool_], str | None]:
    """Inputs whose perturbation vanished at some layer, and the layer where it
    vanished first for most of them.

    ``norms`` has shape (n, L): the perturbation's size at each layer for each input
    (a zero, or a NaN from 0/0, is a vanished perturbation).
    """
    gone = ~(np.asarray(norms, dtype=np.float64).reshape(len(norms), -1) > 0)
    dead: NDArray[np.bool_] = np.asarray(gone.any(axis=1), dtype=bool)
    if not dead.any():
        return dead, None
    first = np.bincount(gone[dead].argmax(axis=1)).argmax()
    layer = names[int(first)] if int(first) < len(names) else f"#{int(first) + 1}"
    return dead, layer


#: Why a vanished perturbation means no active unit (or no dependence on the input).
VANISHES = (
    "the perturbation vanishes there: every unit is off, or the layer does not depend on its input"
)


def dead_reason(
    what: str, layer: str | None, n_dead: int, n: int, rest: str | None, how: str = VANISHES
) -> str:
    """The ``reason`` text. ``rest`` None: ``what`` is undefined (NaN), for all ``n``
    inputs; else ``what`` is undefined at ``n_dead`` of them and ``rest`` says what
    the value was taken over. ``how`` says how the dead layer was seen."""
    where = f"at layer {layer!r}" if layer is not None else "at some layer"
    if rest is None:
        return (
            f"dead network: no unit active {where} for any of the {n} input(s) ({how}), "
            f"so {what} is undefined (NaN)"
        )
    return (
        f"dead network at {n_dead} of {n} input(s): no unit active {where} for them "
        f"({how}), so {what} is undefined at those inputs; {rest}"
    )


def warn_dead(reason: str) -> None:
    """Warn with ``reason``, pointing at the first line outside crackle (the caller's)."""
    from crackle.nn._blocks import user_stacklevel

    warnings.warn(reason, DeadNetworkWarning, stacklevel=user_stacklevel())
