"""Data, models and the training loop of the recurrent-criticality experiment (``lstm.py``).

Next-character prediction on English prose (``crackle.train.load_text``): an LSTM
(:class:`CharLM`) or a small causal transformer
(:class:`crackle.experiments._transformer.CharTransformer`) of matched parameter
count. Training continues past the validation minimum until ``patience`` steps have
passed without a new minimum (or ``max_steps``); every checkpoint's weights are kept
in memory for the analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CharLM", "TextTask", "build_model", "evaluate", "make_text_task", "train_model"]


class CharLM(nn.Module):
    """Character-level language model: embedding, LSTM, linear read-out per step."""

    def __init__(self, vocab: int, hidden: int, embed: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(x))
        logits: torch.Tensor = self.head(out)
        return logits


@dataclass(frozen=True)
class TextTask:
    """Token ids: the training text, validation windows, held-out analysis sequences."""

    vocab: int
    train: torch.Tensor = field(repr=False)  # (n_chars,)
    val: torch.Tensor = field(repr=False)  # (n_val, seq_len + 1)
    eval_x: torch.Tensor = field(repr=False)  # (n_eval, eval_len)
    info: dict[str, Any] = field(default_factory=dict)


def _windows(ids: np.ndarray, n: int, length: int) -> np.ndarray:
    """``n`` evenly spaced windows of ``length`` from ``ids`` (n, length)."""
    starts = np.linspace(0, ids.size - length, n).astype(np.int64)
    return np.stack([ids[s : s + length] for s in starts])


def make_text_task(cfg: Any) -> TextTask:
    """The first 90 % of the text for training (at most ``cfg.train_chars`` of it),
    the last 10 % held out: its first half for validation windows, its second half
    for the analysis sequences (so the best step is not chosen on the analysed text)."""
    from crackle.train import load_text

    corpus = load_text(cfg.text_path, min_count=cfg.text_min_count, max_chars=cfg.text_max_chars)
    ids = corpus.encode()
    cut = int(ids.size * 0.9)
    train = ids[:cut] if cfg.train_chars is None else ids[: min(cut, cfg.train_chars)]
    held = ids[cut:]
    val_part, eval_part = held[: held.size // 2], held[held.size // 2 :]
    for part, need, what in (
        (val_part, cfg.seq_len + 1, "validation"),
        (eval_part, cfg.eval_len, "analysis"),
    ):
        if part.size < need:
            raise ValueError(
                f"the {what} half of the held-out 10 % of the text has {part.size} "
                f"characters; it needs at least {need} (use a longer text or shorter sequences)"
            )
    val = _windows(val_part, cfg.val_windows, cfg.seq_len + 1)
    ev = _windows(eval_part, cfg.eval_sequences, cfg.eval_len)
    n_distinct = int(np.unique(np.linspace(0, eval_part.size - cfg.eval_len,
                                           cfg.eval_sequences).astype(int)).size)  # fmt: skip
    return TextTask(
        vocab=len(corpus.vocab),
        train=torch.from_numpy(train),
        val=torch.from_numpy(val),
        eval_x=torch.from_numpy(ev),
        info={
            **corpus.to_dict(),
            "n_train_chars": int(train.size),
            "n_held_out": int(held.size),
            "n_val_windows": int(val.shape[0]),
            "n_eval": int(ev.shape[0]),
            "n_eval_distinct_starts": n_distinct,
            "eval_overlap": bool(cfg.eval_sequences * cfg.eval_len > eval_part.size),
            "steps_per_sequence": int(ev.shape[1]),
        },
    )


def build_model(kind: str, vocab: int, size: int, cfg: Any) -> nn.Module:
    """An LSTM of hidden size ``size`` or a transformer of width ``size``."""
    if kind == "lstm":
        return CharLM(vocab, size)
    from crackle.experiments._transformer import CharTransformer

    return CharTransformer(
        vocab, size, n_layers=cfg.transformer_layers, n_heads=cfg.transformer_heads,
        window=cfg.seq_len,
    )  # fmt: skip


def _batch(task: TextTask, size: int, seq_len: int, gen: torch.Generator) -> tuple[Any, Any]:
    starts = torch.randint(0, task.train.numel() - seq_len - 1, (size,), generator=gen)
    win = task.train[starts[:, None] + torch.arange(seq_len + 1)]
    return win[:, :-1], win[:, 1:]


def _loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[Any, Any]:
    logits = model(x)
    logits = logits.reshape(-1, logits.shape[-1])
    y = y.reshape(-1)
    return F.cross_entropy(logits, y), (logits.argmax(-1) == y).float().mean()


@torch.no_grad()
def evaluate(task: TextTask, model: nn.Module) -> tuple[float, float]:
    """Validation loss (mean cross-entropy, nats per character) and accuracy."""
    was = model.training
    model.eval()
    x, y = task.val[:, :-1], task.val[:, 1:]
    losses, accs, ns = [], [], []
    for s in range(0, x.shape[0], 256):
        loss, acc = _loss(model, x[s : s + 256], y[s : s + 256])
        losses.append(float(loss))
        accs.append(float(acc))
        ns.append(min(256, x.shape[0] - s))
    model.train(was)
    return float(np.average(losses, weights=ns)), float(np.average(accs, weights=ns))


def train_model(
    task: TextTask,
    kind: str,
    size: int,
    cfg: Any,
    seed: int,
    tick: Callable[[int], None] | None = None,
) -> tuple[nn.Module, list[dict[str, Any]], dict[int, dict[str, torch.Tensor]]]:
    """Train one model with Adam and early-stopping patience.

    Validates at step 0 and every ``cfg.checkpoint_every`` steps; stops once the
    lowest validation loss is ``cfg.patience`` steps old (training has gone that far
    past the minimum) or at ``cfg.max_steps``. Returns the model, one row per
    checkpoint (step, val_loss, val_acc) and the weights of every checkpoint.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build_model(kind, task.vocab, size, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rows: list[dict[str, Any]] = []
    weights: dict[int, dict[str, torch.Tensor]] = {}
    best = (float("inf"), 0)

    def checkpoint(step: int) -> None:
        nonlocal best
        weights[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        val_loss, val_acc = evaluate(task, model)
        rows.append({"step": step, "val_loss": val_loss, "val_acc": val_acc})
        if val_loss < best[0]:
            best = (val_loss, step)

    checkpoint(0)
    model.train()
    for step in range(1, cfg.max_steps + 1):
        x, y = _batch(task, cfg.batch_size, cfg.seq_len, gen)
        loss, _ = _loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        if tick is not None:
            tick(1)
        if step % cfg.checkpoint_every == 0 or step == cfg.max_steps:
            checkpoint(step)
            if step - best[1] >= cfg.patience:
                break
    return model, rows, weights
