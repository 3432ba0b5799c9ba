"""Generators with known physics (loaded lazily by ``import crackle``).

``branching_process`` and the null models (``iid_poisson_activity``,
``lognormal_avalanches``, ``stretched_exponential_avalanches``) are numpy only. The
torch-based finite-width Monte Carlo (``simulate_finite_width``,
``compare_with_mean_field``) and the Gaussian-network avalanche simulator
(``gaussian_avalanches``) load torch on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from crackle.sim.branching import branching_process
from crackle.sim.driven import (
    DrivenActivity,
    driven_branching_process,
    mixture_branching_process,
)
from crackle.sim.nulls import (
    iid_poisson_activity,
    lognormal_avalanches,
    stretched_exponential_avalanches,
)
from crackle.sim.spiking import branching_network_spikes

__all__ = [
    "DrivenActivity",
    "branching_network_spikes",
    "branching_process",
    "compare_with_mean_field",
    "driven_branching_process",
    "gaussian_avalanches",
    "iid_poisson_activity",
    "iter_gaussian_avalanches",
    "lognormal_avalanches",
    "mixture_branching_process",
    "simulate_finite_width",
    "stretched_exponential_avalanches",
]

_TORCH_NAMES = {
    "simulate_finite_width": "crackle.sim.finite_width",
    "compare_with_mean_field": "crackle.sim.finite_width",
    "gaussian_avalanches": "crackle.sim.gaussian",
    "iter_gaussian_avalanches": "crackle.sim.gaussian",
}


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module(_TORCH_NAMES[name]), name)
    raise AttributeError(f"module 'crackle.sim' has no attribute {name!r}")
