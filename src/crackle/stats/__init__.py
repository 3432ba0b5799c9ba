"""Statistics stage: power laws, scaling, shape collapse, universality. numpy/scipy only."""

from crackle.stats.collapse import CollapseResult, shape_collapse
from crackle.stats.crackling import CracklingReport, PowerLawVerdict, crackling_report
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
    "ClassMatch",
    "CollapseResult",
    "CracklingReport",
    "PowerLawComparison",
    "PowerLawFit",
    "PowerLawGof",
    "PowerLawVerdict",
    "ScalingFit",
    "UniversalityClass",
    "crackling_report",
    "fit_power_law",
    "fit_size_duration",
    "nearest_class",
    "predicted_exponent",
    "sample_power_law",
    "shape_collapse",
]
