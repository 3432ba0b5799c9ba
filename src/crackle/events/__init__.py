"""Events stage: trajectories and binned counts -> avalanches. Pure numpy.

Names load on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crackle import _lazy

if TYPE_CHECKING:
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

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "AvalancheAccumulator": "accumulator",
        "DEFAULT_MAX_SHAPE_DURATION": "avalanches",
        "Avalanches": "avalanches",
        "avalanches_from_counts": "avalanches",
        "avalanches_from_trajectories": "avalanches",
        "concat_avalanches": "avalanches",
        "ShapeSums": "shapes",
        "read_spikes": "spike_files",
        "BinnedSpikes": "spikes",
        "Spikes": "spikes",
        "bin_spikes": "spikes",
    },
)
