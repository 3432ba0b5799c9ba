"""Training-side code: offline data loaders (IDX image sets, sklearn digits, English
prose for character-level language models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crackle.train.data import (
    FASHION_MNIST_ROOT,
    IDXFormatError,
    load_digits,
    load_fashion_mnist,
    load_idx_dataset,
    load_mnist,
    read_idx,
)
from crackle.train.text import JARGON_FILE, CharVocab, TextCorpus, load_text

if TYPE_CHECKING:
    from crackle.train.monitor import CriticalityMonitor
    from crackle.train.regularizer import CriticalityPenalty, jvp_branching, jvp_lyapunov

# The criticality penalty and monitor need torch: imported on first use, so that the
# data loaders stay torch-free.
_TORCH_NAMES = {
    "CriticalityMonitor": "crackle.train.monitor",
    "CriticalityPenalty": "crackle.train.regularizer",
    "jvp_branching": "crackle.train.regularizer",
    "jvp_lyapunov": "crackle.train.regularizer",
}

__all__ = [
    "FASHION_MNIST_ROOT",
    "JARGON_FILE",
    "CharVocab",
    "CriticalityMonitor",
    "CriticalityPenalty",
    "IDXFormatError",
    "TextCorpus",
    "jvp_branching",
    "jvp_lyapunov",
    "load_digits",
    "load_fashion_mnist",
    "load_idx_dataset",
    "load_mnist",
    "load_text",
    "read_idx",
]


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        import importlib

        return getattr(importlib.import_module(_TORCH_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
