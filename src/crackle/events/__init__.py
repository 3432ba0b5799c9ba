"""Events stage: trajectories and binned counts -> avalanches. Pure numpy."""

from crackle.events.accumulator import AvalancheAccumulator
from crackle.events.avalanches import (
    DEFAULT_MAX_SHAPE_DURATION,
    Avalanches,
    avalanches_from_counts,
    avalanches_from_trajectories,
    concat_avalanches,
)
from crackle.events.shapes import ShapeSums

__all__ = [
    "DEFAULT_MAX_SHAPE_DURATION",
    "AvalancheAccumulator",
    "Avalanches",
    "ShapeSums",
    "avalanches_from_counts",
    "avalanches_from_trajectories",
    "concat_avalanches",
]
