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
from crackle.events.spike_files import read_spikes
from crackle.events.spikes import BinnedSpikes, Spikes, bin_spikes

__all__ = [
    "DEFAULT_MAX_SHAPE_DURATION",
    "AvalancheAccumulator",
    "Avalanches",
    "BinnedSpikes",
    "ShapeSums",
    "Spikes",
    "avalanches_from_counts",
    "avalanches_from_trajectories",
    "bin_spikes",
    "concat_avalanches",
    "read_spikes",
]
