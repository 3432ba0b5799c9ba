"""Stable keys and seeds of sweep points.

A point's key is a hash of its canonical form (experiment name, every parameter after
validation, replicate index), so the same point has the same key on every machine,
in every run and whatever the order of the grid. Its seed comes from a
:class:`numpy.random.SeedSequence` over the sweep's base seed and that key, so a
point's numbers depend on neither the worker that ran it nor what ran before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["canonical_json", "point_key", "point_seed"]

_KEY_HEX = 20  # 80 bits: collisions are out of reach for any sweep one could run


def canonical_json(obj: Any) -> str:
    """One text per value: sorted keys, no spaces, floats as ``repr`` does.

    Examples
    --------
    >>> canonical_json({"b": 1.0, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1.0}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def point_key(experiment: str, params: Mapping[str, Any], replicate: int = 0) -> str:
    """Hex key of a point: a SHA-256 prefix of its canonical JSON.

    Parameters
    ----------
    experiment : str
        Name of the registered experiment.
    params : mapping
        Every parameter of the point, JSON-safe (as ``model_dump(mode="json")`` gives).
    replicate : int
        Index of the repeat (0 when the sweep has ``repeats = 1``).

    Examples
    --------
    >>> point_key("meanfield", {"sigma_w2": 1.0, "sigma_b2": 0.0})
    '247dd0fceeeb71067ff0'
    >>> point_key("meanfield", {"sigma_b2": 0.0, "sigma_w2": 1.0})  # order does not matter
    '247dd0fceeeb71067ff0'
    """
    text = canonical_json(
        {"experiment": experiment, "params": dict(params), "replicate": replicate}
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:_KEY_HEX]


def point_seed(base_seed: int, key: str) -> int:
    """Seed of the point with ``key`` in a sweep with ``base_seed`` (a non-negative int < 2**63).

    Examples
    --------
    >>> point_seed(0, "247dd0fceeeb71067ff0") == point_seed(0, "247dd0fceeeb71067ff0")
    True
    >>> point_seed(0, "247dd0fceeeb71067ff0") != point_seed(1, "247dd0fceeeb71067ff0")
    True
    """
    words = [int(key[i : i + 8], 16) for i in range(0, len(key), 8)]
    ss = np.random.SeedSequence(entropy=[int(base_seed), *words])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
