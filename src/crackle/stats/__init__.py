"""Statistics stage: power laws, scaling, shape collapse, universality. numpy/scipy only."""

from crackle.stats.collapse import CollapseResult, shape_collapse
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
    "ScalingFit",
    "UniversalityClass",
    "fit_size_duration",
    "nearest_class",
    "predicted_exponent",
    "shape_collapse",
]
