"""A small causal transformer language model for the recurrent-criticality experiment.

Character-level, pre-LayerNorm blocks (Xiong et al. 2020, arXiv 2002.04745), causal
self-attention restricted to the last ``window`` positions, and ALiBi position
biases (Press, Smith & Lewis 2022, arXiv 2108.12409) instead of position embeddings.
With a sliding window and relative positions each layer looks back ``window - 1``
steps, the top layer ``n_layers (window - 1)`` steps, and the map from those
characters to a hidden state is the same at every step once that far in, so the
model can be read on held-out sequences much longer than its training windows and
its hidden states form a time series with stationary statistics, like an LSTM's:
the multistep-regression estimator needs such trials.

:func:`layer_states` returns the residual stream after every block, shape
(n_layers, n_sequences, T, d_model); :func:`matched_width` picks the width whose
parameter count is closest to a target (an LSTM's).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn import functional as F

__all__ = [
    "CharTransformer",
    "layer_states",
    "lstm_parameters",
    "matched_width",
    "n_parameters",
    "transformer_parameters",
]


def _alibi_slopes(n_heads: int) -> torch.Tensor:
    """Head slopes 2^(-8 h / n_heads), h = 1..n_heads (Press et al. 2022)."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / n_heads) for h in range(n_heads)])


def attention_bias(t: int, window: int, slopes: torch.Tensor) -> torch.Tensor:
    """Additive attention bias of shape (n_heads, t, t): -slope * (i - j) for
    0 <= i - j < window, -inf elsewhere (future positions and those beyond the window)."""
    i = torch.arange(t)[:, None]
    j = torch.arange(t)[None, :]
    dist = (i - j).float()
    allowed = (dist >= 0) & (dist < window)
    bias = -slopes[:, None, None] * dist[None]
    return bias.masked_fill(~allowed[None], float("-inf"))


class _Block(nn.Module):
    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        hd = d // self.n_heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (a.reshape(n, t, self.n_heads, hd).transpose(1, 2) for a in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd) + bias
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(n, t, d)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    """Causal character-level transformer: embedding, ``n_layers`` pre-LN blocks with
    ALiBi attention over the last ``window`` characters, final LayerNorm, read-out.

    ``forward(x)`` takes token ids of shape (n, T) and returns logits (n, T, vocab);
    the output at step t depends on the inputs at steps t - n_layers (window - 1) .. t
    only (each block attends to the last ``window`` positions).
    """

    slopes: torch.Tensor

    def __init__(
        self, vocab: int, d_model: int, *, n_layers: int = 2, n_heads: int = 2, window: int = 64
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model = {d_model} is not a multiple of n_heads = {n_heads}")
        self.window = window
        self.embed = nn.Embedding(vocab, d_model)
        self.blocks = nn.ModuleList(_Block(d_model, n_heads) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("slopes", _alibi_slopes(n_heads), persistent=False)

    def states(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The residual stream after each block, each of shape (n, T, d_model)."""
        bias = attention_bias(x.shape[1], self.window, self.slopes).to(self.embed.weight.device)
        h = self.embed(x)
        out = []
        for block in self.blocks:
            h = block(h, bias)
            out.append(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.ln_f(self.states(x)[-1]))
        return logits


@torch.no_grad()
def layer_states(
    model: CharTransformer, x: torch.Tensor, batch_size: int = 64
) -> NDArray[np.float32]:
    """Hidden states of every block on ``x`` (n, T): shape (n_layers, n, T, d_model)."""
    was = model.training
    model.eval()
    try:
        parts = [
            torch.stack(model.states(x[s : s + batch_size])).numpy()
            for s in range(0, x.shape[0], batch_size)
        ]
    finally:
        model.train(was)
    return np.concatenate(parts, axis=1).astype(np.float32)


def n_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def lstm_parameters(vocab: int, hidden: int, embed: int = 32) -> int:
    """Parameters of ``CharLM(vocab, hidden, embed)``: embedding, one LSTM layer
    (4 gates, two bias vectors), read-out."""
    return vocab * embed + 4 * hidden * (embed + hidden + 2) + hidden * vocab + vocab


def transformer_parameters(vocab: int, d: int, n_layers: int) -> int:
    """Parameters of ``CharTransformer(vocab, d, n_layers=n_layers)``."""
    block = (3 * d * d + 3 * d) + (d * d + d) + 2 * (4 * d * d) + 5 * d + 4 * d
    return vocab * d + n_layers * block + 2 * d + d * vocab + vocab


def matched_width(vocab: int, target: int, *, n_layers: int = 2, n_heads: int = 2) -> int:
    """The d_model (a multiple of ``n_heads``, >= 2 per head) whose transformer has the
    parameter count closest to ``target`` (in ratio)."""
    ds = np.arange(2 * n_heads, 4097, n_heads)
    counts = np.array([transformer_parameters(vocab, int(d), n_layers) for d in ds], float)
    return int(ds[np.argmin(np.abs(np.log(counts / target)))])
