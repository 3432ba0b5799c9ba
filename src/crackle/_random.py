"""One way to turn a user's ``seed`` into a generator."""

from __future__ import annotations

import numpy as np

from crackle._validation import param_error

SeedLike = int | np.random.Generator | np.random.SeedSequence | None

__all__ = ["SeedLike", "as_generator", "seed_repr"]


def as_generator(seed: SeedLike, func: str = "crackle") -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed``.

    A ``Generator`` is used as is (so the caller's stream advances); an int or
    ``SeedSequence`` seeds a fresh PCG64; ``None`` takes OS entropy.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.default_rng(int(seed))
    raise param_error("seed", func, "a non-negative int, a numpy Generator or None", seed)


def seed_repr(seed: SeedLike) -> int | str | None:
    """A JSON-safe record of ``seed`` for result objects."""
    if seed is None or isinstance(seed, int | np.integer):
        return None if seed is None else int(seed)
    return type(seed).__name__
