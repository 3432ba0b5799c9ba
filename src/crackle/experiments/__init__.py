"""Experiments: the pipeline's stages put together to reproduce a paper's figure.

Each experiment takes a frozen config, writes a run directory and returns a frozen
result with ``to_dict()`` and ``plot()``. They load torch on first use.
"""

from crackle.experiments.fss import FSSConfig, FSSResult, finite_size_scaling
from crackle.experiments.lstm import LSTMConfig, LSTMResult, lstm_criticality

__all__ = [
    "FSSConfig",
    "FSSResult",
    "LSTMConfig",
    "LSTMResult",
    "finite_size_scaling",
    "lstm_criticality",
]
