"""How many threads torch may use, for a block of work (torch imported when used)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["torch_threads"]


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """torch on ``n`` threads for the block, restored after. For work that is parallel
    already (one draw per thread) or made of small products: one thread was 2-3x faster
    than two for the experiments' products on the shared 2-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
