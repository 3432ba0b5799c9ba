"""Experiments: the pipeline's stages put together to reproduce a paper's figure.

Each experiment takes a frozen config, writes a run directory and returns a frozen
result with ``to_dict()`` and ``plot()``. They load torch on first use.
"""

from crackle.experiments.fss import FSSConfig, FSSResult, finite_size_scaling

__all__ = ["FSSConfig", "FSSResult", "finite_size_scaling"]
