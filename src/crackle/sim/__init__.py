"""Generators with known physics (loaded lazily by ``import crackle``).

``branching_process`` is numpy only. The torch-based finite-width Monte Carlo
(``simulate_finite_width``, ``compare_with_mean_field``) loads torch on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from crackle.sim.branching import branching_process

__all__ = ["branching_process", "compare_with_mean_field", "simulate_finite_width"]

_TORCH_NAMES = {"simulate_finite_width", "compare_with_mean_field"}


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module("crackle.sim.finite_width"), name)
    raise AttributeError(f"module 'crackle.sim' has no attribute {name!r}")
