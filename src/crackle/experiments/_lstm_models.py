"""Models, data and the training loop of the LSTM experiment (``lstm.py``).

Two tasks on real sequences: images read row by row (sequential Fashion-MNIST: 28
steps of 28 pixels; sklearn digits: 8 steps of 8 pixels, for fast tests) with the
class read out from the last hidden state, and next-character prediction on English
prose (``crackle.train.load_text``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from crackle.io.atomic import atomic_path

__all__ = ["CharLM", "SequenceClassifier", "TaskData", "build_model", "make_task", "train_model"]


class SequenceClassifier(nn.Module):
    """LSTM over the rows of an image; a linear read-out of the last hidden state."""

    def __init__(self, n_inputs: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class CharLM(nn.Module):
    """Character-level language model: embedding, LSTM, linear read-out per step."""

    def __init__(self, vocab: int, hidden: int, embed: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(x))
        return self.head(out)


@dataclass(frozen=True)
class TaskData:
    """Tensors of one task: training pool, validation set, held-out analysis sequences."""

    name: str
    kind: str  # "classify" or "lm"
    n_inputs: int  # features per step, or the vocabulary size
    n_outputs: int
    train_x: torch.Tensor = field(repr=False)
    train_y: torch.Tensor = field(repr=False)  # labels; unused for "lm"
    val_x: torch.Tensor = field(repr=False)
    val_y: torch.Tensor = field(repr=False)
    eval_x: torch.Tensor = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)


def _images(name: str, cfg: Any, rng: np.random.Generator) -> TaskData:
    from crackle.train import load_digits, load_fashion_mnist

    if name == "fmnist":
        x_tr, y_tr = load_fashion_mnist("train", root=cfg.fashion_root)
        x_te, y_te = load_fashion_mnist("test", root=cfg.fashion_root)
        source = str(cfg.fashion_root or "dataset-fashion-mnist")
    else:  # digits: a fixed random split of the 1797 images, 1497 / 300
        x, y = load_digits()
        order = np.random.default_rng(12345).permutation(len(y))
        x_tr, y_tr, x_te, y_te = x[order[300:]], y[order[300:]], x[order[:300]], y[order[:300]]
        source = "sklearn.datasets.load_digits"
    pick = rng.permutation(len(y_tr))[: min(cfg.train_subset, len(y_tr))]
    val = np.arange(min(cfg.val_size, len(y_te)))
    n_eval = min(cfg.eval_sequences, val.size)

    def as_x(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / 255.0)

    return TaskData(
        name=name,
        kind="classify",
        n_inputs=int(x_tr.shape[2]),
        n_outputs=10,
        train_x=as_x(x_tr[pick]),
        train_y=torch.from_numpy(y_tr[pick]),
        val_x=as_x(x_te[val]),
        val_y=torch.from_numpy(y_te[val]),
        eval_x=as_x(x_te[val[:n_eval]]),
        info={
            "source": source,
            "n_train": int(pick.size),
            "n_val": int(val.size),
            "n_eval": n_eval,
            "steps_per_sequence": int(x_tr.shape[1]),
        },
    )


def _windows(ids: np.ndarray, n: int, length: int) -> np.ndarray:
    """``n`` evenly spaced windows of ``length`` from ``ids`` (n, length)."""
    starts = np.linspace(0, ids.size - length, n).astype(np.int64)
    return np.stack([ids[s : s + length] for s in starts])


def _text(cfg: Any) -> TaskData:
    from crackle.train import load_text

    corpus = load_text(cfg.text_path, min_count=cfg.text_min_count, max_chars=cfg.text_max_chars)
    ids = corpus.encode()
    cut = int(ids.size * 0.9)
    train, held = ids[:cut], ids[cut:]
    need = max(cfg.text_eval_len, cfg.text_seq_len + 1)
    if held.size < need:
        raise ValueError(
            f"the held-out 10 % of the text has {held.size} characters; the experiment "
            f"needs at least {need} (use a longer text or shorter sequences)"
        )
    val = _windows(held, cfg.val_size_text, cfg.text_seq_len + 1)
    ev = _windows(held, cfg.text_eval_sequences, cfg.text_eval_len)
    return TaskData(
        name="text",
        kind="lm",
        n_inputs=len(corpus.vocab),
        n_outputs=len(corpus.vocab),
        train_x=torch.from_numpy(train),
        train_y=torch.zeros(0, dtype=torch.int64),
        val_x=torch.from_numpy(val),
        val_y=torch.zeros(0, dtype=torch.int64),
        eval_x=torch.from_numpy(ev),
        info={
            **corpus.to_dict(),
            "n_train_chars": int(train.size),
            "n_held_out": int(held.size),
            "n_eval": int(ev.shape[0]),
            "steps_per_sequence": int(ev.shape[1]),
        },
    )


def make_task(name: str, cfg: Any, rng: np.random.Generator) -> TaskData:
    """The data of task ``name`` ("fmnist", "digits" or "text")."""
    return _text(cfg) if name == "text" else _images(name, cfg, rng)


def build_model(task: TaskData, hidden: int) -> nn.Module:
    if task.kind == "lm":
        return CharLM(task.n_inputs, hidden)
    return SequenceClassifier(task.n_inputs, hidden, task.n_outputs)


def _batch(task: TaskData, size: int, seq_len: int, gen: torch.Generator) -> tuple[Any, Any]:
    if task.kind == "classify":
        idx = torch.randint(0, task.train_x.shape[0], (size,), generator=gen)
        return task.train_x[idx], task.train_y[idx]
    starts = torch.randint(0, task.train_x.numel() - seq_len - 1, (size,), generator=gen)
    win = task.train_x[starts[:, None] + torch.arange(seq_len + 1)]
    return win[:, :-1], win[:, 1:]


def _loss(task: TaskData, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[Any, Any]:
    logits = model(x)
    if task.kind == "lm":
        logits = logits.reshape(-1, logits.shape[-1])
        y = y.reshape(-1)
    loss = F.cross_entropy(logits, y)
    acc = (logits.argmax(-1) == y).float().mean()
    return loss, acc


@torch.no_grad()
def evaluate(task: TaskData, model: nn.Module) -> tuple[float, float]:
    """Validation loss (mean cross-entropy, nats) and accuracy."""
    model.eval()
    if task.kind == "lm":
        x, y = task.val_x[:, :-1], task.val_x[:, 1:]
    else:
        x, y = task.val_x, task.val_y
    losses, accs, ns = [], [], []
    for s in range(0, x.shape[0], 512):
        loss, acc = _loss(task, model, x[s : s + 512], y[s : s + 512])
        losses.append(float(loss))
        accs.append(float(acc))
        ns.append(min(512, x.shape[0] - s))
    model.train()
    return float(np.average(losses, weights=ns)), float(np.average(accs, weights=ns))


def train_model(
    task: TaskData,
    hidden: int,
    cfg: Any,
    ckpt_dir: Path,
    seed: int,
    tick: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Train one model with Adam; save a state dict and validate every
    ``cfg.checkpoint_every`` steps (step 0 included). One dict per checkpoint."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build_model(task, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []

    def checkpoint(step: int) -> None:
        path = ckpt_dir / f"step{step:07d}.pt"
        with atomic_path(path) as tmp:
            torch.save(model.state_dict(), tmp)
        val_loss, val_acc = evaluate(task, model)
        rows.append({"step": step, "val_loss": val_loss, "val_acc": val_acc, "path": str(path)})

    checkpoint(0)
    model.train()
    for step in range(1, cfg.steps + 1):
        x, y = _batch(task, cfg.batch_size, cfg.text_seq_len, gen)
        loss, _ = _loss(task, model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            checkpoint(step)
        if tick is not None:
            tick(1)
    return rows
