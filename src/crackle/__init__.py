"""crackle: measure, explain and steer criticality in deep neural networks.

Every public name is loaded on first use (PEP 562), so ``import crackle`` imports
numpy and nothing heavier: ``ck.fit_power_law`` loads the power-law fits (scipy),
``ck.sim``, ``ck.nn`` and ``ck.meanfield`` their subpackages, and importing crackle
never imports torch, dask, matplotlib or scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crackle import _lazy
from crackle._extras import require
from crackle._validation import CrackleValueError
from crackle._version import __version__

if TYPE_CHECKING:
    from crackle import nn, sim
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
    from crackle.theory import meanfield

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

_EVENTS = (
    "AvalancheAccumulator",
    "Avalanches",
    "ShapeSums",
    "Spikes",
    "avalanches_from_counts",
    "avalanches_from_trajectories",
    "bin_spikes",
    "concat_avalanches",
    "read_spikes",
)
_STATS = (
    "UNIVERSALITY_CLASSES",
    "ClassMatch",
    "CollapseResult",
    "CracklingReport",
    "PowerLawComparison",
    "PowerLawFit",
    "PowerLawGof",
    "PowerLawVerdict",
    "ScalingFit",
    "UniversalityClass",
    "branching_ratio",
    "crackling_report",
    "dfa",
    "fit_power_law",
    "fit_size_duration",
    "nearest_class",
    "predicted_exponent",
    "psd_slope",
    "sample_power_law",
    "shape_collapse",
)

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {**dict.fromkeys(_EVENTS, "crackle.events"), **dict.fromkeys(_STATS, "crackle.stats")},
    modules={"sim": "crackle.sim", "nn": "crackle.nn", "meanfield": "crackle.theory.meanfield"},
    before={"meanfield": lambda: require("xarray", extra="theory", feature="crackle.meanfield")},
)
