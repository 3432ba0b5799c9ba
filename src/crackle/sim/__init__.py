"""Generators with known physics (loaded lazily by ``import crackle``)."""

from crackle.sim.branching import branching_process

__all__ = ["branching_process"]
