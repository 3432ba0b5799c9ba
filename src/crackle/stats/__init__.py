"""Statistics stage: power laws, scaling, shape collapse, universality. numpy/scipy only.

Names load on first use (PEP 562): ``from crackle.stats import fit_power_law`` imports
the power-law modules and not, say, the branching-ratio estimator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crackle import _lazy

if TYPE_CHECKING:
    from crackle.stats.branching import BranchingRatioResult, branching_ratio
    from crackle.stats.collapse import CollapseResult, shape_collapse
    from crackle.stats.correlations import DFAResult, PSDSlope, dfa, psd_slope
    from crackle.stats.crackling import CracklingReport, PowerLawVerdict, crackling_report
    from crackle.stats.mixture import MixtureSpectrumFit, fit_mixture_spectrum, mixture_spectrum
    from crackle.stats.powerlaw import (
        PowerLawComparison,
        PowerLawFit,
        PowerLawGof,
        fit_power_law,
        sample_power_law,
    )
    from crackle.stats.scaling import ScalingFit, fit_size_duration, predicted_exponent
    from crackle.stats.universality import (
        UNIVERSALITY_CLASSES,
        ClassMatch,
        UniversalityClass,
        nearest_class,
    )

__all__: list[str] = [
    "UNIVERSALITY_CLASSES",
    "BranchingRatioResult",
    "ClassMatch",
    "CollapseResult",
    "CracklingReport",
    "DFAResult",
    "MixtureSpectrumFit",
    "PSDSlope",
    "PowerLawComparison",
    "PowerLawFit",
    "PowerLawGof",
    "PowerLawVerdict",
    "ScalingFit",
    "UniversalityClass",
    "branching_ratio",
    "crackling_report",
    "dfa",
    "fit_mixture_spectrum",
    "fit_power_law",
    "fit_size_duration",
    "mixture_spectrum",
    "nearest_class",
    "predicted_exponent",
    "psd_slope",
    "sample_power_law",
    "shape_collapse",
]

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "BranchingRatioResult": "branching",
        "branching_ratio": "branching",
        "CollapseResult": "collapse",
        "shape_collapse": "collapse",
        "DFAResult": "correlations",
        "PSDSlope": "correlations",
        "dfa": "correlations",
        "psd_slope": "correlations",
        "CracklingReport": "crackling",
        "PowerLawVerdict": "crackling",
        "crackling_report": "crackling",
        "MixtureSpectrumFit": "mixture",
        "fit_mixture_spectrum": "mixture",
        "mixture_spectrum": "mixture",
        "PowerLawComparison": "powerlaw",
        "PowerLawFit": "powerlaw",
        "PowerLawGof": "powerlaw",
        "fit_power_law": "powerlaw",
        "sample_power_law": "powerlaw",
        "ScalingFit": "scaling",
        "fit_size_duration": "scaling",
        "predicted_exponent": "scaling",
        "UNIVERSALITY_CLASSES": "universality",
        "ClassMatch": "universality",
        "UniversalityClass": "universality",
        "nearest_class": "universality",
    },
)
