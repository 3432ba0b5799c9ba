"""crackle: measure, explain and steer criticality in deep neural networks.

The statistics core is imported eagerly (numpy/scipy only). ``crackle.sim``,
``crackle.nn`` and ``crackle.meanfield`` are loaded on first use, so that
``import crackle`` never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crackle._validation import CrackleValueError
from crackle.events import (
    AvalancheAccumulator,
    Avalanches,
    ShapeSums,
    Spikes,
    avalanches_from_counts,
    avalanches_from_trajectories,
    bin_spikes,
    concat_avalanches,
    read_spikes,
)
from crackle.stats import (
    UNIVERSALITY_CLASSES,
    ClassMatch,
    CollapseResult,
    CracklingReport,
    PowerLawComparison,
    PowerLawFit,
    PowerLawGof,
    PowerLawVerdict,
    ScalingFit,
    UniversalityClass,
    branching_ratio,
    crackling_report,
    dfa,
    fit_power_law,
    fit_size_duration,
    nearest_class,
    predicted_exponent,
    psd_slope,
    sample_power_law,
    shape_collapse,
)

if TYPE_CHECKING:
    from crackle import nn, sim
    from crackle.theory import meanfield

__version__ = "0.1.0"

__all__ = [
    "UNIVERSALITY_CLASSES",
    "AvalancheAccumulator",
    "Avalanches",
    "ClassMatch",
    "CollapseResult",
    "CrackleValueError",
    "CracklingReport",
    "PowerLawComparison",
    "PowerLawFit",
    "PowerLawGof",
    "PowerLawVerdict",
    "ScalingFit",
    "ShapeSums",
    "Spikes",
    "UniversalityClass",
    "__version__",
    "avalanches_from_counts",
    "avalanches_from_trajectories",
    "bin_spikes",
    "branching_ratio",
    "concat_avalanches",
    "crackling_report",
    "dfa",
    "fit_power_law",
    "fit_size_duration",
    "meanfield",
    "nearest_class",
    "nn",
    "predicted_exponent",
    "psd_slope",
    "read_spikes",
    "sample_power_law",
    "shape_collapse",
    "sim",
]

_LAZY = {"sim": "crackle.sim", "nn": "crackle.nn", "meanfield": "crackle.theory.meanfield"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'crackle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
