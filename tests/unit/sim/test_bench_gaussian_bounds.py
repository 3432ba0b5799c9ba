"""The random-number bound that benchmarks/bench_gaussian.py prints: counted right."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from crackle.events.avalanches import Avalanches

sys.path.insert(0, str(Path(__file__).parents[3] / "benchmarks"))
bench = pytest.importorskip("bench_gaussian")


def _draw() -> Avalanches:
    # Rows per input (layers it enters), depth 5: T = 1 -> 2, T = 3 -> 4, censored -> 5,
    # empty -> 1. Live inputs per layer: 4, 3, 2, 2, 1.
    return Avalanches(
        np.array([1.0, 3.0]),
        np.array([1, 3]),
        np.array([5.0]),
        np.array([5]),
        n_empty=1,
    )


def test_normals_counted_per_layer_with_rank_min_m_n() -> None:
    d = _draw()
    assert bench.rows_processed([d], 5) == 4 + 3 + 2 + 2 + 1
    # N = 4: every layer has m <= N, so m N numbers, plus N per input.
    assert bench.normals_needed([d], 4, 5) == 4 * (4 + 12)
    # N = 2: layers with more live inputs than N need only N^2 (rank N).
    assert bench.normals_needed([d], 2, 5) == 2 * (4 + (2 + 2 + 2 + 2 + 1))
    # Draws add up.
    assert bench.normals_needed([d, d], 4, 5) == 2 * 4 * (4 + 12)
