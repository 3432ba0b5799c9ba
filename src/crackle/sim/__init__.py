"""Generators with known physics (loaded lazily by ``import crackle``).

``branching_process`` and the null models (``iid_poisson_activity``,
``lognormal_avalanches``, ``stretched_exponential_avalanches``) are numpy only. The
torch-based finite-width Monte Carlo (``simulate_finite_width``,
``compare_with_mean_field``) and the Gaussian-network avalanche simulator
(``gaussian_avalanches``) load torch on first use (``pip install 'crackle[nn]'``).
Every name loads on first use (PEP 562).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from crackle import _lazy
from crackle._extras import require

if TYPE_CHECKING:
    from crackle.sim.branching import branching_process
    from crackle.sim.driven import (
        DrivenActivity,
        driven_branching_process,
        mixture_branching_process,
    )
    from crackle.sim.finite_width import compare_with_mean_field, simulate_finite_width
    from crackle.sim.gaussian import gaussian_avalanches, iter_gaussian_avalanches
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
    "simulate_finite_width": "finite_width",
    "compare_with_mean_field": "finite_width",
    "gaussian_avalanches": "gaussian",
    "iter_gaussian_avalanches": "gaussian",
}


__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "branching_process": "branching",
        "DrivenActivity": "driven",
        "driven_branching_process": "driven",
        "mixture_branching_process": "driven",
        "iid_poisson_activity": "nulls",
        "lognormal_avalanches": "nulls",
        "stretched_exponential_avalanches": "nulls",
        "branching_network_spikes": "spiking",
        **_TORCH_NAMES,
    },
    before={
        name: partial(require, "torch", extra="nn", feature=f"crackle.sim.{name}")
        for name in _TORCH_NAMES
    },
)
