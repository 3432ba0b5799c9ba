"""Training-side code: offline data loaders (IDX image sets, sklearn digits, English
prose for character-level language models).

Names load on first use (PEP 562). The criticality penalty and monitor need torch
(``pip install 'crackle[nn]'``); the data loaders do not.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from crackle import _lazy
from crackle._extras import require

if TYPE_CHECKING:
    from crackle.train.data import (
        FASHION_MNIST_ROOT,
        IDXFormatError,
        load_digits,
        load_fashion_mnist,
        load_idx_dataset,
        load_mnist,
        read_idx,
    )
    from crackle.train.monitor import CriticalityMonitor
    from crackle.train.regularizer import CriticalityPenalty, jvp_branching, jvp_lyapunov
    from crackle.train.text import JARGON_FILE, CharVocab, TextCorpus, load_text

_TORCH_NAMES = {
    "CriticalityMonitor": "monitor",
    "CriticalityPenalty": "regularizer",
    "jvp_branching": "regularizer",
    "jvp_lyapunov": "regularizer",
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

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "FASHION_MNIST_ROOT": "data",
        "IDXFormatError": "data",
        "load_digits": "data",
        "load_fashion_mnist": "data",
        "load_idx_dataset": "data",
        "load_mnist": "data",
        "read_idx": "data",
        "JARGON_FILE": "text",
        "CharVocab": "text",
        "TextCorpus": "text",
        "load_text": "text",
        **_TORCH_NAMES,
    },
    before={
        name: partial(require, "torch", extra="nn", feature=f"crackle.train.{name}")
        for name in _TORCH_NAMES
    },
)
